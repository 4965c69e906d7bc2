package ptx

import "strconv"

// Compensated float32 sums. The CPU kernels sum statistics in float64; the simulator and the
// kernels here have float32 only, so sums are kept as unevaluated pairs hi + lo (Knuth's
// TwoSum: hi + lo is the sum to about 2^-44 relative, whatever the order) and products add
// their exact rounding error (fma(a, b, -a*b)). The value of a pair is hi + lo rounded once.

// dsum is a running double-float sum: two f32 registers updated in place.
type dsum struct{ hi, lo reg }

func newDsum(b *builder, init operand) dsum {
	return dsum{hi: b.mov(tF32, init), lo: b.mov(tF32, f32(0))}
}

// twoSum returns s = fl(x+y) and the exact error e = (x+y) - s.
func twoSum(b *builder, x, y reg) (s, e reg) {
	s = b.add(x, y)
	bp := b.sub(s, x)
	e = b.add(b.sub(x, b.sub(s, bp)), b.sub(y, bp))
	return s, e
}

// add adds v into the sum.
func (d dsum) add(b *builder, v reg) {
	s, e := twoSum(b, d.hi, v)
	b.set(d.hi, s)
	b.to(d.lo, opAdd, d.lo, e)
}

// addProd adds x*y (with the product's rounding error) into the sum.
func (d dsum) addProd(b *builder, x, y reg) {
	p := b.mul(x, y)
	pe := b.fma(x, y, b.neg(p))
	s, e := twoSum(b, d.hi, p)
	b.set(d.hi, s)
	b.to(d.lo, opAdd, d.lo, b.add(e, pe))
}

// merge adds the pair (hi, lo) into the sum; the result does not depend on the order of the
// two pairs (so that every lane of a butterfly gets the same total).
func (d dsum) merge(b *builder, hi, lo reg) {
	s, e := twoSum(b, d.hi, hi)
	b.set(d.hi, s)
	b.to(d.lo, opAdd, b.add(d.lo, lo), e)
}

// quo is (hi + lo)/k rounded once more than the exact quotient: the quotient of hi corrected by
// that of its exact remainder.
func (d dsum) quo(b *builder, k operand) reg {
	q := b.div(d.hi, k)
	r := b.add(b.fma(b.neg(q), k, d.hi), d.lo)
	return b.add(q, b.div(r, k))
}

// value is hi + lo rounded.
func (d dsum) value(b *builder) reg { return b.add(d.hi, d.lo) }

// blockSum adds up one dsum per thread over a block of threads (a power of two) through shared
// memory and returns the total, in fresh registers of every thread. names must be unique in
// the kernel (each call declares its shared arrays).
func blockSum(b *builder, tid reg, threads int, name string, sums ...dsum) []dsum {
	type arr struct{ hi, lo, hi0, lo0 reg } // the thread's elements and the arrays' starts
	arrs := make([]arr, len(sums))
	off := b.shl(tid, 2)
	for i, s := range sums {
		hi := b.sharedBase(b.sharedArray(name+"_hi"+strconv.Itoa(i), threads*4))
		lo := b.sharedBase(b.sharedArray(name+"_lo"+strconv.Itoa(i), threads*4))
		arrs[i] = arr{hi: b.add(hi, off), lo: b.add(lo, off), hi0: hi, lo0: lo}
		b.st("shared", tF32, addr{base: arrs[i].hi}, s.hi)
		b.st("shared", tF32, addr{base: arrs[i].lo}, s.lo)
	}
	b.bar()
	for stride := threads / 2; stride >= 1; stride /= 2 {
		b.ifThen(b.setp("lo", tid, u32(stride)), func() {
			for i, s := range sums {
				ohi := b.ld("shared", tF32, addr{arrs[i].hi, stride * 4})
				olo := b.ld("shared", tF32, addr{arrs[i].lo, stride * 4})
				s.merge(b, ohi, olo)
				b.st("shared", tF32, addr{base: arrs[i].hi}, s.hi)
				b.st("shared", tF32, addr{base: arrs[i].lo}, s.lo)
			}
		})
		b.bar()
	}
	out := make([]dsum, len(sums))
	for i := range sums {
		out[i] = dsum{
			hi: b.ld("shared", tF32, addr{base: arrs[i].hi0}),
			lo: b.ld("shared", tF32, addr{base: arrs[i].lo0}),
		}
	}
	b.bar() // the arrays may be reused after this
	return out
}

// warpSum adds up one dsum per lane over a warp with butterfly shuffles; every lane gets the
// total.
func warpSum(b *builder, s dsum) dsum {
	out := newDsum(b, s.hi)
	b.set(out.lo, s.lo)
	for d := 16; d >= 1; d /= 2 {
		hi, lo := shflBfly(b, out.hi, d), shflBfly(b, out.lo, d)
		out.merge(b, hi, lo)
	}
	return out
}

// shflBfly is v of lane (lane ^ d), as f32 or u32 like v.
func shflBfly(b *builder, v reg, d int) reg {
	src := v
	if v.t == tF32 {
		src = b.reg(tB32)
		b.raw("mov.b32", src, v)
	}
	o := b.reg(tB32)
	b.raw("shfl.sync.bfly.b32", o, src, u32(d), u32(31), imm{tB32, 0xffffffff})
	if v.t == tF32 {
		f := b.reg(tF32)
		b.raw("mov.b32", f, o)
		return f
	}
	u := b.reg(v.t)
	b.raw("mov.b32", u, o)
	return u
}
