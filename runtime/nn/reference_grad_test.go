package nn

import (
	"fmt"
	"github.com/wrnc/wrnc/testdata/ref"
	"math"
	"testing"
)

// Finite-difference checks of every backward formula of the float64 reference.

// fdTol bounds max|numeric - analytic| / max|analytic| for central differences in float64.
const fdTol = 1e-6

// fdCheck perturbs each v[i] by ±h, evaluates loss, and compares the central differences
// with the analytic gradient ana.
func fdCheck(t *testing.T, name string, v, ana []float64, loss func() float64) {
	t.Helper()
	const h = 1e-6
	num := make([]float64, len(v))
	for i := range v {
		old := v[i]
		v[i] = old + h
		lp := loss()
		v[i] = old - h
		lm := loss()
		v[i] = old
		num[i] = (lp - lm) / (2 * h)
	}
	var d, m float64
	for i := range num {
		d = max(d, math.Abs(num[i]-ana[i]))
		m = max(m, math.Abs(ana[i]))
	}
	if m == 0 {
		t.Errorf("%s: analytic gradient is all zeros", name)
		return
	}
	if !(d/m < fdTol) {
		t.Errorf("%s: finite differences differ by %.3g relative (max|analytic| %.3g), want < %.0e", name, d/m, m, fdTol)
	}
}

// dot returns sum a[i]*b[i].
func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// mkConv returns the Conv of the given sizes with its output size filled in.
func mkConv(C, H, W, K, R, S, P int) Conv {
	return Conv{C: C, H: H, W: W, K: K, R: R, S: S, P: P, OH: (H+2*P-R)/S + 1, OW: (W+2*P-R)/S + 1}
}

func TestRefConvGrad(t *testing.T) {
	for i, c := range []Conv{
		mkConv(3, 7, 5, 4, 3, 1, 1),
		mkConv(2, 9, 6, 3, 5, 2, 2),
		mkConv(3, 6, 7, 2, 1, 2, 0),
		mkConv(2, 7, 5, 2, 7, 1, 3),
		mkConv(1, 5, 4, 3, 3, 2, 1),
	} {
		t.Run(fmt.Sprintf("%+v", c), func(t *testing.T) {
			r := newRand(uint64(10 + i))
			const n = 2
			z := f64(randF32(r, n*c.C*c.H*c.W, -1, 1))
			w := f64(randF32(r, c.K*c.C*c.R*c.R, -1, 1))
			g := f64(randF32(r, n*c.K*c.OH*c.OW, -1, 1))
			dw, dz := ref.ConvBackward(n, c, z, w, g)
			loss := func() float64 { return dot(g, ref.Conv(n, c, z, w)) }
			fdCheck(t, "dz", z, dz, loss)
			fdCheck(t, "dw", w, dw, loss)
		})
	}
}

func TestRefBNReLUDropGrad(t *testing.T) {
	for i, tc := range []struct {
		n, C, HW int
		p        float32
	}{
		{3, 3, 10, 0},
		{3, 3, 10, 0.4},
		{1, 2, 6, 0},
		{2, 1, 35, 0.25},
	} {
		t.Run(fmt.Sprintf("n=%d,C=%d,HW=%d,p=%g", tc.n, tc.C, tc.HW, tc.p), func(t *testing.T) {
			r := newRand(uint64(20 + i))
			x := f64(randF32(r, tc.n*tc.C*tc.HW, -2, 2))
			gamma := f64(randF32(r, tc.C, 0.5, 1.5))
			beta := f64(randF32(r, tc.C, -0.3, 0.3))
			g := f64(randF32(r, len(x), -1, 1))
			const seed = 77
			dx, dgamma, dbeta := ref.BNReLUDropBackward(tc.n, tc.C, tc.HW, x, gamma, beta, tc.p, seed, g)
			loss := func() float64 { return dot(g, ref.BNReLUDrop(tc.n, tc.C, tc.HW, x, gamma, beta, tc.p, seed)) }
			fdCheck(t, "dx", x, dx, loss)
			fdCheck(t, "dgamma", gamma, dgamma, loss)
			fdCheck(t, "dbeta", beta, dbeta, loss)
		})
	}
}

func TestRefHeadGrad(t *testing.T) {
	const n, C, HW, F = 3, 4, 6, 5
	r := newRand(30)
	z := f64(randF32(r, n*C*HW, 0, 2))
	fcW := f64(randF32(r, F*C, -1, 1))
	fcB := f64(randF32(r, F, -1, 1))
	g := f64(randF32(r, n*F, -1, 1))
	pooled, _ := ref.Head(n, C, HW, F, z, fcW, fcB)
	dz, dfcW, dfcB := ref.HeadBackward(n, C, HW, F, pooled, fcW, g)
	loss := func() float64 {
		_, logits := ref.Head(n, C, HW, F, z, fcW, fcB)
		return dot(g, logits)
	}
	fdCheck(t, "dz", z, dz, loss)
	fdCheck(t, "dfcW", fcW, dfcW, loss)
	fdCheck(t, "dfcB", fcB, dfcB, loss)
}

func TestRefSoftmaxCEGrad(t *testing.T) {
	const n, F = 4, 7
	r := newRand(40)
	logits := f64(randF32(r, n*F, -3, 3))
	labels := []int32{0, 6, 3, 3}
	_, dlogits, _ := ref.SoftmaxCE(n, F, logits, labels)
	fdCheck(t, "dlogits", logits, dlogits, func() float64 {
		l, _, _ := ref.SoftmaxCE(n, F, logits, labels)
		return l
	})
}

func TestRefMaxPoolGrad(t *testing.T) {
	for i, p := range []Pool{
		mkPool(2, 7, 9, 3, 2, 1),
		mkPool(1, 6, 6, 3, 2, 1),
		mkPool(2, 5, 4, 3, 1, 1),
		mkPool(1, 6, 5, 2, 2, 0),
	} {
		t.Run(fmt.Sprintf("%+v", p), func(t *testing.T) {
			r := newRand(uint64(50 + i))
			const n = 2
			z := f64(randF32(r, n*p.C*p.H*p.W, -1, 1))
			dy := f64(randF32(r, n*p.C*p.OH*p.OW, -1, 1))
			dz := ref.MaxPoolBackward(n, p, z, dy)
			fdCheck(t, "dz", z, dz, func() float64 { return dot(dy, ref.MaxPool(n, p, z)) })
		})
	}
}

// TestRefAddReLUBNGrad checks the end of a post-activation block, relu(bn(y) + r) with r
// the shortcut's bn(res) or res itself, both BNs in training mode.
func TestRefAddReLUBNGrad(t *testing.T) {
	const n, C, HW = 3, 2, 10
	for i, bnShort := range []bool{false, true} {
		t.Run(fmt.Sprintf("bn shortcut=%v", bnShort), func(t *testing.T) {
			r := newRand(uint64(60 + i))
			y, res := f64(randF32(r, n*C*HW, -2, 2)), f64(randF32(r, n*C*HW, -2, 2))
			gamma, rgamma := f64(randF32(r, C, 0.5, 1.5)), f64(randF32(r, C, 0.5, 1.5))
			beta, rbeta := f64(randF32(r, C, -0.3, 0.3)), f64(randF32(r, C, -0.3, 0.3))
			dz := f64(randF32(r, n*C*HW, -1, 1))
			w := refPostActBlock(n, C, HW, y, gamma, beta, res, rgamma, rbeta, bnShort, dz)
			loss := func() float64 {
				return dot(dz, refPostActBlock(n, C, HW, y, gamma, beta, res, rgamma, rbeta, bnShort, dz).z)
			}
			fdCheck(t, "dy", y, w.dy, loss)
			fdCheck(t, "dgamma", gamma, w.dgamma, loss)
			fdCheck(t, "dbeta", beta, w.dbeta, loss)
			fdCheck(t, "dres", res, w.dres, loss)
			if bnShort {
				fdCheck(t, "shortcut dgamma", rgamma, w.rdgamma, loss)
				fdCheck(t, "shortcut dbeta", rbeta, w.rdbeta, loss)
			}
		})
	}
}
