package nn

import (
	"fmt"
	"github.com/wrnc/wrnc/testdata/ref"
	"testing"

	"github.com/wrnc/wrnc/runtime/cpu"
)

// Winograd convolutions are not held to tol: F(m x m, 3 x 3) adds rounding in its
// transforms, which grows with m. The bounds below are on the same relative error
// (max|got - want| / max|want| against the float64 reference) with margin over the
// largest error measured on these tests' shapes (see TestWinograd's log).
var winoTol = map[int]float64{2: 1e-5, 4: 5e-5}

// winoCase is one Winograd test: shape, batch, threads, tile size, Pre kind (0 nil,
// 1 BN-ReLU, 2 with dropout), residual (and in place).
type winoCase struct {
	c            Conv
	n, threads   int
	m, pre       int
	res, inplace bool
}

func (tc winoCase) String() string {
	return fmt.Sprintf("C%dx%dx%d-K%d/n=%d/t=%d/F%d/pre=%d/res=%v/inplace=%v",
		tc.c.C, tc.c.H, tc.c.W, tc.c.K, tc.n, tc.threads, tc.m, tc.pre, tc.res, tc.inplace)
}

func winoCases() []winoCase {
	shapes := []Conv{
		mkConv(16, 32, 32, 64, 3, 1, 1),
		mkConv(64, 32, 32, 64, 3, 1, 1),
		mkConv(128, 16, 16, 128, 3, 1, 1),
		mkConv(256, 8, 8, 256, 3, 1, 1),
		mkConv(20, 7, 9, 24, 3, 1, 1), // partial tiles, channel padding
		mkConv(3, 5, 6, 17, 3, 1, 1),
	}
	// Four images of 64 channels at 32x32: two chunks of the weight gradient, so that
	// each of two threads sums its own.
	cases := []winoCase{{c: mkConv(64, 32, 32, 64, 3, 1, 1), n: 4, threads: 2, m: 4, pre: 1, res: true}}
	i := 0
	for _, c := range shapes {
		for _, m := range []int{2, 4} {
			for _, n := range []int{1, 3} {
				big := c.MACs() > 30<<20
				if big && n > 1 {
					continue // the float64 reference is slow
				}
				cases = append(cases, winoCase{c: c, n: n, threads: 1 + i%3, m: m, pre: i % 3, res: i%2 == 0, inplace: i%4 == 0})
				i++
			}
		}
	}
	return cases
}

// TestWinograd runs WinogradForward, WinogradWgrad and WinogradDgrad (with and without
// acc) on the Winograd shapes, and Im2colBackward for one gradient paired with Winograd
// for the other.
func TestWinograd(t *testing.T) {
	for i, tc := range winoCases() {
		t.Run(tc.String(), func(t *testing.T) {
			m := method{kind: kWinograd, m: tc.m}
			ctx := newTestCtx(t, tc.threads, WorkspaceFor(tc.c))
			cc := convCase{c: tc.c, n: tc.n, threads: tc.threads, pre: tc.pre, res: tc.res, inplace: tc.inplace, dz: 1}
			if tc.res {
				cc.dz = 2
			}
			d := makeConvData(cc, uint64(500+i))
			e := checkForward(t, ctx, m, cc, d)
			edw, edz := checkBackward(t, ctx, m, cc, d)
			t.Logf("F(%dx%d,3x3) %s: forward relative error %.3g, dgrad %.3g, wgrad %.3g", tc.m, tc.m, shapeName(tc.c), e, edz, edw)
			if i%3 != 0 {
				return
			}
			// Winograd for dz, im2col for dw, and the other way round.
			dw := randF32(newRand(1), len(d.dw), -9, 9)
			Im2colBackward(ctx, tc.n, &tc.c, d.x, d.w, d.pre, d.dy, dw, nil, false)
			checkClose(t, "im2col dw", dw, d.dw, tol)
			WinogradWgrad(ctx, tc.n, &tc.c, tc.m, d.x, d.pre, d.dy, dw)
			checkClose(t, "winograd dw", dw, d.dw, winoTol[tc.m])
			dz := randF32(newRand(2), len(d.dz), -9, 9)
			if cc.dz == 2 {
				copy(dz, d.dz0)
			}
			Im2colBackward(ctx, tc.n, &tc.c, d.x, d.w, d.pre, d.dy, nil, dz, cc.dz == 2)
			checkClose(t, "im2col dz", dz, d.dz, tol)
		})
	}
}

// shapeName names a conv's shape for logs.
func shapeName(c Conv) string {
	return fmt.Sprintf("%dx%dx%d->%d", c.C, c.H, c.W, c.K)
}

// TestDerivedWeightsRemade checks that the kernels hold no state across weights: after
// the derived weights are remade from new weights (in the same slices), the results
// follow the new weights.
func TestDerivedWeightsRemade(t *testing.T) {
	c := mkConv(16, 8, 8, 24, 3, 1, 1)
	for _, m := range methodsFor(c) {
		t.Run(m.String(), func(t *testing.T) {
			tc := convCase{c: c, n: 2, threads: 2, pre: 1}
			d := makeConvData(tc, 77)
			ctx := newTestCtx(t, 2, WorkspaceFor(c))
			y := make([]float32, len(d.y))
			m.forward(ctx, tc.n, &c, d.x, d.w, d.pre, nil, y)
			checkClose(t, "first", y, d.y, m.tol())
			copy(d.w, randF32(newRand(5), len(d.w), -1, 1))
			want := ref.Conv(tc.n, c, refPreOf(tc.n, c.C, c.H*c.W, d.x, d.pre), f64(d.w))
			m.forward(ctx, tc.n, &c, d.x, d.w, d.pre, nil, y)
			checkClose(t, "changed", y, want, m.tol())
		})
	}
}

// TestPortableKernels runs the Winograd and im2row methods on the portable Go kernels (the
// machines without AVX2), forward and backward, against the reference.
func TestPortableKernels(t *testing.T) {
	for i, tc := range []convCase{
		{c: mkConv(16, 9, 7, 24, 3, 1, 1), n: 2, threads: 2, pre: 1, res: true, dz: 2},
		{c: mkConv(24, 8, 8, 16, 3, 1, 1), n: 1, threads: 2, pre: 2, dz: 1},
		{c: mkConv(16, 9, 7, 24, 3, 2, 1), n: 2, threads: 1, pre: 1, res: true, dz: 1},
	} {
		d := makeConvData(tc, uint64(900+i))
		for _, m := range methodsFor(tc.c) {
			if m.kind == kIm2col {
				continue
			}
			t.Run(fmt.Sprintf("%s/%s", tc, m), func(t *testing.T) {
				ctx := newTestCtx(t, tc.threads, WorkspaceFor(tc.c))
				ctx.kern = cpu.PortableKernels()
				checkForward(t, ctx, m, tc, d)
				checkBackward(t, ctx, m, tc, d)
			})
		}
	}
}

// TestPlaneStride checks that the Winograd planes are at least their size apart, in
// whole 64-byte lines, an odd number of them (so that alpha^2 planes fall into distinct
// L1 sets).
func TestPlaneStride(t *testing.T) {
	for _, n := range []int{1, 8, 16, 32, 48, 1000, 4096, 64 * 64, 64 * 128, 36 * 16 * 8} {
		s := planeStride(n)
		if s < n || s%16 != 0 || s/16%2 != 1 || s-n > 32 {
			t.Errorf("planeStride(%d) = %d: want the least odd number of 16-float lines >= %d", n, s, n)
		}
	}
}
