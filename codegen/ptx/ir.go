package ptx

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// typ is the PTX type of a virtual register or of an instruction.
type typ uint8

const (
	tNone typ = iota
	tPred
	tU32
	tS32
	tB32
	tU64
	tS64
	tB64
	tF32
)

var typNames = [...]string{tNone: "", tPred: "pred", tU32: "u32", tS32: "s32", tB32: "b32", tU64: "u64", tS64: "s64", tB64: "b64", tF32: "f32"}

func (t typ) String() string { return typNames[t] }

// bits is the width of t in bits (1 for a predicate).
func (t typ) bits() int {
	switch t {
	case tPred:
		return 1
	case tU64, tS64, tB64:
		return 64
	}
	return 32
}

// bitType is the .bN type of the same width.
func (t typ) bitType() typ {
	switch t.bits() {
	case 1:
		return tPred
	case 64:
		return tB64
	}
	return tB32
}

// regClass is the register file a virtual register lives in; each class is declared once per
// kernel as %PREFIX<count>.
type regClass uint8

const (
	cPred regClass = iota
	c32
	c64
	cF32
	numClasses
)

var classDecl = [numClasses]struct{ prefix, typ string }{
	cPred: {"%p", ".pred"}, c32: {"%r", ".b32"}, c64: {"%rd", ".b64"}, cF32: {"%f", ".f32"},
}

func (t typ) class() regClass {
	switch {
	case t == tPred:
		return cPred
	case t == tF32:
		return cF32
	case t.bits() == 64:
		return c64
	}
	return c32
}

// operand is anything an instruction takes: a register, an immediate, an address, a name.
type operand interface{ text() string }

// reg is a typed virtual register. Registers are numbered per class in the order the kernel's
// walk creates them.
type reg struct {
	t typ
	n int
}

func (r reg) text() string { return classDecl[r.t.class()].prefix + strconv.Itoa(r.n) }

// imm is an immediate of a type: integers in decimal (hex for 64-bit bit patterns), f32 as
// 0fXXXXXXXX so that the value is exact.
type imm struct {
	t    typ
	bits uint64
}

func (i imm) text() string {
	switch i.t {
	case tF32:
		return fmt.Sprintf("0f%08X", uint32(i.bits))
	case tS32:
		return strconv.Itoa(int(int32(uint32(i.bits))))
	case tS64:
		return strconv.FormatInt(int64(i.bits), 10)
	case tU64, tB64:
		if i.bits > 1<<32 {
			return fmt.Sprintf("0x%016X", i.bits)
		}
	}
	return strconv.FormatUint(i.bits, 10)
}

func u32(v int) imm        { return imm{tU32, uint64(uint32(v))} }
func s32(v int) imm        { return imm{tS32, uint64(uint32(int32(v)))} }
func u64(v uint64) imm     { return imm{tU64, v} }
func f32(v float32) imm    { return imm{tF32, uint64(math.Float32bits(v))} }
func f32bits(b uint32) imm { return imm{tF32, uint64(b)} }

// sym is a name: a label, a shared variable, a special register, a kernel parameter.
type sym string

func (s sym) text() string { return string(s) }

// addr is [base+off]; base is a register or a symbol.
type addr struct {
	base operand
	off  int
}

func (a addr) text() string {
	switch {
	case a.off > 0:
		return fmt.Sprintf("[%s+%d]", a.base.text(), a.off)
	case a.off < 0:
		return fmt.Sprintf("[%s+%d]", a.base.text(), a.off) // PTX writes negative offsets as +-N
	}
	return "[" + a.base.text() + "]"
}

// vec is {a, b, ...}, the operand of vector memory accesses and mma.
type vec []reg

func (v vec) text() string {
	parts := make([]string, len(v))
	for i, r := range v {
		parts[i] = r.text()
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// inst is one instruction (or a label) of a kernel body: the op, its type, the destination
// and the sources; render turns it into text through the op table.
type inst struct {
	label string // a label line when non-empty
	op    op
	t     typ    // the instruction type (the last suffix)
	mod   string // the modifiers of an opRaw instruction, or the comparison of setp
	dst   operand
	srcs  []operand
	guard *reg // @guard (or @!guard when neg)
	neg   bool
}
