package sim

import (
	"fmt"
	"math"
	"math/big"
	"testing"
)

func fl(x uint64) float32 { return math.Float32frombits(uint32(x)) }
func fb(f float32) uint64 { return uint64(math.Float32bits(f)) }

// flush is .ftz applied to a value.
func flush(f float32) float32 {
	if f != 0 && math.Abs(float64(f)) < 0x1p-126 {
		return float32(math.Copysign(0, float64(f)))
	}
	return f
}

func satur(f float32) float32 {
	if f != f || f <= 0 {
		return 0
	}
	return min(f, 1)
}

// bigRound rounds x (exact) to prec bits with mode and returns float32 bits;
// the result must be a normal float32 or zero, or overflow.
func bigRound(x *big.Float, prec uint, mode big.RoundingMode) uint64 {
	r := new(big.Float).SetMode(mode).SetPrec(prec)
	r.Set(x)
	f, _ := r.Float32()
	return fb(f)
}

// nearest rounds an exact x to the nearest float32 (ties to even), subnormals included.
func nearest(x *big.Float) uint64 {
	f, _ := x.Float32()
	return fb(f)
}

// fmaRef is a*b+c rounded once, computed exactly with math/big.
func fmaRef(a, b, c float32) uint64 {
	if isSpecial(a) || isSpecial(b) || isSpecial(c) {
		return fb(float32(float64(a)*float64(b) + float64(c)))
	}
	x := new(big.Float).SetPrec(1000).SetFloat64(float64(a))
	x.Mul(x, new(big.Float).SetPrec(1000).SetFloat64(float64(b)))
	x.Add(x, new(big.Float).SetPrec(1000).SetFloat64(float64(c)))
	if x.Sign() == 0 {
		return fb(float32(float64(a)*float64(b) + float64(c))) // signed zeros
	}
	return nearest(x)
}

func isSpecial(f float32) bool { return f != f || math.IsInf(float64(f), 0) }

func TestFloatInstructions(t *testing.T) {
	bin := func(f func(a, b float32) float32) func(a, b, _ uint64) uint64 {
		return func(a, b, _ uint64) uint64 { return fb(f(fl(a), fl(b))) }
	}
	un := func(f func(a float32) float32) func(a, _, _ uint64) uint64 {
		return func(a, _, _ uint64) uint64 { return fb(f(fl(a))) }
	}
	minRef := func(a, b float32) float32 {
		switch {
		case a != a:
			return b
		case b != b:
			return a
		}
		return float32(math.Min(float64(a), float64(b))) // orders -0 below +0
	}
	maxRef := func(a, b float32) float32 {
		switch {
		case a != a:
			return b
		case b != b:
			return a
		}
		return float32(math.Max(float64(a), float64(b)))
	}
	cmp := func(f func(a, b float32) bool) func(a, b, _ uint64) uint64 {
		return func(a, b, _ uint64) uint64 { return bit(f(fl(a), fl(b))) }
	}
	runALU(t, []aluCase{
		{inst: "add.f32 %d, %a, %b;", d: "f32", a: "f32", b: "f32", ref: bin(func(a, b float32) float32 { return a + b })},
		{inst: "sub.rn.f32 %d, %a, %b;", d: "f32", a: "f32", b: "f32", ref: bin(func(a, b float32) float32 { return a - b })},
		{inst: "mul.f32 %d, %a, %b;", d: "f32", a: "f32", b: "f32", ref: bin(func(a, b float32) float32 { return a * b })},
		{inst: "mul.ftz.f32 %d, %a, %b;", d: "f32", a: "f32", b: "f32", ref: bin(func(a, b float32) float32 { return flush(flush(a) * flush(b)) })},
		{inst: "add.sat.f32 %d, %a, %b;", d: "f32", a: "f32", b: "f32", ref: bin(func(a, b float32) float32 { return satur(a + b) })},
		{inst: "add.rn.ftz.sat.f32 %d, %a, 0f3F000000;", d: "f32", a: "f32", ref: un(func(a float32) float32 { return satur(flush(flush(a) + 0.5)) })},
		{inst: "fma.rn.f32 %d, %a, %b, %c;", d: "f32", a: "f32", b: "f32", c: "f32", ref: func(a, b, c uint64) uint64 { return fmaRef(fl(a), fl(b), fl(c)) }},
		{inst: "fma.rn.ftz.f32 %d, %a, %b, 1.0;", d: "f32", a: "f32", b: "f32", ref: bin(func(a, b float32) float32 { return flush(fl(fmaRef(flush(a), flush(b), 1))) })},
		{inst: "div.rn.f32 %d, %a, %b;", d: "f32", a: "f32", b: "f32", ref: bin(func(a, b float32) float32 { return a / b })},
		{inst: "div.full.f32 %d, %a, %b;", d: "f32", a: "f32", b: "f32", ref: bin(func(a, b float32) float32 { return a / b })},
		{inst: "div.approx.ftz.f32 %d, %a, %b;", d: "f32", a: "f32", b: "f32", ref: bin(func(a, b float32) float32 { return flush(flush(a) / flush(b)) })},
		{inst: "neg.f32 %d, %a;", d: "f32", a: "f32", ref: un(func(a float32) float32 { return -a })},
		{inst: "abs.ftz.f32 %d, %a;", d: "f32", a: "f32", ref: un(func(a float32) float32 { return float32(math.Abs(float64(flush(a)))) })},
		{inst: "min.f32 %d, %a, %b;", d: "f32", a: "f32", b: "f32", ref: bin(minRef)},
		{inst: "max.f32 %d, %a, %b;", d: "f32", a: "f32", b: "f32", ref: bin(maxRef)},
		{inst: "sqrt.rn.f32 %d, %a;", d: "f32", a: "f32", ref: un(func(a float32) float32 {
			if a < 0 || isSpecial(a) || a == 0 {
				return float32(math.Sqrt(float64(a)))
			}
			x := new(big.Float).SetPrec(200).SetFloat64(float64(a))
			return fl(nearest(new(big.Float).SetPrec(200).Sqrt(x)))
		})},
		{inst: "sqrt.approx.f32 %d, %a;", d: "f32", a: "f32", tol: 0x1p-22, ref: un(func(a float32) float32 { return float32(math.Sqrt(float64(a))) })},
		{inst: "rsqrt.approx.f32 %d, %a;", d: "f32", a: "f32", tol: 0x1p-22, ref: un(func(a float32) float32 { return float32(1 / math.Sqrt(float64(a))) })},
		{inst: "rcp.rn.f32 %d, %a;", d: "f32", a: "f32", ref: un(func(a float32) float32 { return 1 / a })},
		{inst: "rcp.approx.ftz.f32 %d, %a;", d: "f32", a: "f32", tol: 0x1p-22, ref: un(func(a float32) float32 { return flush(1 / flush(a)) })},
		{inst: "ex2.approx.ftz.f32 %d, %a;", d: "f32", a: "f32", tol: 0x1p-22, ref: un(func(a float32) float32 { return flush(float32(math.Exp2(float64(flush(a))))) })},
		{inst: "lg2.approx.f32 %d, %a;", d: "f32", a: "f32", tol: 0x1p-22, ref: un(func(a float32) float32 { return float32(math.Log2(float64(a))) })},
		{inst: "setp.lt.f32 %d, %a, %b;", d: "pred", a: "f32", b: "f32", ref: cmp(func(a, b float32) bool { return a < b })},
		{inst: "setp.ge.f32 %d, %a, %b;", d: "pred", a: "f32", b: "f32", ref: cmp(func(a, b float32) bool { return a >= b })},
		{inst: "setp.eq.f32 %d, %a, %b;", d: "pred", a: "f32", b: "f32", ref: cmp(func(a, b float32) bool { return a == b })},
		{inst: "setp.ne.f32 %d, %a, %b;", d: "pred", a: "f32", b: "f32", ref: cmp(func(a, b float32) bool { return a != b && a == a && b == b })},
		{inst: "setp.gt.ftz.f32 %d, %a, %b;", d: "pred", a: "f32", b: "f32", ref: cmp(func(a, b float32) bool { return flush(a) > flush(b) })},
		{inst: "setp.eq.ftz.f32 %d, %a, 0f00000000;", d: "pred", a: "f32", ref: func(a, _, _ uint64) uint64 { return bit(flush(fl(a)) == 0) }},
		{inst: "selp.f32 %d, %a, 0fBF800000, %c;", d: "f32", a: "f32", c: "pred", ref: func(a, _, c uint64) uint64 {
			if c != 0 {
				return a
			}
			return fb(-1)
		}},
		{inst: "mov.f32 %d, 0d3FF0000000000001;", d: "f32", ref: func(_, _, _ uint64) uint64 { return fb(1) }},
		{inst: "mov.f32 %d, -2.5e-1;", d: "f32", ref: func(_, _, _ uint64) uint64 { return fb(-0.25) }},
		{inst: "mov.b32 %d, %a;", d: "f32", a: "u32", ref: func(a, _, _ uint64) uint64 { return a }},
	})
}

// TestFmaDoubleRounding checks a case where rounding a*b+c first to float64
// and then to float32 would be wrong: the exact sum lies just below a float32
// midpoint whose even neighbour is above it.
func TestFmaDoubleRounding(t *testing.T) {
	a := float32(0x1p-24 * (1 + 0x1p-23))
	b := float32(1 - 0x1p-23)
	c := float32(1 + 0x1p-23)
	naive := float32(math.FMA(float64(a), float64(b), float64(c)))
	want := fl(fmaRef(a, b, c))
	if naive == want {
		t.Fatalf("the case does not separate double rounding: naive %x == exact %x", math.Float32bits(naive), math.Float32bits(want))
	}
	if got := fma32(a, b, c); got != want {
		t.Errorf("fma32 = %x, want %x", math.Float32bits(got), math.Float32bits(want))
	}
	// The same through a kernel, whose fast path must notice the midpoint.
	m, err := Load(miniKernel(fmt.Sprintf("\tfma.rn.f32 %%f1, 0f%08X, 0f%08X, 0f%08X;\n\tst.global.f32 [%%rd1], %%f1;",
		math.Float32bits(a), math.Float32bits(b), math.Float32bits(c))))
	if err != nil {
		t.Fatal(err)
	}
	mem := NewMemory()
	out := upload(t, mem, []float32{0})
	if err := kernel(t, m, "k").Launch(mem, Dim3{1, 1, 1}, Dim3{1, 1, 1}, 0, out); err != nil {
		t.Fatal(err)
	}
	if got := download(t, mem, out, 1)[0]; got != want {
		t.Errorf("fma.rn.f32 in a kernel = %x, want %x", math.Float32bits(got), math.Float32bits(want))
	}
}
