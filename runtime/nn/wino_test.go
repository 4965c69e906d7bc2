package nn

import (
	"fmt"
	"testing"

	"github.com/wrnc/wrnc/runtime/cpu"
)

// Winograd convolutions are not held to tol: F(m x m, 3 x 3) adds rounding in its
// transforms, which grows with m. The bounds below are on the same relative error
// (max|got - want| / max|want| against the float64 reference) with margin over the
// largest error measured on these tests' shapes (see TestWinoForward's log).
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

func TestWinoForward(t *testing.T) {
	for i, tc := range winoCases() {
		t.Run(tc.String(), func(t *testing.T) {
			cc := convCase{c: tc.c, n: tc.n, threads: tc.threads, pre: tc.pre, res: tc.res, inplace: tc.inplace}
			d := makeConvData(cc, uint64(500+i))
			ctx := newAlgoCtx(t, tc.threads, WorkspaceFor(tc.c), tc.m)
			y := make([]float32, len(d.y))
			res := d.res
			if tc.inplace && res != nil {
				copy(y, res)
				res = y
			}
			ConvForward(ctx, tc.n, &tc.c, d.x, d.w, d.pre, res, y)
			e := relErr(y, d.y)
			t.Logf("F(%dx%d,3x3) forward %s: relative error %.3g", tc.m, tc.m, shapeName(tc.c), e)
			checkClose(t, "y", y, d.y, winoTol[tc.m])
		})
	}
}

func TestWinoBackward(t *testing.T) {
	for i, tc := range winoCases() {
		t.Run(tc.String(), func(t *testing.T) {
			acc := tc.res
			cc := convCase{c: tc.c, n: tc.n, threads: tc.threads, pre: tc.pre, dz: 1}
			if acc {
				cc.dz = 2
			}
			d := makeConvData(cc, uint64(700+i))
			ctx := newAlgoCtx(t, tc.threads, WorkspaceFor(tc.c), tc.m)
			dw := make([]float32, len(d.dw))
			dz := randF32(newRand(3), len(d.dz), -9, 9)
			if acc {
				copy(dz, d.dz0)
			}
			ConvBackward(ctx, tc.n, &tc.c, d.x, d.w, d.pre, d.dy, dw, dz, acc)
			t.Logf("F(%dx%d,3x3) %s: dgrad relative error %.3g, wgrad %.3g", tc.m, tc.m, shapeName(tc.c), relErr(dz, d.dz), relErr(dw, d.dw))
			checkClose(t, "dz", dz, d.dz, winoTol[tc.m])
			checkClose(t, "dw", dw, d.dw, winoTol[tc.m])
		})
	}
}

// shapeName names a conv's shape for logs.
func shapeName(c Conv) string {
	return fmt.Sprintf("%dx%dx%d->%d", c.C, c.H, c.W, c.K)
}

// autoTol returns the bound for conv c at batch n and pass dir under automatic choice:
// Winograd's when it takes the pass, else tol.
func autoTol(ctx *Ctx, c *Conv, n, dir int) float64 {
	if m := ctx.winoTile(c, n, dir); m > 0 {
		return winoTol[m]
	}
	return tol
}

// TestConvAuto runs the convolution cases and the WRN shapes (strided and 1x1 ones
// included, which take the im2row path) with the method chosen automatically, forward
// and backward, each pass held to its method's bound.
func TestConvAuto(t *testing.T) {
	cases := convCases()
	for _, c := range []Conv{
		mkConv(64, 16, 16, 128, 3, 2, 1), mkConv(64, 16, 16, 128, 1, 2, 0), mkConv(16, 12, 12, 64, 1, 1, 0),
		mkConv(24, 9, 7, 20, 3, 1, 1), mkConv(12, 7, 9, 5, 5, 2, 2), mkConv(40, 8, 8, 24, 3, 1, 1),
	} {
		for _, n := range []int{1, 3} {
			cases = append(cases, convCase{c: c, n: n, threads: 2, pre: 1 + n%2, res: n == 1, inplace: n == 1, dz: n})
		}
	}
	for i, tc := range cases {
		t.Run(tc.String(), func(t *testing.T) {
			d := makeConvData(tc, uint64(300+i))
			ctx := newAlgoCtx(t, tc.threads, WorkspaceFor(tc.c), algoAuto)
			y := make([]float32, len(d.y))
			res := d.res
			if tc.inplace && res != nil {
				copy(y, res)
				res = y
			}
			ConvForward(ctx, tc.n, &tc.c, d.x, d.w, d.pre, res, y)
			checkClose(t, "y", y, d.y, autoTol(ctx, &tc.c, tc.n, dirForward))
			dw := randF32(newRand(1), len(d.dw), -9, 9)
			var dz []float32
			switch tc.dz {
			case 1:
				dz = randF32(newRand(2), len(d.dz), -9, 9)
			case 2:
				dz = append([]float32(nil), d.dz0...)
			}
			ConvBackward(ctx, tc.n, &tc.c, d.x, d.w, d.pre, d.dy, dw, dz, tc.dz == 2)
			checkClose(t, "dw", dw, d.dw, autoTol(ctx, &tc.c, tc.n, dirWgrad))
			if dz != nil {
				checkClose(t, "dz", dz, d.dz, autoTol(ctx, &tc.c, tc.n, dirDgrad))
			}
		})
	}
}

// TestWeightsCache checks that transformed weights are remade when the weights change in
// place (same slice, new values), and reused under a weights version only as promised.
func TestWeightsCache(t *testing.T) {
	c := mkConv(16, 8, 8, 24, 3, 1, 1)
	for _, algo := range []int{2, 4, algoAuto} {
		t.Run(fmt.Sprint(algo), func(t *testing.T) {
			tc := convCase{c: c, n: 2, threads: 2, pre: 1}
			d := makeConvData(tc, 77)
			ctx := newAlgoCtx(t, 2, WorkspaceFor(c), algo)
			y := make([]float32, len(d.y))
			ConvForward(ctx, tc.n, &c, d.x, d.w, d.pre, nil, y)
			bound := autoTol(ctx, &c, tc.n, dirForward)
			checkClose(t, "first", y, d.y, bound)
			// New weights in the same slice: the result must follow them.
			w2 := randF32(newRand(5), len(d.w), -1, 1)
			copy(d.w, w2)
			want := refConv(tc.n, c, refPreOf(tc.n, c.C, c.H*c.W, d.x, d.pre), f64(w2))
			ConvForward(ctx, tc.n, &c, d.x, d.w, d.pre, nil, y)
			checkClose(t, "changed", y, want, bound)
			// Under a version, unchanged weights are reused; a new version sees new weights.
			ctx.SetWeightsVersion(7)
			ConvForward(ctx, tc.n, &c, d.x, d.w, d.pre, nil, y)
			checkClose(t, "version 7", y, want, bound)
			copy(d.w, d.w[1:])
			ctx.SetWeightsVersion(8)
			want = refConv(tc.n, c, refPreOf(tc.n, c.C, c.H*c.W, d.x, d.pre), f64(d.w))
			ConvForward(ctx, tc.n, &c, d.x, d.w, d.pre, nil, y)
			checkClose(t, "version 8", y, want, bound)
		})
	}
}

// TestPortableKernels runs the Winograd and im2row paths on the portable Go kernels (the
// machines without AVX2), forward and backward, against the reference.
func TestPortableKernels(t *testing.T) {
	for i, tc := range []convCase{
		{c: mkConv(16, 9, 7, 24, 3, 1, 1), n: 2, threads: 2, pre: 1, res: true, dz: 2},
		{c: mkConv(24, 8, 8, 16, 3, 1, 1), n: 1, threads: 2, pre: 2, dz: 1},
		{c: mkConv(16, 9, 7, 24, 3, 2, 1), n: 2, threads: 1, pre: 1, res: true, dz: 1},
	} {
		for _, algo := range []int{2, 4, algoAuto} {
			t.Run(fmt.Sprintf("%s/algo=%d", tc, algo), func(t *testing.T) {
				d := makeConvData(tc, uint64(900+i))
				ctx := newAlgoCtx(t, tc.threads, WorkspaceFor(tc.c), algo)
				ctx.kern = cpu.PortableKernels()
				y := make([]float32, len(d.y))
				ConvForward(ctx, tc.n, &tc.c, d.x, d.w, d.pre, d.res, y)
				checkClose(t, "y", y, d.y, autoTol(ctx, &tc.c, tc.n, dirForward))
				dw := make([]float32, len(d.dw))
				dz := randF32(newRand(2), len(d.dz), -9, 9)
				if tc.dz == 2 {
					copy(dz, d.dz0)
				}
				ConvBackward(ctx, tc.n, &tc.c, d.x, d.w, d.pre, d.dy, dw, dz, tc.dz == 2)
				checkClose(t, "dw", dw, d.dw, autoTol(ctx, &tc.c, tc.n, dirWgrad))
				checkClose(t, "dz", dz, d.dz, autoTol(ctx, &tc.c, tc.n, dirDgrad))
			})
		}
	}
}
