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
						benchForward(b, bc.c, n, threads, m, true)
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
					benchBackward(b, bc.c, 16, threads, m)
				})
			}
		}
	}
}

// BenchmarkDerivedWeights times the weight transforms alone (forward and input-gradient
// weights, what the compiled step does after each update) on all threads, into buffers
// made once: of the WRN-16-4 convolutions, and of WRN-50-2's stride-1 3x3s (wrn50/).
func BenchmarkDerivedWeights(b *testing.B) {
	shapes := benchShapes()
	for _, bc := range wrn50Shapes {
		if bc.c.Winograd3() {
			shapes = append(shapes, struct {
				name string
				c    Conv
			}{"wrn50/" + bc.name, bc.c})
		}
	}
	for _, bc := range shapes {
		for _, m := range methodsFor(bc.c) {
			if m.kind != kIm2row && m.kind != kWinograd {
				continue
			}
			b.Run(fmt.Sprintf("%s/%s", bc.name, m), func(b *testing.B) {
				c := bc.c
				d := benchData(c, 1)
				ctx := newTestCtx(b, 0, WorkspaceFor(c))
				dv := m.derive(ctx, &c, d.w, true)
				for b.Loop() {
					m.rederive(ctx, &c, d.w, &dv)
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

// wrn50Shapes are the distinct convolutions of WRN-50-2-bottleneck at 3x224x224 (the
// stem, and per stage the bottleneck's 1x1s, its 3x3, the strided 3x3 and downsample of
// the first block).
var wrn50Shapes = []struct {
	name string
	c    Conv
}{
	{"stem_3x224", mkConv(3, 224, 224, 64, 7, 2, 3)},
	{"l1pw_256to128x56", mkConv(256, 56, 56, 128, 1, 1, 0)},
	{"l1pw_128to256x56", mkConv(128, 56, 56, 256, 1, 1, 0)},
	{"l1_128x56", mkConv(128, 56, 56, 128, 3, 1, 1)},
	{"l2s2_256x56", mkConv(256, 56, 56, 256, 3, 2, 1)},
	{"l2ds_256to512x56", mkConv(256, 56, 56, 512, 1, 2, 0)},
	{"l2pw_512to256x28", mkConv(512, 28, 28, 256, 1, 1, 0)},
	{"l2_256x28", mkConv(256, 28, 28, 256, 3, 1, 1)},
	{"l3s2_512x28", mkConv(512, 28, 28, 512, 3, 2, 1)},
	{"l3pw_1024to512x14", mkConv(1024, 14, 14, 512, 1, 1, 0)},
	{"l3_512x14", mkConv(512, 14, 14, 512, 3, 1, 1)},
	{"l4s2_1024x14", mkConv(1024, 14, 14, 1024, 3, 2, 1)},
	{"l4ds_1024to2048x14", mkConv(1024, 14, 14, 2048, 1, 2, 0)},
	{"l4pw_2048to1024x7", mkConv(2048, 7, 7, 1024, 1, 1, 0)},
	{"l4pw_1024to2048x7", mkConv(1024, 7, 7, 2048, 1, 1, 0)},
	{"l4_1024x7", mkConv(1024, 7, 7, 1024, 3, 1, 1)},
}

// BenchmarkConvForwardWRN50 runs the forward pass of WRN-50-2's convolutions by every
// method that takes them at batch 1 and 16 on 2 threads (the selection pass's table for
// the imagenet family rests on these figures). GFLOP/s is effective, as in
// BenchmarkConvForward.
func BenchmarkConvForwardWRN50(b *testing.B) {
	for _, bc := range wrn50Shapes {
		for _, n := range []int{1, 16} {
			for _, m := range methodsFor(bc.c) {
				b.Run(fmt.Sprintf("%s/n=%d/%s", bc.name, n, m), func(b *testing.B) {
					// The stem reads the image: no BN-ReLU, no residual.
					benchForward(b, bc.c, n, 2, m, bc.c.C != 3)
				})
			}
		}
	}
}

// BenchmarkConvBackwardWRN50 runs the backward pass of WRN-50-2's convolutions by every
// method that takes them at batch 16 on 2 threads; GFLOP/s as in BenchmarkConvBackward.
func BenchmarkConvBackwardWRN50(b *testing.B) {
	for _, bc := range wrn50Shapes {
		for _, m := range methodsFor(bc.c) {
			b.Run(fmt.Sprintf("%s/n=16/%s", bc.name, m), func(b *testing.B) {
				benchBackward(b, bc.c, 16, 2, m)
			})
		}
	}
}

// benchForward times m's forward pass of c on n images on threads threads, derived weights
// made once, with a BN-ReLU Pre and a residual (in place) when preRes; GFLOP/s is
// effective: 2 x the direct method's MACs per second.
func benchForward(b *testing.B, c Conv, n, threads int, m method, preRes bool) {
	d := benchData(c, n)
	ctx := newTestCtx(b, threads, WorkspaceFor(c))
	dv := m.derive(ctx, &c, d.w, false)
	pre, res := d.pre, d.y
	if !preRes {
		pre, res = nil, nil
	}
	m.fwd(ctx, n, &c, d.x, d.w, dv, pre, res, d.y)
	b.ResetTimer()
	for b.Loop() {
		m.fwd(ctx, n, &c, d.x, d.w, dv, pre, res, d.y)
	}
	b.ReportMetric(2*float64(c.MACs())*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// benchBackward times m's backward pass (weight and input gradients, BN-ReLU Pre) of c on
// n images on threads threads; GFLOP/s is effective: 4 x the direct method's MACs per
// second.
func benchBackward(b *testing.B, c Conv, n, threads int, m method) {
	d := benchData(c, n)
	ctx := newTestCtx(b, threads, WorkspaceFor(c))
	dv := m.derive(ctx, &c, d.w, true)
	m.bwd(ctx, n, &c, d.x, d.w, dv, d.pre, d.y, d.dw, d.dz, false)
	b.ResetTimer()
	for b.Loop() {
		m.bwd(ctx, n, &c, d.x, d.w, dv, d.pre, d.y, d.dw, d.dz, false)
	}
	b.ReportMetric(4*float64(c.MACs())*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkMaxPoolForward runs WRN-50-2's stem max pool (64x112x112, 3x3/2 pad 1, through
// the stem's BN-ReLU) on random input at batch 1 and 16 on 2 threads.
func BenchmarkMaxPoolForward(b *testing.B) {
	p := mkPool(64, 112, 112, 3, 2, 1)
	for _, n := range []int{1, 16} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			r := newRand(uint64(n))
			x, pre := gridData(r, n*p.C*p.H*p.W, p.C)
			y := make([]float32, n*p.C*p.OH*p.OW)
			ctx := newTestCtx(b, 2, 0)
			MaxPoolForward(ctx, n, &p, x, pre, y)
			b.ResetTimer()
			for b.Loop() {
				MaxPoolForward(ctx, n, &p, x, pre, y)
			}
		})
	}
}
