package ptx

import (
	"fmt"
	"strings"
)

// op is an operation of the kernel walk. Arithmetic ops get their mnemonic from opTable by
// the instruction type; opRaw instructions carry their modifiers in inst.mod.
type op uint8

const (
	opNone op = iota
	opMov
	opAdd
	opSub
	opMul     // low half for integers, .rn for f32
	opMulWide // u32 x u32 -> u64 (s32 -> s64)
	opMad     // low half, integers
	opFma     // f32, one rounding
	opDiv
	opRem
	opMin
	opMax
	opNeg
	opAnd
	opOr
	opXor
	opNot
	opShl
	opShr
	opSqrt
	opRcp
	opEx2
	opLg2
	opSetp // inst.mod holds the comparison
	opSelp
	opCvt // inst.mod holds the rounding, srcs[0]'s type the source type
	opRaw // inst.mod is the whole mnemonic
	numOps
)

// form says how an op's mnemonic is written for each kind of type: fl for .f32, in for the
// integer types ("" where the op does not exist for that kind). %t stands for the type.
type form struct{ fl, in string }

// opTable maps every typed op to its instruction format. f32 arithmetic is always written with
// an explicit rounding (.rn) so that ptxas never contracts a mul and an add into an fma: the
// kernels round as the CPU kernels they mirror do.
var opTable = [numOps]form{
	opMov:     {"mov.f32", "mov.%t"},
	opAdd:     {"add.rn.f32", "add.%t"},
	opSub:     {"sub.rn.f32", "sub.%t"},
	opMul:     {"mul.rn.f32", "mul.lo.%t"},
	opMulWide: {"", "mul.wide.%t"},
	opMad:     {"", "mad.lo.%t"},
	opFma:     {"fma.rn.f32", ""},
	opDiv:     {"div.rn.f32", "div.%t"},
	opRem:     {"", "rem.%t"},
	opMin:     {"min.f32", "min.%t"},
	opMax:     {"max.f32", "max.%t"},
	opNeg:     {"neg.f32", "neg.%t"},
	opAnd:     {"", "and.%b"},
	opOr:      {"", "or.%b"},
	opXor:     {"", "xor.%b"},
	opNot:     {"", "not.%b"},
	opShl:     {"", "shl.%b"},
	opShr:     {"", "shr.%t"},
	opSqrt:    {"sqrt.rn.f32", ""},
	opRcp:     {"rcp.rn.f32", ""},
	opEx2:     {"ex2.approx.f32", ""},
	opLg2:     {"lg2.approx.f32", ""},
	opSetp:    {"setp.%c.f32", "setp.%c.%t"},
	opSelp:    {"selp.f32", "selp.%t"},
	opCvt:     {"cvt%r.%d.%t", "cvt%r.%d.%t"},
}

// mnemonic resolves the mnemonic of in from the table.
func (in *inst) mnemonic() (string, error) {
	if in.op == opRaw {
		return in.mod, nil
	}
	if in.op <= opNone || in.op >= numOps {
		return "", fmt.Errorf("ptx: op %d has no format", in.op)
	}
	f := opTable[in.op]
	pattern := f.in
	if in.t == tF32 {
		pattern = f.fl
	}
	if in.t == tPred {
		pattern = strings.Replace(f.in, "%t", "pred", 1)
		if in.op == opMov {
			pattern = "mov.pred"
		}
	}
	if pattern == "" {
		return "", fmt.Errorf("ptx: op %d has no .%s form", in.op, in.t)
	}
	r := strings.NewReplacer("%t", in.t.String(), "%b", in.t.bitType().String(), "%c", in.mod)
	if in.op == opCvt {
		rnd := ""
		if in.mod != "" {
			rnd = "." + in.mod
		}
		var src typ
		switch s := in.srcs[0].(type) {
		case reg:
			src = s.t
		case imm:
			src = s.t
		}
		// cvt is written cvt.RND.DST.SRC: %d is the destination type, %t the source's.
		r = strings.NewReplacer("%r", rnd, "%d", in.t.String(), "%t", src.String())
	}
	return r.Replace(pattern), nil
}

// render writes one instruction line.
func (in *inst) render(sb *strings.Builder) error {
	if in.label != "" {
		sb.WriteString(in.label)
		sb.WriteString(":\n")
		return nil
	}
	m, err := in.mnemonic()
	if err != nil {
		return err
	}
	sb.WriteString("\t")
	if in.guard != nil {
		sb.WriteString("@")
		if in.neg {
			sb.WriteString("!")
		}
		sb.WriteString(in.guard.text())
		sb.WriteString(" ")
	}
	sb.WriteString(m)
	sep := " "
	if in.dst != nil {
		sb.WriteString(sep)
		sb.WriteString(in.dst.text())
		sep = ", "
	}
	for _, s := range in.srcs {
		sb.WriteString(sep)
		sb.WriteString(s.text())
		sep = ", "
	}
	sb.WriteString(";\n")
	return nil
}
