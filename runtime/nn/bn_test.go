package nn

import (
	"fmt"
	"math"
	"testing"

	"github.com/wrnc/wrnc/runtime/contract"
	"github.com/wrnc/wrnc/testdata/ref"
)

type bnCase struct {
	n, C, HW, threads int
}

func (tc bnCase) String() string {
	return fmt.Sprintf("n=%d,C=%d,HW=%d,t=%d", tc.n, tc.C, tc.HW, tc.threads)
}

var bnCases = []bnCase{
	{1, 1, 35, 1},
	{3, 3, 35, 2},
	{1, 8, 54, 2},
	{3, 17, 15, 3},
	{4, 8, 1, 2},
	{1, 3, 1, 2}, // one value per channel: the running variance stays
}

// bnParams are BN parameters and running statistics, as float32.
type bnParams struct {
	gamma, beta, runMean, runVar []float32
}

func randBN(seed uint64, C int) bnParams {
	r := newRand(seed)
	return bnParams{
		gamma:   randF32(r, C, 0.5, 1.5),
		beta:    randF32(r, C, -0.3, 0.3),
		runMean: randF32(r, C, -0.2, 0.2),
		runVar:  randF32(r, C, 0.8, 1.2),
	}
}

// TestBNTrain checks the batch statistics, the scale and shift, and the running statistics
// against the float64 reference and PyTorch's update rule.
func TestBNTrain(t *testing.T) {
	for i, tc := range bnCases {
		t.Run(tc.String(), func(t *testing.T) {
			r := newRand(uint64(200 + i))
			x := randF32(r, tc.n*tc.C*tc.HW, -1, 3)
			p := randBN(uint64(300+i), tc.C)
			rm0, rv0 := f64(p.runMean), f64(p.runVar)
			mean, invstd := make([]float32, tc.C), make([]float32, tc.C)
			scale, shift := make([]float32, tc.C), make([]float32, tc.C)
			ctx := newTestCtx(t, tc.threads, 0)
			BNTrain(ctx, tc.n, tc.C, tc.HW, x, p.gamma, p.beta, p.runMean, p.runVar, mean, invstd, scale, shift)

			wm, wv := ref.BNStats(tc.n, tc.C, tc.HW, f64(x))
			wis := make([]float64, tc.C)
			for ch := range wis {
				wis[ch] = 1 / math.Sqrt(wv[ch]+1e-5)
			}
			wsc, wsh := ref.BNAffine(f64(p.gamma), f64(p.beta), wm, wv)
			wrm, wrv := ref.Running(tc.n*tc.HW, rm0, rv0, wm, wv)
			checkClose(t, "mean", mean, wm, tol)
			checkClose(t, "invstd", invstd, wis, tol)
			checkClose(t, "scale", scale, wsc, tol)
			checkClose(t, "shift", shift, wsh, tol)
			checkClose(t, "running_mean", p.runMean, wrm, tol)
			checkClose(t, "running_var", p.runVar, wrv, tol)
		})
	}
}

// TestBNRunningUpdate checks the running statistics against numbers worked out by hand
// with PyTorch's formulas: x = {1, 2, 3, 6} in one channel has mean 3, biased variance 3.5
// and unbiased variance 14/3; from running_mean 0.5, running_var 2 one step gives
// 0.9*0.5 + 0.1*3 = 0.75 and 0.9*2 + 0.1*14/3 = 2.2666...
func TestBNRunningUpdate(t *testing.T) {
	ctx := newTestCtx(t, 2, 0)
	x := []float32{1, 2, 3, 6}
	rm, rv := []float32{0.5}, []float32{2}
	mean, invstd, scale, shift := make([]float32, 1), make([]float32, 1), make([]float32, 1), make([]float32, 1)
	BNTrain(ctx, 2, 1, 2, x, []float32{2}, []float32{1}, rm, rv, mean, invstd, scale, shift)
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"running_mean", float64(rm[0]), 0.75},
		{"running_var", float64(rv[0]), 0.9*2 + 0.1*14.0/3},
		{"mean", float64(mean[0]), 3},
		{"invstd", float64(invstd[0]), 1 / math.Sqrt(3.5+1e-5)},
		{"scale", float64(scale[0]), 2 / math.Sqrt(3.5+1e-5)},
		{"shift", float64(shift[0]), 1 - 3*2/math.Sqrt(3.5+1e-5)},
	} {
		if math.Abs(c.got-c.want) > 1e-6*math.Abs(c.want) {
			t.Errorf("%s = %.8g, want %.8g", c.name, c.got, c.want)
		}
	}
}

func TestBNInfer(t *testing.T) {
	const C = 17
	p := randBN(400, C)
	scale, shift := make([]float32, C), make([]float32, C)
	BNInfer(C, p.gamma, p.beta, p.runMean, p.runVar, scale, shift)
	wsc, wsh := ref.BNAffine(f64(p.gamma), f64(p.beta), f64(p.runMean), f64(p.runVar))
	checkClose(t, "scale", scale, wsc, tol)
	checkClose(t, "shift", shift, wsh, tol)
}

// TestBNReLUBackward runs BNTrain then BNReLUBackward with the Pre that BNTrain's scale and
// shift make (with and without dropout, overwriting and accumulating dx) and compares with
// the reference gradient through the batch statistics.
func TestBNReLUBackward(t *testing.T) {
	for i, tc := range bnCases {
		if tc.n*tc.HW == 1 {
			continue // one value per channel: BN output is beta alone, a degenerate case
		}
		for _, drop := range []float32{0, 0.3} {
			for _, mode := range []string{"overwrite", "accumulate", "in place"} {
				acc := mode == "accumulate"
				t.Run(fmt.Sprintf("%v/drop=%g/%s", tc, drop, mode), func(t *testing.T) {
					r := newRand(uint64(500 + i))
					x := randF32(r, tc.n*tc.C*tc.HW, -1, 3)
					p := randBN(uint64(600+i), tc.C)
					mean, invstd := make([]float32, tc.C), make([]float32, tc.C)
					scale, shift := make([]float32, tc.C), make([]float32, tc.C)
					ctx := newTestCtx(t, tc.threads, 0)
					BNTrain(ctx, tc.n, tc.C, tc.HW, x, p.gamma, p.beta, p.runMean, p.runVar, mean, invstd, scale, shift)
					pre := &Pre{Scale: scale, Shift: shift, Drop: drop, Seed: 99}
					dz := randF32(r, len(x), -1, 1)
					dx0 := randF32(r, len(x), -1, 1)
					dx := append([]float32(nil), dx0...)
					if mode == "in place" {
						dx = dz
						dz = append([]float32(nil), dz...) // the reference's copy
					}
					dgamma, dbeta := randF32(r, tc.C, -9, 9), randF32(r, tc.C, -9, 9)
					in := dz
					if mode == "in place" {
						in = dx
					}
					BNReLUBackward(ctx, tc.n, tc.C, tc.HW, x, mean, invstd, p.gamma, pre, in, dx, acc, dgamma, dbeta)

					wdx, wdg, wdb := ref.BNReLUDropBackward(tc.n, tc.C, tc.HW, f64(x), f64(p.gamma), f64(p.beta), drop, 99, f64(dz))
					if acc {
						wdx = addF64(wdx, f64(dx0))
					}
					checkClose(t, "dx", dx, wdx, tol)
					checkClose(t, "dgamma", dgamma, wdg, tol)
					checkClose(t, "dbeta", dbeta, wdb, tol)
				})
			}
		}
	}
}

// TestBNBackward runs BNTrain then BNBackward (overwriting, accumulating and in place) and
// compares with the reference gradient of a BN without ReLU through the batch statistics.
func TestBNBackward(t *testing.T) {
	for i, tc := range bnCases {
		if tc.n*tc.HW == 1 {
			continue // as in TestBNReLUBackward
		}
		for _, mode := range []string{"overwrite", "accumulate", "in place"} {
			acc := mode == "accumulate"
			t.Run(fmt.Sprintf("%v/%s", tc, mode), func(t *testing.T) {
				r := newRand(uint64(1600 + i))
				x := randF32(r, tc.n*tc.C*tc.HW, -1, 3)
				p := randBN(uint64(1700+i), tc.C)
				mean, invstd := make([]float32, tc.C), make([]float32, tc.C)
				scale, shift := make([]float32, tc.C), make([]float32, tc.C)
				ctx := newTestCtx(t, tc.threads, 0)
				BNTrain(ctx, tc.n, tc.C, tc.HW, x, p.gamma, p.beta, p.runMean, p.runVar, mean, invstd, scale, shift)
				dz := randF32(r, len(x), -1, 1)
				dx0 := randF32(r, len(x), -1, 1)
				dx, in := append([]float32(nil), dx0...), dz
				if mode == "in place" {
					dx = append([]float32(nil), dz...)
					in = dx
				}
				dgamma, dbeta := randF32(r, tc.C, -9, 9), randF32(r, tc.C, -9, 9)
				BNBackward(ctx, tc.n, tc.C, tc.HW, x, mean, invstd, p.gamma, in, dx, acc, dgamma, dbeta)

				wm, wv := ref.BNStats(tc.n, tc.C, tc.HW, f64(x))
				wis := make([]float64, tc.C)
				for ch := range wis {
					wis[ch] = 1 / math.Sqrt(wv[ch]+1e-5)
				}
				wdx, wdg, wdb := ref.BNBackward(tc.n, tc.C, tc.HW, f64(x), f64(p.gamma), wm, wis, f64(dz), true)
				if acc {
					wdx = addF64(wdx, f64(dx0))
				}
				checkClose(t, "dx", dx, wdx, tol)
				checkClose(t, "dgamma", dgamma, wdg, tol)
				checkClose(t, "dbeta", dbeta, wdb, tol)
			})
		}
	}
}

// TestBNBackwardIsBNReLUUnclipped checks that BNBackward and BNReLUBackward agree bit for
// bit where the ReLU clips nothing (beta large enough that every bn(x) > 0).
func TestBNBackwardIsBNReLUUnclipped(t *testing.T) {
	const n, C, HW = 3, 5, 37 // planes of 37: the SIMD blocks and the scalar tail
	r := newRand(1800)
	x := randF32(r, n*C*HW, -1, 3)
	p := randBN(1801, C)
	for ch := range p.beta {
		p.beta[ch] += 4
	}
	mean, invstd := make([]float32, C), make([]float32, C)
	scale, shift := make([]float32, C), make([]float32, C)
	ctx := newTestCtx(t, 2, 0)
	BNTrain(ctx, n, C, HW, x, p.gamma, p.beta, p.runMean, p.runVar, mean, invstd, scale, shift)
	for e, v := range x {
		if ch := e / HW % C; bnrelu(v, scale[ch], shift[ch]) <= 0 {
			t.Fatalf("x[%d] clipped: the case is not unclipped", e)
		}
	}
	dz := randF32(r, len(x), -1, 1)
	for _, acc := range []bool{false, true} {
		dx0 := randF32(r, len(x), -1, 1)
		a, b := append([]float32(nil), dx0...), append([]float32(nil), dx0...)
		ag, ab, bg, bb := make([]float32, C), make([]float32, C), make([]float32, C), make([]float32, C)
		BNReLUBackward(ctx, n, C, HW, x, mean, invstd, p.gamma, &Pre{Scale: scale, Shift: shift}, dz, a, acc, ag, ab)
		BNBackward(ctx, n, C, HW, x, mean, invstd, p.gamma, dz, b, acc, bg, bb)
		for _, c := range []struct {
			name string
			a, b []float32
		}{{"dx", a, b}, {"dgamma", ag, bg}, {"dbeta", ab, bb}} {
			if j := firstDiff(c.a, c.b); j >= 0 {
				t.Errorf("acc=%v: %s[%d] = %v, BNReLUBackward's %v", acc, c.name, j, c.b[j], c.a[j])
			}
		}
	}
}

// TestFoldBN checks that a conv row of folded weights plus the bias is the BN of the row's
// output, against float64 on random inputs: sum(wf*x) + bias = gamma*(sum(w*x) -
// runMean)/sqrt(runVar+eps) + beta, and that the Pre scale is 1.
func TestFoldBN(t *testing.T) {
	for _, s := range [][2]int{{1, 1}, {3, 27}, {17, 9}, {64, 256}} {
		K, per := s[0], s[1]
		r := newRand(uint64(900 + K))
		bn := randBN(uint64(910+K), K)
		w, x := randF32(r, K*per, -1, 1), randF32(r, per, -1, 1)
		wf, one, bias := make([]float32, K*per), make([]float32, K), make([]float32, K)
		FoldBN(K, per, bn.gamma, bn.beta, bn.runMean, bn.runVar, w, wf, one, bias)
		for k := 0; k < K; k++ {
			var y, yf float64
			for i := 0; i < per; i++ {
				y += float64(w[k*per+i]) * float64(x[i])
				yf += float64(wf[k*per+i]) * float64(x[i])
			}
			want := float64(bn.gamma[k])*(y-float64(bn.runMean[k]))/math.Sqrt(float64(bn.runVar[k])+bnEps) + float64(bn.beta[k])
			got := yf + float64(bias[k])
			if math.Abs(got-want) > 1e-5*(1+math.Abs(want)) || one[k] != 1 {
				t.Errorf("K=%d per=%d channel %d: folded %g, BN %g (scale %g)", K, per, k, got, want, one[k])
			}
		}
	}
}

// TestFoldedTransforms checks that the transforms that fold a BN as they go equal, bit for
// bit, the plain transforms of FoldBN's folded weights, for output channel counts that fill
// part of a 16-channel panel, on several threads.
func TestFoldedTransforms(t *testing.T) {
	ctx := newTestCtx(t, 2, 0)
	for _, c := range []Conv{
		{C: 5, H: 6, W: 6, K: 19, R: 3, S: 1, P: 1, OH: 6, OW: 6},
		{C: 16, H: 8, W: 8, K: 32, R: 3, S: 1, P: 1, OH: 8, OW: 8},
	} {
		r := newRand(uint64(930 + c.K))
		bn := randBN(uint64(940+c.K), c.K)
		per := c.C * c.R * c.R
		w := randF32(r, c.K*per, -1, 1)
		wf, one, bias := make([]float32, len(w)), make([]float32, c.K), make([]float32, c.K)
		FoldBN(c.K, per, bn.gamma, bn.beta, bn.runMean, bn.runVar, w, wf, one, bias)
		same := func(what string, want, got []float32) {
			t.Helper()
			for i := range want {
				if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
					t.Fatalf("C=%d K=%d: %s differs at %d: %g, folded as it goes %g", c.C, c.K, what, i, want[i], got[i])
				}
			}
		}
		for _, m := range []int{2, 4} {
			n := contract.WinogradWeightsLen(&c, m, false)
			want, got := make([]float32, n), randF32(r, n, -1, 1)
			WinogradWeights(ctx, &c, m, false, wf, want)
			WinogradWeightsFolded(ctx, &c, m, bn.gamma, bn.runVar, w, got)
			same(fmt.Sprintf("F(%d) transform", m), want, got)
		}
		n := contract.RowWeightsLen(&c, false)
		want, got := make([]float32, n), randF32(r, n, -1, 1)
		RowWeights(ctx, &c, wf, want)
		RowWeightsFolded(ctx, &c, bn.gamma, bn.runVar, w, got)
		same("im2row packing", want, got)
	}
}
