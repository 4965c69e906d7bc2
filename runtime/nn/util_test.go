package nn

import (
	"github.com/wrnc/wrnc/testdata/ref"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/wrnc/wrnc/runtime/cpu"
)

// tol is the bound on the relative error of every fp32 kernel against the float64
// reference, in the norm of relErr: max|got - want| / max|want| over the whole tensor.
const tol = 1e-5

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// randF32 returns n uniform values in [lo, hi).
func randF32(r *rand.Rand, n int, lo, hi float64) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(lo + (hi-lo)*r.Float64())
	}
	return s
}

func f64(s []float32) []float64 {
	d := make([]float64, len(s))
	for i, v := range s {
		d[i] = float64(v)
	}
	return d
}

func f32(s []float64) []float32 {
	d := make([]float32, len(s))
	for i, v := range s {
		d[i] = float32(v)
	}
	return d
}

// relErr returns max|got - want| / max|want| (max|got - want| when want is all zeros).
func relErr(got []float32, want []float64) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	var d, m float64
	for i, w := range want {
		d = max(d, math.Abs(float64(got[i])-w))
		m = max(m, math.Abs(w))
	}
	if math.IsNaN(d) {
		return math.Inf(1)
	}
	if m == 0 {
		return d
	}
	return d / m
}

// checkClose fails t when relErr(got, want) >= tolerance.
func checkClose(t *testing.T, name string, got []float32, want []float64, tolerance float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d values, want %d", name, len(got), len(want))
		return
	}
	if e := relErr(got, want); !(e < tolerance) {
		t.Errorf("%s: relative error %.3g, want < %.0e", name, e, tolerance)
	}
}

// addF64 returns a + b elementwise.
func addF64(a, b []float64) []float64 {
	s := make([]float64, len(a))
	for i := range a {
		s[i] = a[i] + b[i]
	}
	return s
}

// newTestCtx returns a Ctx on a pool of the given threads (0: all CPUs), closed at the end
// of the test.
func newTestCtx(t testing.TB, threads, workspace int) *Ctx {
	p := cpu.NewPool(threads)
	t.Cleanup(p.Close)
	return NewCtx(p, cpu.NewGemm(p), workspace)
}

// randPre returns a Pre for C channels: scales of both signs and shifts around 0 so that
// about half of the values pass the ReLU.
func randPre(r *rand.Rand, C int, drop float32, seed uint64) *Pre {
	return &Pre{Scale: randF32(r, C, -1.5, 1.5), Shift: randF32(r, C, -0.5, 0.5), Drop: drop, Seed: seed}
}

// refPreOf is refPre for a (possibly nil) Pre.
func refPreOf(n, C, HW int, x []float32, p *Pre) []float64 {
	if p == nil {
		return f64(x)
	}
	return ref.Pre(n, C, HW, f64(x), f64(p.Scale), f64(p.Shift), p.Drop, p.Seed)
}
