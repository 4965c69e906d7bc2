package cpu

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

// benchShapes are the convolution GEMMs of WRN-16-4 and WRN-28-10 for one
// 32x32 image (the forward pass of a 3x3 conv of each group, input channels =
// output channels: M = output channels, N = OH*OW, K = 9 * input channels) and
// a square reference. The backward benchmarks use the first six.
var benchShapes = []struct {
	name    string
	m, n, k int
}{
	{"wrn16-4_group0_64x1024x576", 64, 1024, 576},
	{"wrn16-4_group1_128x256x1152", 128, 256, 1152},
	{"wrn16-4_group2_256x64x2304", 256, 64, 2304},
	{"wrn28-10_group0_160x1024x1440", 160, 1024, 1440},
	{"wrn28-10_group1_320x256x2880", 320, 256, 2880},
	{"wrn28-10_group2_640x64x5760", 640, 64, 5760},
	{"square_1024", 1024, 1024, 1024},
}

// asmKinds are the assembly kernel families, the ones the GEMM benchmarks compare
// (the portable one is too slow for these shapes); a family this machine lacks is
// skipped.
var asmKinds = []kernelKind{kernelAVX2, kernelAVX512}

// benchKernels returns the family kind for a benchmark, or skips it.
func benchKernels(b *testing.B, kind kernelKind) kernelSet {
	ks, ok := kernelsFor(kind)
	if !ok {
		b.Skipf("this CPU or OS does not support the %s kernels", kind)
	}
	return ks
}

func BenchmarkGemm(b *testing.B) {
	for _, s := range benchShapes {
		for _, threads := range []int{1, 2} {
			for _, kind := range asmKinds {
				b.Run(fmt.Sprintf("%s/threads=%d/%s", s.name, threads, kind), func(b *testing.B) {
					benchGemm(b, benchKernels(b, kind), threads, false, false, s.m, s.n, s.k)
				})
			}
		}
	}
}

// BenchmarkGemmBackward runs the two GEMMs of a conv's backward pass for the
// WRN-16-4 and WRN-28-10 groups: the weight gradient dW = dY * col^T (transB: M = Cout,
// N = C*9, K = OH*OW) and the column gradient dcol = W^T * dY (transA:
// M = C*9, N = OH*OW, K = Cout).
func BenchmarkGemmBackward(b *testing.B) {
	for _, s := range benchShapes[:6] {
		for _, threads := range []int{1, 2} {
			for _, kind := range asmKinds {
				b.Run(fmt.Sprintf("%s/dW/threads=%d/%s", s.name, threads, kind), func(b *testing.B) {
					benchGemm(b, benchKernels(b, kind), threads, false, true, s.m, s.k, s.n)
				})
				b.Run(fmt.Sprintf("%s/dcol/threads=%d/%s", s.name, threads, kind), func(b *testing.B) {
					benchGemm(b, benchKernels(b, kind), threads, true, false, s.k, s.n, s.m)
				})
			}
		}
	}
}

func benchGemm(b *testing.B, ks kernelSet, threads int, transA, transB bool, m, n, k int) {
	p := NewPool(threads)
	defer p.Close()
	g := newGemmWith(p, ks)
	r := rand.New(rand.NewPCG(1, 2))
	a, bm, c := randSlice(r, m*k), randSlice(r, k*n), make([]float32, m*n)
	lda, ldb := k, n
	if transA {
		lda = m
	}
	if transB {
		ldb = k
	}
	g.Do(transA, transB, m, n, k, a, lda, bm, ldb, c, n, false)
	b.ResetTimer()
	var stop func(float64)
	if threads == 1 {
		stop = cpuRate(b) // Do runs on the calling goroutine
	}
	for b.Loop() {
		g.Do(transA, transB, m, n, k, a, lda, bm, ldb, c, n, false)
	}
	flops := 2 * float64(m) * float64(n) * float64(k) * float64(b.N)
	b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if stop != nil {
		stop(flops)
	}
}

// BenchmarkKernel runs the full-tile micro-kernel of each family on an
// L2-resident A (96 rows: 16 AVX2 tiles, 6 AVX-512 ones; row-major, or
// transposed for /T) and an L1-resident packed B panel of depth 256: the ceiling
// that Gemm approaches.
func BenchmarkKernel(b *testing.B) {
	for _, kind := range kernelKinds {
		for _, transA := range []bool{false, true} {
			name := kind.String() + "/N"
			if transA {
				name = kind.String() + "/T"
			}
			b.Run(name, func(b *testing.B) {
				ks := benchKernels(b, kind)
				const k, rows = 256, 96 // a multiple of 6 and of 16
				r := rand.New(rand.NewPCG(1, 2))
				a := randSlice(r, rows*k)
				bp := randSlice(r, k*nr)
				c := make([]float32, maxMR*nr)
				kern, stride, lda := ks.rowA[ks.mr], k, k
				if transA {
					kern, stride, lda = ks.colA[ks.mr], 1, rows
				}
				stop := cpuRate(b)
				for b.Loop() {
					for i := 0; i+ks.mr <= rows; i += ks.mr {
						kern(k, &a[i*stride], lda, &bp[0], &c[0], nr, true)
					}
				}
				flops := 2 * float64(rows*nr*k) * float64(b.N)
				b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				stop(flops)
			})
		}
	}
}

// BenchmarkIm2col builds the column matrix of one image for the 3x3 convs of
// WRN-16-4 (stride 1, pad 1; and the stride-2 entry of group1), with and
// without the fused BN-ReLU; MB/s counts the column matrix written.
func BenchmarkIm2col(b *testing.B) {
	convs := []struct {
		name       string
		c, h, w, s int
	}{
		{"group0_C64_32x32", 64, 32, 32, 1},
		{"group1_C128_16x16", 128, 16, 16, 1},
		{"group1_stride2_C64_32x32", 64, 32, 32, 2},
		{"group2_C256_8x8", 256, 8, 8, 1},
	}
	for _, cv := range convs {
		for _, bn := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/bn=%v", cv.name, bn), func(b *testing.B) {
				r := rand.New(rand.NewPCG(3, 4))
				oh, ow := (cv.h+2-3)/cv.s+1, (cv.w+2-3)/cv.s+1
				x := randSlice(r, cv.c*cv.h*cv.w)
				col := make([]float32, cv.c*9*oh*ow)
				var scale, shift []float32
				if bn {
					scale, shift = randSlice(r, cv.c), randSlice(r, cv.c)
				}
				b.SetBytes(int64(4 * len(col)))
				for b.Loop() {
					Im2col(x, cv.c, cv.h, cv.w, 3, 3, cv.s, 1, oh, ow, scale, shift, col)
				}
			})
		}
	}
}

// cpuRate measures the CPU time of the calling goroutine's OS thread (locked to it
// until stop) for the benchmark's single-threaded loop; stop reports flops per
// CPU-second as "cpuGFLOP/s" besides the wall-clock GFLOP/s, where the platform
// gives thread CPU time.
func cpuRate(b *testing.B) (stop func(flops float64)) {
	runtime.LockOSThread()
	t0 := threadCPU()
	return func(flops float64) {
		dt := threadCPU() - t0
		runtime.UnlockOSThread()
		if t0 > 0 && dt > 0 {
			b.ReportMetric(flops/dt.Seconds()/1e9, "cpuGFLOP/s")
		}
	}
}
