package sim

import (
	"math"
	"math/big"
	"testing"
)

// tf32Ref is cvt.rna.tf32.f32 computed with math/big (normal values) or
// integer arithmetic on the mantissa (subnormals).
func tf32Ref(u uint32) uint32 {
	f := math.Float32frombits(u)
	switch {
	case f != f:
		return u&0x80000000 | 0x7fffe000
	case math.IsInf(float64(f), 0) || f == 0:
		return u
	case u&0x7f800000 == 0:
		m := u & 0x7fffff
		return u&0x80000000 | (m+4096)/8192*8192
	}
	return uint32(bigRound(new(big.Float).SetFloat64(float64(f)), 11, big.ToNearestAway))
}

// bf16Ref is the bf16 rounding of cvt.rn.bf16x2.f32 (16 bits).
func bf16Ref(u uint32) uint32 {
	f := math.Float32frombits(u)
	switch {
	case f != f:
		return 0x7fff
	case math.IsInf(float64(f), 0) || f == 0:
		return u >> 16
	case u&0x7f800000 == 0:
		m := u & 0x7fffff
		q, r := m/65536, m%65536
		if r > 32768 || r == 32768 && q&1 == 1 {
			q++
		}
		return u>>16&0x8000 | q
	}
	return uint32(bigRound(new(big.Float).SetFloat64(float64(f)), 8, big.ToNearestEven)) >> 16
}

// intToF32Ref converts an integer (signed or not) to float32 with a big.Float rounding mode.
func intToF32Ref(v uint64, signed bool, mode big.RoundingMode) uint64 {
	x := new(big.Float).SetMode(mode).SetPrec(24)
	if signed {
		x.SetInt64(int64(v))
	} else {
		x.SetUint64(v)
	}
	f, _ := x.Float32()
	return fb(f)
}

// f2iRef converts float32 to an integer type with an integer rounding,
// saturating; NaN gives 0.
func f2iRef(a uint64, round func(float64) float64, lo, hi *big.Int, mask uint64) uint64 {
	f := fl(a)
	if f != f {
		return 0
	}
	x := round(float64(f))
	if math.IsInf(x, 0) {
		if x > 0 {
			return hi.Uint64() & mask
		}
		return uint64(lo.Int64()) & mask
	}
	n, _ := new(big.Float).SetFloat64(x).Int(nil)
	if n.Cmp(lo) < 0 {
		n = lo
	}
	if n.Cmp(hi) > 0 {
		n = hi
	}
	if n.Sign() < 0 {
		return uint64(n.Int64()) & mask
	}
	return n.Uint64() & mask
}

// satRef clamps an integer (given as big) to [lo, hi] and truncates.
func satRef(n *big.Int, lo, hi *big.Int, mask uint64) uint64 {
	if n.Cmp(lo) < 0 {
		n = lo
	}
	if n.Cmp(hi) > 0 {
		n = hi
	}
	if n.Sign() < 0 {
		return uint64(n.Int64()) & mask
	}
	return n.Uint64() & mask
}

func TestConversions(t *testing.T) {
	bi := big.NewInt
	s32lo, s32hi := bi(math.MinInt32), bi(math.MaxInt32)
	u32hi := bi(math.MaxUint32)
	s64lo, s64hi := bi(math.MinInt64), bi(math.MaxInt64)
	u64hi := new(big.Int).SetUint64(math.MaxUint64)
	zero := bi(0)
	const m32, m64 = 0xffffffff, math.MaxUint64
	f2i := func(round func(float64) float64, lo, hi *big.Int, mask uint64) func(a, _, _ uint64) uint64 {
		return func(a, _, _ uint64) uint64 { return f2iRef(a, round, lo, hi, mask) }
	}
	i2f := func(signed bool, bits int, mode big.RoundingMode) func(a, _, _ uint64) uint64 {
		return func(a, _, _ uint64) uint64 {
			if bits == 32 && signed {
				a = uint64(int64(int32(a)))
			}
			return intToF32Ref(a, signed, mode)
		}
	}
	signedBig := func(a uint64, bits int) *big.Int {
		if bits == 32 {
			return bi(int64(int32(a)))
		}
		return bi(int64(a))
	}
	runALU(t, []aluCase{
		{inst: "cvt.rni.s32.f32 %d, %a;", d: "s32", a: "f32", ref: f2i(math.RoundToEven, s32lo, s32hi, m32)},
		{inst: "cvt.rzi.s32.f32 %d, %a;", d: "s32", a: "f32", ref: f2i(math.Trunc, s32lo, s32hi, m32)},
		{inst: "cvt.rmi.s32.f32 %d, %a;", d: "s32", a: "f32", ref: f2i(math.Floor, s32lo, s32hi, m32)},
		{inst: "cvt.rpi.u32.f32 %d, %a;", d: "u32", a: "f32", ref: f2i(math.Ceil, zero, u32hi, m32)},
		{inst: "cvt.rzi.sat.u32.f32 %d, %a;", d: "u32", a: "f32", ref: f2i(math.Trunc, zero, u32hi, m32)},
		{inst: "cvt.rzi.s64.f32 %d, %a;", d: "s64", a: "f32", ref: f2i(math.Trunc, s64lo, s64hi, m64)},
		{inst: "cvt.rni.u64.f32 %d, %a;", d: "u64", a: "f32", ref: f2i(math.RoundToEven, zero, u64hi, m64)},
		{inst: "cvt.rpi.ftz.s32.f32 %d, %a;", d: "s32", a: "f32", ref: func(a, _, _ uint64) uint64 {
			return f2iRef(fb(flush(fl(a))), math.Ceil, s32lo, s32hi, m32)
		}},
		{inst: "cvt.rn.f32.s32 %d, %a;", d: "f32", a: "s32", ref: i2f(true, 32, big.ToNearestEven)},
		{inst: "cvt.rn.f32.u32 %d, %a;", d: "f32", a: "u32", ref: i2f(false, 32, big.ToNearestEven)},
		{inst: "cvt.rz.f32.s32 %d, %a;", d: "f32", a: "s32", ref: i2f(true, 32, big.ToZero)},
		{inst: "cvt.rm.f32.s64 %d, %a;", d: "f32", a: "s64", ref: i2f(true, 64, big.ToNegativeInf)},
		{inst: "cvt.rp.f32.u64 %d, %a;", d: "f32", a: "u64", ref: i2f(false, 64, big.ToPositiveInf)},
		{inst: "cvt.rp.f32.s64 %d, %a;", d: "f32", a: "s64", ref: i2f(true, 64, big.ToPositiveInf)},
		{inst: "cvt.rn.f32.s64 %d, %a;", d: "f32", a: "s64", ref: i2f(true, 64, big.ToNearestEven)},
		{inst: "cvt.rn.f32.u64 %d, %a;", d: "f32", a: "u64", ref: i2f(false, 64, big.ToNearestEven)},
		{inst: "cvt.rn.sat.f32.s32 %d, %a;", d: "f32", a: "s32", ref: func(a, _, _ uint64) uint64 {
			return fb(satur(fl(intToF32Ref(uint64(int64(int32(a))), true, big.ToNearestEven))))
		}},
		{inst: "cvt.rn.f32.u16 %d, %a;", d: "f32", a: "u16", ref: func(a, _, _ uint64) uint64 { return fb(float32(a)) }},
		{inst: "cvt.rni.f32.f32 %d, %a;", d: "f32", a: "f32", ref: func(a, _, _ uint64) uint64 { return fb(float32(math.RoundToEven(float64(fl(a))))) }},
		{inst: "cvt.rzi.f32.f32 %d, %a;", d: "f32", a: "f32", ref: func(a, _, _ uint64) uint64 { return fb(float32(math.Trunc(float64(fl(a))))) }},
		{inst: "cvt.rmi.ftz.f32.f32 %d, %a;", d: "f32", a: "f32", ref: func(a, _, _ uint64) uint64 { return fb(float32(math.Floor(float64(flush(fl(a)))))) }},
		{inst: "cvt.ftz.sat.f32.f32 %d, %a;", d: "f32", a: "f32", ref: func(a, _, _ uint64) uint64 { return fb(satur(flush(fl(a)))) }},
		{inst: "cvt.u64.u32 %d, %a;", d: "u64", a: "u32", ref: func(a, _, _ uint64) uint64 { return a }},
		{inst: "cvt.s64.s32 %d, %a;", d: "s64", a: "s32", ref: func(a, _, _ uint64) uint64 { return uint64(int64(int32(a))) }},
		{inst: "cvt.u64.s32 %d, %a;", d: "u64", a: "s32", ref: func(a, _, _ uint64) uint64 { return uint64(int64(int32(a))) }},
		{inst: "cvt.s64.u32 %d, %a;", d: "s64", a: "u32", ref: func(a, _, _ uint64) uint64 { return a }},
		{inst: "cvt.u32.u64 %d, %a;", d: "u32", a: "u64", ref: func(a, _, _ uint64) uint64 { return a }},
		{inst: "cvt.s32.s64 %d, %a;", d: "s32", a: "s64", ref: func(a, _, _ uint64) uint64 { return a }},
		{inst: "cvt.u16.u32 %d, %a;", d: "u16", a: "u32", ref: func(a, _, _ uint64) uint64 { return a }},
		{inst: "cvt.u32.u16 %d, %a;", d: "u32", a: "u16", ref: func(a, _, _ uint64) uint64 { return a }},
		{inst: "cvt.s32.u32 %d, %a;", d: "s32", a: "u32", ref: func(a, _, _ uint64) uint64 { return a }},
		{inst: "cvt.sat.s32.s64 %d, %a;", d: "s32", a: "s64", ref: func(a, _, _ uint64) uint64 { return satRef(signedBig(a, 64), s32lo, s32hi, m32) }},
		{inst: "cvt.sat.u32.s32 %d, %a;", d: "u32", a: "s32", ref: func(a, _, _ uint64) uint64 { return satRef(signedBig(a, 32), zero, u32hi, m32) }},
		{inst: "cvt.sat.u16.s32 %d, %a;", d: "u16", a: "s32", ref: func(a, _, _ uint64) uint64 { return satRef(signedBig(a, 32), zero, bi(65535), 0xffff) }},
		{inst: "cvt.sat.s32.u32 %d, %a;", d: "s32", a: "u32", ref: func(a, _, _ uint64) uint64 { return satRef(bi(int64(a)), s32lo, s32hi, m32) }},
		{inst: "cvt.sat.u32.u64 %d, %a;", d: "u32", a: "u64", ref: func(a, _, _ uint64) uint64 { return satRef(new(big.Int).SetUint64(a), zero, u32hi, m32) }},
		{inst: "cvt.sat.s64.u64 %d, %a;", d: "s64", a: "u64", ref: func(a, _, _ uint64) uint64 { return satRef(new(big.Int).SetUint64(a), s64lo, s64hi, m64) }},
		{inst: "cvt.sat.u64.s64 %d, %a;", d: "u64", a: "s64", ref: func(a, _, _ uint64) uint64 { return satRef(signedBig(a, 64), zero, u64hi, m64) }},
		{inst: "cvt.rna.tf32.f32 %d, %a;", d: "b32", a: "f32", ref: func(a, _, _ uint64) uint64 { return uint64(tf32Ref(uint32(a))) }},
		{inst: "cvt.rn.bf16x2.f32 %d, %a, %b;", d: "b32", a: "f32", b: "f32", ref: func(a, b, _ uint64) uint64 {
			return uint64(bf16Ref(uint32(a))<<16 | bf16Ref(uint32(b)))
		}},
	})
}

// TestRoundingEdges pins the tf32 and bf16 roundings on hand-picked bit patterns.
func TestRoundingEdges(t *testing.T) {
	for _, c := range []struct {
		in, tf, bf uint32
	}{
		{0x3f800000, 0x3f800000, 0x3f80}, // 1.0: exact
		{0x3f801000, 0x3f802000, 0x3f80}, // tf32 tie: away from zero; bf16 below half
		{0xbf801000, 0xbf802000, 0xbf80}, // negative tie: away from zero
		{0x3f803000, 0x3f804000, 0x3f80}, // tf32 tie on an odd digit: away (up)
		{0x3f800fff, 0x3f800000, 0x3f80}, // just below the tf32 half
		{0x3f808000, 0x3f808000, 0x3f80}, // bf16 tie on even: stays
		{0x3f818000, 0x3f818000, 0x3f82}, // bf16 tie on odd: up to even
		{0x3f808001, 0x3f808000, 0x3f81}, // bf16 just above half
		{0x7f7fffff, 0x7f800000, 0x7f80}, // max float rounds to +Inf
		{0x7f800000, 0x7f800000, 0x7f80}, // +Inf
		{0xff800000, 0xff800000, 0xff80}, // -Inf
		{0x7f800001, 0x7fffe000, 0x7fff}, // signalling NaN stays NaN
		{0xffc00000, 0xffffe000, 0x7fff}, // negative NaN
		{0x00001000, 0x00002000, 0x0000}, // subnormal tf32 tie: away
		{0x007ff000, 0x00800000, 0x0080}, // largest subnormals round up to the smallest normal
		{0x80000000, 0x80000000, 0x8000}, // -0
	} {
		if got := tf32(c.in); got != c.tf || tf32Ref(c.in) != c.tf {
			t.Errorf("tf32(%#08x) = %#08x (reference %#08x), want %#08x", c.in, got, tf32Ref(c.in), c.tf)
		}
		if got := bf16(c.in); got != c.bf || bf16Ref(c.in) != c.bf {
			t.Errorf("bf16(%#08x) = %#04x (reference %#04x), want %#04x", c.in, got, bf16Ref(c.in), c.bf)
		}
	}
}
