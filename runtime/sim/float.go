package sim

import (
	"math"
	"math/bits"
)

func f32(v uint64) float32   { return math.Float32frombits(uint32(v)) }
func fbits(f float32) uint64 { return uint64(math.Float32bits(f)) }

// fma32 is fma.rn.f32: a*b+c rounded once. The product is exact in float64;
// the sum is rounded to odd in float64 and then to nearest float32, which
// gives the correctly rounded result (53 >= 2*24+2 bits).
func fma32(a, b, c float32) float32 {
	p := float64(a) * float64(b)
	s := p + float64(c)
	if math.IsInf(s, 0) || math.IsNaN(s) {
		return float32(s)
	}
	bb := s - p
	e := (p - (s - bb)) + (float64(c) - bb)
	if e != 0 {
		u := math.Float64bits(s)
		if u&1 == 0 {
			if (e > 0) == (s > 0) {
				u++
			} else {
				u--
			}
			s = math.Float64frombits(u)
		}
	}
	return float32(s)
}

// ftz flushes a subnormal to a zero of the same sign.
func ftz(f float32) float32 {
	u := math.Float32bits(f)
	if u&0x7f800000 == 0 {
		return math.Float32frombits(u & 0x80000000)
	}
	return f
}

// sat clamps to [0, 1]; NaN and -0 give +0.
func sat(f float32) float32 {
	switch {
	case f != f || f <= 0:
		return 0
	case f > 1:
		return 1
	}
	return f
}

func minF(a, b float32) float32 {
	switch {
	case a != a:
		return b
	case b != b:
		return a
	case a == b:
		if math.Signbit(float64(a)) {
			return a
		}
		return b
	case a < b:
		return a
	}
	return b
}

func maxF(a, b float32) float32 {
	switch {
	case a != a:
		return b
	case b != b:
		return a
	case a == b:
		if math.Signbit(float64(a)) {
			return b
		}
		return a
	case a > b:
		return a
	}
	return b
}

// floatOp computes a float32 instruction with its .ftz and .sat flags.
func floatOp(op opcode, flags uint8, a, b, c float32) float32 {
	if flags&flagFtz != 0 {
		a, b, c = ftz(a), ftz(b), ftz(c)
	}
	var r float32
	switch op {
	case opAddF:
		r = a + b
	case opSubF:
		r = a - b
	case opMulF:
		r = a * b
	case opFmaF:
		r = fma32(a, b, c)
	case opDivF:
		r = a / b
	case opNegF:
		r = math.Float32frombits(math.Float32bits(a) ^ 0x80000000)
	case opAbsF:
		r = math.Float32frombits(math.Float32bits(a) &^ 0x80000000)
	case opMinF:
		r = minF(a, b)
	case opMaxF:
		r = maxF(a, b)
	case opSqrtF:
		r = float32(math.Sqrt(float64(a)))
	case opRsqrtF:
		r = float32(1 / math.Sqrt(float64(a)))
	case opRcpF:
		r = 1 / a
	case opEx2F:
		r = float32(math.Exp2(float64(a)))
	case opLg2F:
		r = float32(math.Log2(float64(a)))
	}
	if flags&flagFtz != 0 {
		r = ftz(r)
	}
	if flags&flagSat != 0 {
		r = sat(r)
	}
	return r
}

// tf32 is cvt.rna.tf32.f32: keep 10 mantissa bits, round to nearest with
// ties away from zero. NaN becomes a quiet NaN of the same sign.
func tf32(u uint32) uint32 {
	if u&0x7f800000 == 0x7f800000 {
		if u&0x7fffff != 0 {
			return u&0x80000000 | 0x7fffe000
		}
		return u
	}
	return (u + 0x1000) & 0xffffe000
}

// bf16 rounds float32 bits to bfloat16, to nearest even; NaN becomes 0x7fff.
func bf16(u uint32) uint32 {
	if u&0x7f800000 == 0x7f800000 && u&0x7fffff != 0 {
		return 0x7fff
	}
	return (u + 0x7fff + (u >> 16 & 1)) >> 16
}

// cvtGeneric runs every cvt form without a dedicated opcode.
func cvtGeneric(v uint64, imm int64, flags uint8) uint64 {
	dt, st, rnd := unpackCvt(imm)
	if st == tyF32 {
		f := f32(v)
		if flags&flagFtz != 0 {
			f = ftz(f)
		}
		x := float64(f)
		switch rnd {
		case rndRNI:
			x = math.RoundToEven(x)
		case rndRZI:
			x = math.Trunc(x)
		case rndRMI:
			x = math.Floor(x)
		case rndRPI:
			x = math.Ceil(x)
		}
		if dt == tyF32 {
			return fbits(finishF(float32(x), flags))
		}
		return floatToInt(x, dt)
	}
	neg, mag := intValue(v, st)
	if dt == tyF32 {
		return fbits(finishF(intToF32(neg, mag, rnd), flags))
	}
	if flags&flagSat != 0 {
		neg, mag = clampInt(neg, mag, dt)
	}
	r := mag
	if neg {
		r = -mag
	}
	return r & sizeMask(dt)
}

func finishF(f float32, flags uint8) float32 {
	if flags&flagFtz != 0 {
		f = ftz(f)
	}
	if flags&flagSat != 0 {
		f = sat(f)
	}
	return f
}

func sizeMask(t ptype) uint64 {
	if t.size() == 8 {
		return math.MaxUint64
	}
	return 1<<(8*t.size()) - 1
}

// intValue reads an integer register of type t as a sign and magnitude.
func intValue(v uint64, t ptype) (neg bool, mag uint64) {
	var s int64
	switch t {
	case tyS32:
		s = int64(int32(v))
	case tyS64:
		s = int64(v)
	default:
		return false, v & sizeMask(t)
	}
	if s < 0 {
		return true, uint64(-s)
	}
	return false, uint64(s)
}

// intRange is the largest magnitude of t on the negative and positive side.
func intRange(t ptype) (negMax, posMax uint64) {
	switch t {
	case tyS32:
		return 1 << 31, 1<<31 - 1
	case tyS64:
		return 1 << 63, 1<<63 - 1
	}
	return 0, sizeMask(t)
}

func clampInt(neg bool, mag uint64, t ptype) (bool, uint64) {
	negMax, posMax := intRange(t)
	if neg && mag > negMax {
		return negMax != 0, negMax
	}
	if !neg && mag > posMax {
		return false, posMax
	}
	return neg, mag
}

// floatToInt converts an integral float64 to t, saturating; NaN gives 0.
func floatToInt(x float64, t ptype) uint64 {
	if x != x {
		return 0
	}
	negMax, posMax := intRange(t)
	if x < 0 {
		if -x >= float64(negMax) {
			return -negMax & sizeMask(t)
		}
		return uint64(-int64(-x)) & sizeMask(t)
	}
	if x >= float64(posMax) {
		return posMax
	}
	return uint64(x)
}

// intToF32 converts a sign and magnitude to float32 with rounding mode rnd.
func intToF32(neg bool, mag uint64, rnd int) float32 {
	var f float32
	if rnd == rndRN {
		f = float32(mag)
	} else {
		t := mag
		if n := bits.Len64(mag); n > 24 {
			t = mag >> (n - 24) << (n - 24)
		}
		f = float32(t) // exact: truncated toward zero
		away := t != mag && (rnd == rndRP && !neg || rnd == rndRM && neg)
		if away {
			f = math.Nextafter32(f, float32(math.Inf(1)))
		}
	}
	if neg {
		f = -f
	}
	return f
}
