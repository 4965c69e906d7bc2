package sim

import (
	"math/bits"
	"testing"
)

func s32(x uint64) int32  { return int32(x) }
func u32(x uint64) uint32 { return uint32(x) }
func bit(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

func TestIntegerInstructions(t *testing.T) {
	sh := func(x uint64) uint32 { return uint32(x) } // shift amounts: any u32
	runALU(t, []aluCase{
		{inst: "add.s32 %d, %a, %b;", d: "s32", a: "s32", b: "s32", ref: func(a, b, _ uint64) uint64 { return a + b }},
		{inst: "add.u64 %d, %a, %b;", d: "u64", a: "u64", b: "u64", ref: func(a, b, _ uint64) uint64 { return a + b }},
		{inst: "sub.u32 %d, %a, %b;", d: "u32", a: "u32", b: "u32", ref: func(a, b, _ uint64) uint64 { return a - b }},
		{inst: "sub.s64 %d, %a, %b;", d: "s64", a: "s64", b: "s64", ref: func(a, b, _ uint64) uint64 { return a - b }},
		{inst: "add.s32 %d, %a, -5;", d: "s32", a: "s32", ref: func(a, _, _ uint64) uint64 { return uint64(s32(a) - 5) }},
		{inst: "mul.lo.s32 %d, %a, %b;", d: "s32", a: "s32", b: "s32", ref: func(a, b, _ uint64) uint64 { return uint64(s32(a) * s32(b)) }},
		{inst: "mul.lo.u64 %d, %a, %b;", d: "u64", a: "u64", b: "u64", ref: func(a, b, _ uint64) uint64 { return a * b }},
		{inst: "mul.hi.s32 %d, %a, %b;", d: "s32", a: "s32", b: "s32", ref: func(a, b, _ uint64) uint64 { return uint64(int64(s32(a)) * int64(s32(b)) >> 32) }},
		{inst: "mul.hi.u32 %d, %a, %b;", d: "u32", a: "u32", b: "u32", ref: func(a, b, _ uint64) uint64 { return uint64(u32(a)) * uint64(u32(b)) >> 32 }},
		{inst: "mul.hi.u64 %d, %a, %b;", d: "u64", a: "u64", b: "u64", ref: func(a, b, _ uint64) uint64 { h, _ := bits.Mul64(a, b); return h }},
		{inst: "mul.hi.s64 %d, %a, %b;", d: "s64", a: "s64", b: "s64", ref: func(a, b, _ uint64) uint64 {
			h, _ := bits.Mul64(a, b) // signed high half from the unsigned one
			if int64(a) < 0 {
				h -= b
			}
			if int64(b) < 0 {
				h -= a
			}
			return h
		}},
		{inst: "mul.wide.s32 %d, %a, %b;", d: "s64", a: "s32", b: "s32", ref: func(a, b, _ uint64) uint64 { return uint64(int64(s32(a)) * int64(s32(b))) }},
		{inst: "mul.wide.u32 %d, %a, %b;", d: "u64", a: "u32", b: "u32", ref: func(a, b, _ uint64) uint64 { return uint64(u32(a)) * uint64(u32(b)) }},
		{inst: "mad.lo.s32 %d, %a, %b, %c;", d: "s32", a: "s32", b: "s32", c: "s32", ref: func(a, b, c uint64) uint64 { return uint64(s32(a)*s32(b) + s32(c)) }},
		{inst: "mad.lo.u64 %d, %a, %b, %c;", d: "u64", a: "u64", b: "u64", c: "u64", ref: func(a, b, c uint64) uint64 { return a*b + c }},
		{inst: "mad.wide.s32 %d, %a, %b, %c;", d: "s64", a: "s32", b: "s32", c: "s64", ref: func(a, b, c uint64) uint64 { return uint64(int64(s32(a))*int64(s32(b))) + c }},
		{inst: "mad.wide.u32 %d, %a, %b, %c;", d: "u64", a: "u32", b: "u32", c: "u64", ref: func(a, b, c uint64) uint64 { return uint64(u32(a))*uint64(u32(b)) + c }},
		{inst: "div.s32 %d, %a, %b;", d: "s32", a: "s32", b: "s32", ref: func(a, b, _ uint64) uint64 {
			if s32(b) == 0 {
				return 0xffffffff
			}
			return uint64(s32(a) / s32(b))
		}},
		{inst: "div.u32 %d, %a, %b;", d: "u32", a: "u32", b: "u32", ref: func(a, b, _ uint64) uint64 {
			if u32(b) == 0 {
				return 0xffffffff
			}
			return uint64(u32(a) / u32(b))
		}},
		{inst: "rem.s32 %d, %a, %b;", d: "s32", a: "s32", b: "s32", ref: func(a, b, _ uint64) uint64 {
			if s32(b) == 0 {
				return a
			}
			return uint64(s32(a) % s32(b))
		}},
		{inst: "rem.u64 %d, %a, %b;", d: "u64", a: "u64", b: "u64", ref: func(a, b, _ uint64) uint64 {
			if b == 0 {
				return a
			}
			return a % b
		}},
		{inst: "div.s64 %d, %a, %b;", d: "s64", a: "s64", b: "s64", ref: func(a, b, _ uint64) uint64 {
			if b == 0 {
				return 1<<64 - 1
			}
			return uint64(int64(a) / int64(b))
		}},
		{inst: "min.s32 %d, %a, %b;", d: "s32", a: "s32", b: "s32", ref: func(a, b, _ uint64) uint64 { return uint64(min(s32(a), s32(b))) }},
		{inst: "max.u32 %d, %a, %b;", d: "u32", a: "u32", b: "u32", ref: func(a, b, _ uint64) uint64 { return uint64(max(u32(a), u32(b))) }},
		{inst: "min.u64 %d, %a, %b;", d: "u64", a: "u64", b: "u64", ref: func(a, b, _ uint64) uint64 { return min(a, b) }},
		{inst: "max.s64 %d, %a, %b;", d: "s64", a: "s64", b: "s64", ref: func(a, b, _ uint64) uint64 { return uint64(max(int64(a), int64(b))) }},
		{inst: "abs.s32 %d, %a;", d: "s32", a: "s32", ref: func(a, _, _ uint64) uint64 {
			if s32(a) < 0 {
				return uint64(-s32(a))
			}
			return a
		}},
		{inst: "neg.s64 %d, %a;", d: "s64", a: "s64", ref: func(a, _, _ uint64) uint64 { return -a }},
		{inst: "neg.s32 %d, %a;", d: "s32", a: "s32", ref: func(a, _, _ uint64) uint64 { return uint64(-s32(a)) }},
		{inst: "and.b32 %d, %a, %b;", d: "b32", a: "b32", b: "b32", ref: func(a, b, _ uint64) uint64 { return a & b }},
		{inst: "or.b64 %d, %a, %b;", d: "b64", a: "b64", b: "b64", ref: func(a, b, _ uint64) uint64 { return a | b }},
		{inst: "xor.b32 %d, %a, 0xff00ff00;", d: "b32", a: "u32", ref: func(a, _, _ uint64) uint64 { return a ^ 0xff00ff00 }},
		{inst: "not.b32 %d, %a;", d: "b32", a: "b32", ref: func(a, _, _ uint64) uint64 { return ^a }},
		{inst: "not.b64 %d, %a;", d: "b64", a: "b64", ref: func(a, _, _ uint64) uint64 { return ^a }},
		{inst: "and.pred %d, %a, %b;", d: "pred", a: "pred", b: "pred", ref: func(a, b, _ uint64) uint64 { return a & b }},
		{inst: "or.pred %d, %a, %b;", d: "pred", a: "pred", b: "pred", ref: func(a, b, _ uint64) uint64 { return a | b }},
		{inst: "xor.pred %d, %a, %b;", d: "pred", a: "pred", b: "pred", ref: func(a, b, _ uint64) uint64 { return a ^ b }},
		{inst: "not.pred %d, %a;", d: "pred", a: "pred", ref: func(a, _, _ uint64) uint64 { return a ^ 1 }},
		{inst: "shl.b32 %d, %a, %b;", d: "b32", a: "b32", b: "u32", ref: func(a, b, _ uint64) uint64 { return uint64(u32(a) << sh(b)) }},
		{inst: "shl.b64 %d, %a, %b;", d: "b64", a: "b64", b: "u32", ref: func(a, b, _ uint64) uint64 { return a << sh(b) }},
		{inst: "shr.u32 %d, %a, %b;", d: "u32", a: "u32", b: "u32", ref: func(a, b, _ uint64) uint64 { return uint64(u32(a) >> sh(b)) }},
		{inst: "shr.s32 %d, %a, %b;", d: "s32", a: "s32", b: "u32", ref: func(a, b, _ uint64) uint64 { return uint64(s32(a) >> sh(b)) }},
		{inst: "shr.b32 %d, %a, 3;", d: "b32", a: "b32", ref: func(a, _, _ uint64) uint64 { return uint64(u32(a) >> 3) }},
		{inst: "shr.s64 %d, %a, %b;", d: "s64", a: "s64", b: "u32", ref: func(a, b, _ uint64) uint64 { return uint64(int64(a) >> sh(b)) }},
		{inst: "shr.u64 %d, %a, %b;", d: "u64", a: "u64", b: "u32", ref: func(a, b, _ uint64) uint64 { return a >> sh(b) }},
		{inst: "setp.lt.s32 %d, %a, %b;", d: "pred", a: "s32", b: "s32", ref: func(a, b, _ uint64) uint64 { return bit(s32(a) < s32(b)) }},
		{inst: "setp.ge.s32 %d, %a, %b;", d: "pred", a: "s32", b: "s32", ref: func(a, b, _ uint64) uint64 { return bit(s32(a) >= s32(b)) }},
		{inst: "setp.gt.u32 %d, %a, %b;", d: "pred", a: "u32", b: "u32", ref: func(a, b, _ uint64) uint64 { return bit(u32(a) > u32(b)) }},
		{inst: "setp.lo.u32 %d, %a, %b;", d: "pred", a: "u32", b: "u32", ref: func(a, b, _ uint64) uint64 { return bit(u32(a) < u32(b)) }},
		{inst: "setp.ls.u64 %d, %a, %b;", d: "pred", a: "u64", b: "u64", ref: func(a, b, _ uint64) uint64 { return bit(a <= b) }},
		{inst: "setp.hi.u64 %d, %a, %b;", d: "pred", a: "u64", b: "u64", ref: func(a, b, _ uint64) uint64 { return bit(a > b) }},
		{inst: "setp.hs.u32 %d, %a, %b;", d: "pred", a: "u32", b: "u32", ref: func(a, b, _ uint64) uint64 { return bit(u32(a) >= u32(b)) }},
		{inst: "setp.le.s64 %d, %a, %b;", d: "pred", a: "s64", b: "s64", ref: func(a, b, _ uint64) uint64 { return bit(int64(a) <= int64(b)) }},
		{inst: "setp.gt.s64 %d, %a, %b;", d: "pred", a: "s64", b: "s64", ref: func(a, b, _ uint64) uint64 { return bit(int64(a) > int64(b)) }},
		{inst: "setp.eq.b64 %d, %a, %b;", d: "pred", a: "b64", b: "b64", ref: func(a, b, _ uint64) uint64 { return bit(a == b) }},
		{inst: "setp.ne.s32 %d, %a, 7;", d: "pred", a: "s32", ref: func(a, _, _ uint64) uint64 { return bit(a != 7) }},
		{inst: "selp.b32 %d, %a, %b, %c;", d: "b32", a: "b32", b: "b32", c: "pred", ref: func(a, b, c uint64) uint64 {
			if c != 0 {
				return a
			}
			return b
		}},
		{inst: "selp.s64 %d, %a, -1, %c;", d: "s64", a: "s64", c: "pred", ref: func(a, _, c uint64) uint64 {
			if c != 0 {
				return a
			}
			return 1<<64 - 1
		}},
		{inst: "mov.u32 %d, 0x80000001;", d: "u32", ref: func(_, _, _ uint64) uint64 { return 0x80000001 }},
		{inst: "mov.b16 %d, %a;", d: "b16", a: "u16", ref: func(a, _, _ uint64) uint64 { return a }},
		{inst: "mov.s64 %d, -2;", d: "s64", ref: func(_, _, _ uint64) uint64 { return 1<<64 - 2 }},
		{inst: "st.global.u32 [%rd5+4], 5; ld.global.u32 %d, [%rd5+4];", d: "u32", ref: func(_, _, _ uint64) uint64 { return 5 }},
		{inst: "mov.u32 %d, 77; @%c add.u32 %d, %a, 1; @!%c sub.u32 %d, %d, 7;", d: "u32", a: "u32", c: "pred", ref: func(a, _, c uint64) uint64 {
			if c != 0 {
				return a + 1
			}
			return 70
		}},
	})
}
