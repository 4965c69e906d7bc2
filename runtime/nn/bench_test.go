package nn

import (
	"fmt"
	"testing"
)

// benchConvs are the 3x3 convolutions of WRN-16-4 on 32x32 inputs: the stride-1 conv of
// each group and the stride-2 first conv of groups 1 and 2.
var benchConvs = []struct {
	name string
	c    Conv
}{
	{"group0_64x32x32", mkConv(64, 32, 32, 64, 3, 1, 1)},
	{"group1s2_64x32x32", mkConv(64, 32, 32, 128, 3, 2, 1)},
	{"group1_128x16x16", mkConv(128, 16, 16, 128, 3, 1, 1)},
	{"group2s2_128x16x16", mkConv(128, 16, 16, 256, 3, 2, 1)},
	{"group2_256x8x8", mkConv(256, 8, 8, 256, 3, 1, 1)},
}

// BenchmarkConvForward runs ConvForward with a BN-ReLU Pre on all the pool's threads;
// GFLOP/s counts 2 x MACs.
func BenchmarkConvForward(b *testing.B) {
	for _, bc := range benchConvs {
		for _, n := range []int{1, 32} {
			b.Run(fmt.Sprintf("%s/n=%d", bc.name, n), func(b *testing.B) {
				c := bc.c
				d := benchData(c, n)
				ctx := newTestCtx(b, 0, WorkspaceFor(c))
				ConvForward(ctx, n, &c, d.x, d.w, d.pre, nil, d.y)
				b.ResetTimer()
				for b.Loop() {
					ConvForward(ctx, n, &c, d.x, d.w, d.pre, nil, d.y)
				}
				b.ReportMetric(2*float64(c.MACs())*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkConvBackward runs ConvBackward (weight and input gradients) with a BN-ReLU Pre;
// GFLOP/s counts 4 x MACs (two GEMMs of the forward's size).
func BenchmarkConvBackward(b *testing.B) {
	for _, bc := range benchConvs {
		for _, n := range []int{1, 32} {
			b.Run(fmt.Sprintf("%s/n=%d", bc.name, n), func(b *testing.B) {
				c := bc.c
				d := benchData(c, n)
				ctx := newTestCtx(b, 0, WorkspaceFor(c))
				ConvBackward(ctx, n, &c, d.x, d.w, d.pre, d.y, d.dw, d.dz, false)
				b.ResetTimer()
				for b.Loop() {
					ConvBackward(ctx, n, &c, d.x, d.w, d.pre, d.y, d.dw, d.dz, false)
				}
				b.ReportMetric(4*float64(c.MACs())*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

type benchBufs struct {
	x, w, y, dw, dz []float32
	pre             *Pre
}

// benchData returns random non-zero operands of c for a batch of n (y doubles as dy).
func benchData(c Conv, n int) benchBufs {
	r := newRand(uint64(c.C*1000 + c.H + n))
	return benchBufs{
		x:   randF32(r, n*c.C*c.H*c.W, -1, 1),
		w:   randF32(r, c.K*c.C*c.R*c.R, -1, 1),
		y:   randF32(r, n*c.K*c.OH*c.OW, -1, 1),
		dw:  make([]float32, c.K*c.C*c.R*c.R),
		dz:  make([]float32, n*c.C*c.H*c.W),
		pre: randPre(r, c.C, 0, 0),
	}
}

// wrnStride1 are the 3x3 stride-1 convolutions of WRN-16-4, the Winograd candidates.
var wrnStride1 = []struct {
	name string
	c    Conv
}{
	{"g0in_16x32x32", mkConv(16, 32, 32, 64, 3, 1, 1)},
	{"g0_64x32x32", mkConv(64, 32, 32, 64, 3, 1, 1)},
	{"g1_128x16x16", mkConv(128, 16, 16, 128, 3, 1, 1)},
	{"g2_256x8x8", mkConv(256, 8, 8, 256, 3, 1, 1)},
}

// BenchmarkConvAlgo runs ConvForward (BN-ReLU Pre, residual) by each method: im2col and
// GEMM ("direct") and Winograd F(2x2) and F(4x4), at batch 1 and 16, on 1 and 2
// threads. GFLOP/s is effective: 2 x the direct method's MACs per second.
func BenchmarkConvAlgo(b *testing.B) {
	for _, bc := range wrnStride1 {
		for _, n := range []int{1, 16} {
			for _, threads := range []int{1, 2} {
				for _, algo := range []struct {
					name string
					a    int
				}{{"direct", algoDirect}, {"F2", 2}, {"F4", 4}, {"auto", algoAuto}} {
					b.Run(fmt.Sprintf("%s/n=%d/t=%d/%s", bc.name, n, threads, algo.name), func(b *testing.B) {
						c := bc.c
						d := benchData(c, n)
						ctx := newAlgoCtx(b, threads, WorkspaceFor(c), algo.a)
						ConvForward(ctx, n, &c, d.x, d.w, d.pre, d.y, d.y)
						b.ResetTimer()
						for b.Loop() {
							ConvForward(ctx, n, &c, d.x, d.w, d.pre, d.y, d.y)
						}
						b.ReportMetric(2*float64(c.MACs())*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
					})
				}
			}
		}
	}
}

// wrnOther are the convolutions of WRN-16-4 that Winograd does not take.
var wrnOther = []struct {
	name string
	c    Conv
}{
	{"g1s2_64x32x32", mkConv(64, 32, 32, 128, 3, 2, 1)},
	{"g2s2_128x16x16", mkConv(128, 16, 16, 256, 3, 2, 1)},
	{"g1dim_64x32x32", mkConv(64, 32, 32, 128, 1, 2, 0)},
	{"g0dim_16x32x32", mkConv(16, 32, 32, 64, 1, 1, 0)},
}

// BenchmarkConvDirect runs ConvForward (BN-ReLU Pre) of the strided and 1x1 convolutions
// by im2col and GEMM ("im2col") and by im2row on channel-blocked input ("auto"), at batch
// 1 and 16, on 1 and 2 threads; GFLOP/s counts 2 x MACs.
func BenchmarkConvDirect(b *testing.B) {
	for _, bc := range wrnOther {
		for _, n := range []int{1, 16} {
			for _, threads := range []int{1, 2} {
				for _, algo := range []struct {
					name string
					a    int
				}{{"im2col", algoDirect}, {"auto", algoAuto}} {
					b.Run(fmt.Sprintf("%s/n=%d/t=%d/%s", bc.name, n, threads, algo.name), func(b *testing.B) {
						c := bc.c
						d := benchData(c, n)
						ctx := newAlgoCtx(b, threads, WorkspaceFor(c), algo.a)
						ConvForward(ctx, n, &c, d.x, d.w, d.pre, nil, d.y)
						b.ResetTimer()
						for b.Loop() {
							ConvForward(ctx, n, &c, d.x, d.w, d.pre, nil, d.y)
						}
						b.ReportMetric(2*float64(c.MACs())*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
					})
				}
			}
		}
	}
}

// BenchmarkConvBackwardAlgo runs ConvBackward (weight and input gradients, BN-ReLU Pre)
// of the WRN-16-4 convolutions by each method at batch 16 on 1 and 2 threads; GFLOP/s is
// effective: 4 x the direct method's MACs per second.
func BenchmarkConvBackwardAlgo(b *testing.B) {
	shapes := append(append([]struct {
		name string
		c    Conv
	}{}, wrnStride1...), wrnOther...)
	for _, bc := range shapes {
		for _, threads := range []int{1, 2} {
			for _, algo := range []struct {
				name string
				a    int
			}{{"im2col", algoDirect}, {"F2", 2}, {"F4", 4}, {"auto", algoAuto}} {
				if algo.a > 0 && (bc.c.R != 3 || bc.c.S != 1) {
					continue
				}
				b.Run(fmt.Sprintf("%s/n=16/t=%d/%s", bc.name, threads, algo.name), func(b *testing.B) {
					const n = 16
					c := bc.c
					d := benchData(c, n)
					ctx := newAlgoCtx(b, threads, WorkspaceFor(c), algo.a)
					ConvBackward(ctx, n, &c, d.x, d.w, d.pre, d.y, d.dw, d.dz, false)
					b.ResetTimer()
					for b.Loop() {
						ConvBackward(ctx, n, &c, d.x, d.w, d.pre, d.y, d.dw, d.dz, false)
					}
					b.ReportMetric(4*float64(c.MACs())*n*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}
