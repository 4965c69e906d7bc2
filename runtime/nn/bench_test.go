package nn

import (
	"fmt"
	"testing"
)

// BenchmarkConvForward runs the forward pass (BN-ReLU Pre, residual) of the WRN-16-4
// convolutions by each method that takes them, at batch 1 and 16, on 1 and 2 threads,
// derived weights made once. GFLOP/s is effective: 2 x the direct method's MACs per second.
func BenchmarkConvForward(b *testing.B) {
	for _, bc := range benchShapes() {
		for _, n := range []int{1, 16} {
			for _, threads := range []int{1, 2} {
				for _, m := range methodsFor(bc.c) {
					b.Run(fmt.Sprintf("%s/n=%d/t=%d/%s", bc.name, n, threads, m), func(b *testing.B) {
						c := bc.c
						d := benchData(c, n)
						ctx := newTestCtx(b, threads, WorkspaceFor(c))
						dv := m.derive(ctx, &c, d.w, false)
						m.fwd(ctx, n, &c, d.x, d.w, dv, d.pre, d.y, d.y)
						b.ResetTimer()
						for b.Loop() {
							m.fwd(ctx, n, &c, d.x, d.w, dv, d.pre, d.y, d.y)
						}
						b.ReportMetric(2*float64(c.MACs())*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
					})
				}
			}
		}
	}
}

// BenchmarkConvBackward runs the backward pass (weight and input gradients, BN-ReLU Pre)
// of the WRN-16-4 convolutions by each method at batch 16 on 1 and 2 threads; GFLOP/s is
// effective: 4 x the direct method's MACs per second.
func BenchmarkConvBackward(b *testing.B) {
	for _, bc := range benchShapes() {
		for _, threads := range []int{1, 2} {
			for _, m := range methodsFor(bc.c) {
				b.Run(fmt.Sprintf("%s/n=16/t=%d/%s", bc.name, threads, m), func(b *testing.B) {
					const n = 16
					c := bc.c
					d := benchData(c, n)
					ctx := newTestCtx(b, threads, WorkspaceFor(c))
					dv := m.derive(ctx, &c, d.w, true)
					m.bwd(ctx, n, &c, d.x, d.w, dv, d.pre, d.y, d.dw, d.dz, false)
					b.ResetTimer()
					for b.Loop() {
						m.bwd(ctx, n, &c, d.x, d.w, dv, d.pre, d.y, d.dw, d.dz, false)
					}
					b.ReportMetric(4*float64(c.MACs())*n*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}

// BenchmarkDerivedWeights runs the weight transforms of the WRN-16-4 convolutions (what
// the compiled step does after each update) on all threads.
func BenchmarkDerivedWeights(b *testing.B) {
	for _, bc := range benchShapes() {
		for _, m := range methodsFor(bc.c) {
			if m.kind != kIm2row && m.kind != kWinograd {
				continue
			}
			b.Run(fmt.Sprintf("%s/%s", bc.name, m), func(b *testing.B) {
				c := bc.c
				d := benchData(c, 1)
				ctx := newTestCtx(b, 0, WorkspaceFor(c))
				for b.Loop() {
					m.derive(ctx, &c, d.w, true)
				}
			})
		}
	}
}

// benchShapes are the convolutions of WRN-16-4 on 32x32 inputs.
func benchShapes() []struct {
	name string
	c    Conv
} {
	return append(wrnStride1[:len(wrnStride1):len(wrnStride1)], wrnOther...)
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
