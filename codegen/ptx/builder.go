package ptx

import (
	"fmt"
	"strings"
)

// builder is the linear walk that writes one kernel: every value it makes gets a fresh typed
// virtual register, every instruction is recorded as an inst, and finish renders them through
// the op table, declaring the register counts of each class at the top of the entry.
type builder struct {
	name    string
	params  []string
	body    []inst
	counts  [numClasses]int
	labels  int
	shared  []sharedVar
	guard   *reg // applied to the instructions emitted inside guarded
	gNeg    bool
	maxntid [3]int
	err     error // the first misuse, reported by finish
}

type sharedVar struct {
	name  string
	bytes int
}

func newBuilder(name string, block [3]int, params ...string) *builder {
	return &builder{name: name, params: params, maxntid: block}
}

// fail records the first error of the walk.
func (b *builder) fail(format string, args ...any) {
	if b.err == nil {
		b.err = fmt.Errorf("ptx: kernel %s: %s", b.name, fmt.Sprintf(format, args...))
	}
}

// reg makes a fresh virtual register of type t.
func (b *builder) reg(t typ) reg {
	c := t.class()
	r := reg{t: t, n: b.counts[c]}
	b.counts[c]++
	return r
}

func (b *builder) emit(in inst) {
	if b.guard != nil && in.guard == nil && in.label == "" {
		in.guard, in.neg = b.guard, b.gNeg
	}
	b.body = append(b.body, in)
}

// typeOf is the type of an operand (tNone for addresses and names).
func typeOf(o operand) typ {
	switch v := o.(type) {
	case reg:
		return v.t
	case imm:
		return v.t
	}
	return tNone
}

// ins emits dst = op(srcs) with instruction type t.
func (b *builder) ins(o op, t typ, dst operand, srcs ...operand) {
	b.emit(inst{op: o, t: t, dst: dst, srcs: srcs})
}

// arith emits a fresh register of the type of the first register operand = o(srcs).
func (b *builder) arith(o op, srcs ...operand) reg {
	t := tNone
	for _, s := range srcs {
		if r, ok := s.(reg); ok {
			t = r.t
			break
		}
	}
	if t == tNone {
		t = typeOf(srcs[0])
	}
	d := b.reg(t)
	b.ins(o, t, d, srcs...)
	return d
}

// isInt reports whether o is the integer immediate v.
func isInt(o operand, v uint64) bool {
	i, ok := o.(imm)
	return ok && i.t != tF32 && i.bits == v
}

// add, sub and mul of integers skip adding 0 and multiplying by 1 (the results of arith are
// never written again, so returning an operand register is safe).
func (b *builder) add(x, y operand) reg {
	if r, ok := x.(reg); ok && isInt(y, 0) {
		return r
	}
	return b.arith(opAdd, x, y)
}
func (b *builder) sub(x, y operand) reg {
	if r, ok := x.(reg); ok && isInt(y, 0) {
		return r
	}
	return b.arith(opSub, x, y)
}
func (b *builder) mul(x, y operand) reg {
	if r, ok := x.(reg); ok && isInt(y, 1) {
		return r
	}
	return b.arith(opMul, x, y)
}
func (b *builder) mad(x, y, z operand) reg   { return b.arith(opMad, x, y, z) }
func (b *builder) fma(x, y, z operand) reg   { return b.arith(opFma, x, y, z) }
func (b *builder) div(x, y operand) reg      { return b.arith(opDiv, x, y) }
func (b *builder) rem(x, y operand) reg      { return b.arith(opRem, x, y) }
func (b *builder) min(x, y operand) reg      { return b.arith(opMin, x, y) }
func (b *builder) max(x, y operand) reg      { return b.arith(opMax, x, y) }
func (b *builder) xor(x, y operand) reg      { return b.arith(opXor, x, y) }
func (b *builder) and(x, y operand) reg      { return b.arith(opAnd, x, y) }
func (b *builder) shl(x operand, n int) reg  { return b.arith(opShl, x, u32(n)) }
func (b *builder) shr(x operand, n int) reg  { return b.arith(opShr, x, u32(n)) }
func (b *builder) neg(x operand) reg         { return b.arith(opNeg, x) }
func (b *builder) unary(o op, x operand) reg { return b.arith(o, x) }

// mulWide is the 64-bit product of two u32 (or two s32) values.
func (b *builder) mulWide(x, y operand) reg {
	t := typeOf(x)
	d := b.reg(map[bool]typ{true: tS64, false: tU64}[t == tS32])
	b.ins(opMulWide, t, d, x, y)
	return d
}

// set writes src into the existing register dst.
func (b *builder) set(dst reg, src operand) { b.ins(opMov, dst.t, dst, src) }

// to emits dst = o(srcs) into an existing register.
func (b *builder) to(dst reg, o op, srcs ...operand) { b.ins(o, dst.t, dst, srcs...) }

// mov is a fresh register holding src.
func (b *builder) mov(t typ, src operand) reg {
	d := b.reg(t)
	b.ins(opMov, t, d, src)
	return d
}

// setp compares x and y (of the type of x) with cmp (eq, ne, lt, le, gt, ge, lo, hs, ...).
func (b *builder) setp(cmp string, x, y operand) reg {
	t := typeOf(x)
	if t == tNone || t == tPred {
		t = typeOf(y)
	}
	d := b.reg(tPred)
	b.emit(inst{op: opSetp, t: t, mod: cmp, dst: d, srcs: []operand{x, y}})
	return d
}

// selp is p ? x : y.
func (b *builder) selp(x, y operand, p reg) reg {
	t := typeOf(x)
	if _, ok := x.(reg); !ok {
		if r, ok := y.(reg); ok {
			t = r.t
		}
	}
	d := b.reg(t)
	b.ins(opSelp, t, d, x, y, p)
	return d
}

// cvt converts src to type t with rounding rnd ("" for none).
func (b *builder) cvt(t typ, rnd string, src operand) reg {
	d := b.reg(t)
	b.emit(inst{op: opCvt, t: t, mod: rnd, dst: d, srcs: []operand{src}})
	return d
}

// raw emits an instruction written out in full (memory, barriers, shuffles, mma).
func (b *builder) raw(mnemonic string, dst operand, srcs ...operand) {
	b.emit(inst{op: opRaw, mod: mnemonic, dst: dst, srcs: srcs})
}

// special reads a special register (%tid.x, %ctaid.z, ...) into a u32.
func (b *builder) special(name string) reg {
	d := b.reg(tU32)
	b.raw("mov.u32", d, sym(name))
	return d
}

// newLabel returns a fresh label name.
func (b *builder) newLabel(hint string) string {
	b.labels++
	return fmt.Sprintf("$L_%s_%d", hint, b.labels)
}

func (b *builder) place(label string) { b.emit(inst{label: label}) }
func (b *builder) bra(label string)   { b.raw("bra.uni", nil, sym(label)) }
func (b *builder) braIf(p reg, label string) {
	b.emit(inst{op: opRaw, mod: "bra", srcs: []operand{sym(label)}, guard: &p})
}
func (b *builder) braIfNot(p reg, label string) {
	b.emit(inst{op: opRaw, mod: "bra", srcs: []operand{sym(label)}, guard: &p, neg: true})
}

// guarded emits body with every instruction predicated on p (on !p when neg).
func (b *builder) guarded(p reg, neg bool, body func()) {
	if b.guard != nil {
		b.fail("nested guarded blocks")
		return
	}
	b.guard, b.gNeg = &p, neg
	body()
	b.guard = nil
}

// ifThen runs body only where p holds (a branch around it).
func (b *builder) ifThen(p reg, body func()) {
	skip := b.newLabel("skip")
	b.braIfNot(p, skip)
	body()
	b.place(skip)
}

// loop runs body(i) for i = from, from+step, ... while i < to (u32 compare; to is an
// immediate or a register). The counter is a u32 register; the test is at the top, so a
// loop of no trips runs no body.
func (b *builder) loop(from operand, to operand, step int, body func(i reg)) {
	i := b.mov(tU32, from)
	head, end := b.newLabel("loop"), b.newLabel("done")
	b.place(head)
	b.braIf(b.setp("hs", i, to), end)
	body(i)
	b.to(i, opAdd, i, u32(step))
	b.bra(head)
	b.place(end)
}

// bar is a barrier of the whole block.
func (b *builder) bar() { b.raw("bar.sync", nil, u32(0)) }

// param loads a .u64 kernel parameter.
func (b *builder) param(name string) reg {
	d := b.reg(tU64)
	b.raw("ld.param.u64", d, addr{base: sym("p_" + name)})
	return d
}

// gptr loads a pointer parameter as a global address.
func (b *builder) gptr(name string) reg {
	p := b.param(name)
	d := b.reg(tU64)
	b.raw("cvta.to.global.u64", d, p)
	return d
}

// param32 loads a u64 parameter and keeps its low 32 bits.
func (b *builder) param32(name string) reg {
	return b.cvt(tU32, "", b.param(name))
}

// elem is the address of element idx (u32) of size bytes past base (u64).
func (b *builder) elem(base reg, idx operand, size int) reg {
	return b.add(base, b.mulWide(idx, u32(size)))
}

// ld loads one value of type t from space ("global", "global.nc", "shared").
func (b *builder) ld(space string, t typ, a addr) reg {
	d := b.reg(t)
	b.raw("ld."+space+"."+t.String(), d, a)
	return d
}

// ldTo loads into an existing register.
func (b *builder) ldTo(space string, d reg, a addr) { b.raw("ld."+space+"."+d.t.String(), d, a) }

// st stores v (of type t) to space.
func (b *builder) st(space string, t typ, a addr, v operand) {
	b.raw("st."+space+"."+t.String(), a, v)
}

// sharedArray declares a block-scope shared array of bytes and returns its name.
func (b *builder) sharedArray(name string, bytes int) sym {
	full := "s_" + name
	b.shared = append(b.shared, sharedVar{name: full, bytes: bytes})
	return sym(full)
}

// sharedBase is the 32-bit shared address of a shared array.
func (b *builder) sharedBase(s sym) reg {
	d := b.reg(tU32)
	b.raw("mov.u32", d, s)
	return d
}

// sharedBytes is the static shared memory the kernel declares.
func (b *builder) sharedBytes() int {
	n := 0
	for _, s := range b.shared {
		n = (n+15)&^15 + s.bytes
	}
	return n
}

// finish renders the entry. Text is a function of the walk alone (no map order, no clocks).
func (b *builder) finish() (string, error) {
	if b.err != nil {
		return "", b.err
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, ".visible .entry %s(", b.name)
	for i, p := range b.params {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, "\n\t.param .u64 p_%s", p)
	}
	// No .maxntid: with it, ptxas trades registers for occupancy and spills a few bytes (seen
	// with CUDA 11.8 on 256-thread FMA tiles); without it the kernels stay spill-free, and no
	// kernel can use more registers than a launch of its block allows (255 x 256 < 64K).
	sb.WriteString("\n)\n{\n")
	for c := regClass(0); c < numClasses; c++ {
		if b.counts[c] > 0 {
			fmt.Fprintf(&sb, "\t.reg %s %s<%d>;\n", classDecl[c].typ, classDecl[c].prefix, b.counts[c])
		}
	}
	for _, s := range b.shared {
		fmt.Fprintf(&sb, "\t.shared .align 16 .b8 %s[%d];\n", s.name, s.bytes)
	}
	for i := range b.body {
		if err := b.body[i].render(&sb); err != nil {
			return "", fmt.Errorf("ptx: kernel %s: %w", b.name, err)
		}
	}
	sb.WriteString("\tret;\n}\n")
	return sb.String(), nil
}

// not is the negation of a predicate.
func (b *builder) not(p reg) reg { return b.arith(opNot, p) }
