package nn

import (
	"fmt"
	"math"
	"testing"

	"github.com/wrnc/wrnc/runtime/contract"
)

// TestThreadCountIndependent runs every method's forward and backward pass on 1, 2, 3 and
// 5 threads, at batches that do and do not divide among them, with dropout in the loaded
// input: every output must be bit-identical, so that a training run does not depend on
// --threads.
func TestThreadCountIndependent(t *testing.T) {
	shapes := []struct {
		name string
		c    Conv
	}{
		{"3x3", Conv{C: 16, H: 10, W: 10, K: 24, R: 3, S: 1, P: 1, OH: 10, OW: 10}},
		// Several Winograd chunks, in groups that 2 threads share evenly and 3 or 5 not.
		{"3x3 32x32", Conv{C: 16, H: 32, W: 32, K: 16, R: 3, S: 1, P: 1, OH: 32, OW: 32}},
		// One image that F(4x4) cuts into two chunks of 8 tiles on 2 threads (balance).
		{"3x3 16x16", Conv{C: 16, H: 16, W: 16, K: 32, R: 3, S: 1, P: 1, OH: 16, OW: 16}},
		{"3x3 stride 2", Conv{C: 16, H: 10, W: 10, K: 24, R: 3, S: 2, P: 1, OH: 5, OW: 5}},
		{"1x1", Conv{C: 16, H: 6, W: 6, K: 8, R: 1, S: 1, P: 0, OH: 6, OW: 6}},
	}
	for _, sh := range shapes {
		for _, m := range methodsFor(sh.c) {
			for _, n := range []int{1, 7, 16} {
				t.Run(fmt.Sprintf("%s/%s/n=%d", sh.name, m, n), func(t *testing.T) {
					c := sh.c
					var want [3][]float32 // y, dw, dz on one thread
					for _, threads := range []int{1, 2, 3, 5} {
						d := benchData(c, n)
						d.pre.Drop, d.pre.Seed = 0.25, 9
						ctx := newTestCtx(t, threads, WorkspaceFor(c))
						dv := m.derive(ctx, &c, d.w, true)
						y := make([]float32, len(d.y))
						m.fwd(ctx, n, &c, d.x, d.w, dv, d.pre, nil, y)
						m.bwd(ctx, n, &c, d.x, d.w, dv, d.pre, d.y, d.dw, d.dz, false)
						if err := ctx.Err(); err != nil {
							t.Fatal(err)
						}
						got := [3][]float32{y, d.dw, d.dz}
						if threads == 1 {
							want = got
							continue
						}
						for i, name := range []string{"y", "dw", "dz"} {
							if j := firstDiff(want[i], got[i]); j >= 0 {
								t.Errorf("%d threads: %s[%d] = %v, on 1 thread %v", threads, name, j, got[i][j], want[i][j])
							}
						}
					}
				})
			}
		}
	}
}

// forwardThreadCountIndependent runs fwd (the forward pass of c on n images of d into y)
// on 1, 2, 3 and 5 threads and checks that the outputs are bit-identical.
func forwardThreadCountIndependent(t *testing.T, convs []Conv, ns []int, fwd func(ctx *Ctx, n int, c *Conv, d benchBufs, y []float32)) {
	t.Helper()
	for _, c := range convs {
		for _, n := range ns {
			t.Run(fmt.Sprintf("C%d-%dx%d-K%d-R%d/n=%d", c.C, c.H, c.W, c.K, c.R, n), func(t *testing.T) {
				var want []float32
				for _, threads := range []int{1, 2, 3, 5} {
					d := benchData(c, n)
					ctx := newTestCtx(t, threads, WorkspaceFor(c))
					y := make([]float32, len(d.y))
					fwd(ctx, n, &c, d, y)
					if err := ctx.Err(); err != nil {
						t.Fatal(err)
					}
					if threads == 1 {
						want = y
						continue
					}
					if j := firstDiff(want, y); j >= 0 {
						t.Errorf("%d threads: y[%d] = %v, on 1 thread %v", threads, j, y[j], want[j])
					}
				}
			})
		}
	}
}

// TestIm2rowThreadCountIndependent is TestThreadCountIndependent for the im2row forward
// pass, on shapes whose chunks are split into blocks of output panels at small batches
// (newRowShape) and one whose depth is a multiple of 512 (rowLda).
func TestIm2rowThreadCountIndependent(t *testing.T) {
	convs := []Conv{mkConv(320, 24, 24, 40, 3, 2, 1), mkConv(512, 6, 6, 24, 1, 2, 0), mkConv(64, 16, 16, 72, 3, 2, 1)}
	forwardThreadCountIndependent(t, convs, []int{1, 3}, func(ctx *Ctx, n int, c *Conv, d benchBufs, y []float32) {
		wp := make([]float32, contract.RowWeightsLen(c, false))
		RowWeights(ctx, c, d.w, wp)
		Im2rowForward(ctx, n, c, d.x, wp, d.pre, d.y, y)
	})
}

// TestIm2colThreadCountIndependent is TestThreadCountIndependent for the forward pass of
// im2col without a Pre (packed panels, colpanels.go), on a stem-like 7x7/2 whose blocks
// of panels depend on the thread count.
func TestIm2colThreadCountIndependent(t *testing.T) {
	convs := []Conv{mkConv(3, 45, 43, 24, 7, 2, 3), mkConv(4, 36, 36, 20, 3, 1, 1)}
	forwardThreadCountIndependent(t, convs, []int{1, 3}, func(ctx *Ctx, n int, c *Conv, d benchBufs, y []float32) {
		Im2colForward(ctx, n, c, d.x, d.w, nil, d.y, y)
	})
}

// TestPointwiseThreadCountIndependent is TestThreadCountIndependent for the forward pass
// of pointwise convolutions with a BN-ReLU but no dropout (packed through the BN-ReLU,
// pointwise.go), on shapes that split by rows, by columns and into several column blocks, and one whose
// weights are packed on some thread counts and not on others (pwPackACols).
func TestPointwiseThreadCountIndependent(t *testing.T) {
	convs := []Conv{mkConv(340, 5, 5, 40, 1, 1, 0), mkConv(1200, 16, 16, 16, 1, 1, 0), mkConv(24, 7, 7, 40, 1, 1, 0), mkConv(20, 5, 5, 300, 1, 1, 0), mkConv(8, 25, 25, 20, 1, 1, 0)}
	forwardThreadCountIndependent(t, convs, []int{1, 3, 16}, func(ctx *Ctx, n int, c *Conv, d benchBufs, y []float32) {
		PointwiseForward(ctx, n, c, d.x, d.w, d.pre, d.y, y)
	})
}

// firstDiff is the first index where a and b differ in their bits, or -1.
func firstDiff(a, b []float32) int {
	if len(a) != len(b) {
		return 0
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i
		}
	}
	return -1
}

// TestWgradGroups checks the groups a Winograd weight gradient is summed in: bounded by
// the chunks, by maxSumGroups and by the memory budget, but at least 2 where 2 chunks
// allow it.
func TestWgradGroups(t *testing.T) {
	for _, tc := range []struct{ nq, mhat, want int }{
		{1, 100, 1}, {4, 100, 4}, {40, 100, maxSumGroups},
		{40, wgradPartsBudget / 3, 3}, {40, wgradPartsBudget, 2}, {40, 4 * wgradPartsBudget, 2}, {1, 4 * wgradPartsBudget, 1},
	} {
		if got := wgradGroups(tc.nq, tc.mhat); got != tc.want {
			t.Errorf("wgradGroups(%d, %d) = %d, want %d", tc.nq, tc.mhat, got, tc.want)
		}
	}
}

// TestThreadCountIndependentPostAct runs the kernels of post-activation networks (max
// pool through a BN-ReLU, add-ReLU with a BN shortcut, BN backward without ReLU, the head
// without BN-ReLU) on 1, 2 and 3 threads at batches that do and do not divide among
// them: every output must be bit-identical.
func TestThreadCountIndependentPostAct(t *testing.T) {
	p := mkPool(5, 15, 14, 3, 2, 1)
	const C, HW, F = 6, 33, 4
	for _, n := range []int{1, 3, 4} {
		t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
			r := newRand(uint64(2000 + n))
			x, pre := gridData(r, n*p.C*p.H*p.W, p.C)
			dy := randF32(r, n*p.C*p.OH*p.OW, -1, 1)
			size := n * C * HW
			y, res, dz := randF32(r, size, -1, 3), randF32(r, size, -1, 3), randF32(r, size, -1, 1)
			bp, bq := randBN(2010, C), randBN(2011, C)
			mean, invstd := randF32(r, C, -0.2, 0.2), randF32(r, C, 0.5, 2)
			fcW, fcB := randF32(r, F*C, -1, 1), randF32(r, F, -1, 1)
			var want [][]float32
			for _, threads := range []int{1, 2, 3} {
				ctx := newTestCtx(t, threads, 0)
				py, pdz := make([]float32, len(dy)), make([]float32, len(x))
				MaxPoolForward(ctx, n, &p, x, pre, py)
				MaxPoolBackward(ctx, n, &p, x, pre, dy, pdz)
				z, g := make([]float32, size), make([]float32, size)
				AddReLUForward(ctx, n, C, HW, y, bp.gamma, bp.beta, res, bq.gamma, bq.beta, z)
				AddReLUBackward(ctx, n, C, HW, z, dz, g)
				dx, dg, db := make([]float32, size), make([]float32, C), make([]float32, C)
				BNBackward(ctx, n, C, HW, y, mean, invstd, bp.gamma, g, dx, false, dg, db)
				pooled, logits := make([]float32, n*C), make([]float32, n*F)
				HeadForward(ctx, n, C, HW, F, z, nil, nil, fcW, fcB, pooled, logits)
				got := [][]float32{py, pdz, z, g, dx, dg, db, pooled, logits}
				if threads == 1 {
					want = got
					continue
				}
				for i, name := range []string{"pool y", "pool dz", "add z", "add g", "bn dx", "bn dgamma", "bn dbeta", "pooled", "logits"} {
					if j := firstDiff(want[i], got[i]); j >= 0 {
						t.Errorf("%d threads: %s[%d] = %v, on 1 thread %v", threads, name, j, got[i][j], want[i][j])
					}
				}
			}
		})
	}
}
