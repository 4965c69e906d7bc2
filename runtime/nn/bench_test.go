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
