package ptx

import "math"

// Float32 exp and log to within a few ulps, from PTX's approximate ex2 and plain arithmetic
// (the simulator, like the hardware, has no f64).

// Split constants: log2(e) = l2eHi + l2eLo, ln(2) = ln2Hi + ln2Lo.
var (
	l2eHi = float32(math.Log2E)
	l2eLo = float32(math.Log2E - float64(l2eHi))
	ln2Hi = float32(math.Ln2)
	ln2Lo = float32(math.Ln2 - float64(ln2Hi))
)

// expf is e^(x+xlo) for x <= 0 and |xlo| tiny (x+xlo an unevaluated sum): 2^t with
// t = x*log2(e) rounded, corrected to first order by the rounding error of t and by xlo
// (ex2.approx is within 2 ulps).
func expf(b *builder, x, xlo reg) reg {
	t := b.mul(x, f32(l2eHi))
	err := b.fma(xlo, f32(l2eHi), b.fma(x, f32(l2eLo), b.fma(x, f32(l2eHi), b.neg(t))))
	r := b.unary(opEx2, t)
	return b.fma(r, b.mul(err, f32(ln2Hi)), r)
}

// atanhSeries is 2*atanh(t) = ln((1+t)/(1-t)) for |t| <= 0.1716 (3 - 2*sqrt 2): six odd terms
// leave under 1e-10 relative.
func atanhSeries(b *builder, t reg) reg {
	t2 := b.mul(t, t)
	p := b.mov(tF32, f32(2.0/11))
	for _, c := range []float64{2.0 / 9, 2.0 / 7, 2.0 / 5, 2.0 / 3} {
		p = b.fma(p, t2, f32(float32(c)))
	}
	return b.fma(b.mul(p, t2), t, b.mul(t, f32(2)))
}

// log1pf is ln(1+u) for u >= 0, accurate relative to the result for small u too: ln(1+u) =
// 2*atanh(u/(2+u)) when u < sqrt 2 - 1; else from 1+u rounded, split as 2^e * m with m in
// [sqrt .5, sqrt 2), ln = e*ln 2 + 2*atanh((m-1)/(m+1)).
func log1pf(b *builder, u reg) reg {
	small := b.atanh(b.div(u, b.add(u, f32(2))))
	s := b.add(u, f32(1))
	bits := b.reg(tU32)
	b.raw("mov.b32", bits, s)
	e := b.sub(b.shr(bits, 23), u32(127)) // s >= 1: e >= 0
	mb := b.reg(tB32)
	b.to(mb, opOr, b.and(bits, imm{tB32, 0x007fffff}), imm{tB32, 0x3f800000})
	m := b.reg(tF32)
	b.raw("mov.b32", m, mb)
	hi := b.setp("gt", m, f32(float32(math.Sqrt2)))
	m = b.selp(b.mul(m, f32(0.5)), m, hi)
	e = b.selp(b.add(e, u32(1)), e, hi)
	ef := b.cvt(tF32, "rn", e)
	large := b.fma(ef, f32(ln2Hi), b.fma(ef, f32(ln2Lo), b.atanh(b.div(b.sub(m, f32(1)), b.add(m, f32(1))))))
	return b.selp(small, large, b.setp("lt", u, f32(float32(math.Sqrt2-1))))
}

func (b *builder) atanh(t reg) reg { return atanhSeries(b, t) }
