package cpu

import (
	"fmt"
	"testing"
)

// BenchmarkPeak measures the FMA throughput ceiling of this machine per vector
// width, with no memory traffic: width=256 runs 12 independent 8-wide FMA chains
// (fmaPeak), width=512 24 independent 16-wide ones (fmaPeak512), on each of
// threads threads (threads=1 on the calling goroutine, also reporting
// cpuGFLOP/s, see cpuRate). The Gemm and Kernel figures of the same run are
// quoted as a fraction of it. Where 512-bit FMAs run as two 256-bit halves (Zen 4) both
// widths give the same GFLOP/s; where they run at full width (Zen 5, Intel
// server cores with two 512-bit FMA units) width=512 gives twice as much.
func BenchmarkPeak(b *testing.B) {
	f := detect()
	for _, w := range []struct {
		width int
		ok    bool
		flops float64 // per call iteration
		run   func(n int)
	}{
		{256, f.avx2 && f.fma, 192, fmaPeak},
		{512, f.avx512f, 768, fmaPeak512},
	} {
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("width=%d/threads=%d", w.width, threads), func(b *testing.B) {
				if !w.ok {
					b.Skipf("no %d-bit FMA on this CPU/OS (detect() = %+v)", w.width, f)
				}
				const iters = 1 << 16
				flops := w.flops * float64(iters) * float64(threads)
				if threads == 1 {
					// On the calling goroutine, for cpuGFLOP/s.
					stop := cpuRate(b)
					for b.Loop() {
						w.run(iters)
					}
					b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
					stop(flops * float64(b.N))
					return
				}
				p := NewPool(threads)
				defer p.Close()
				for b.Loop() {
					p.For(threads, func(lo, hi int) {
						for range hi - lo {
							w.run(iters)
						}
					})
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkBandwidth measures the read bandwidth of this machine's memory hierarchy, the
// ceiling of the memory-bound kernels (batch-1 GEMMs stream their weights once): each
// thread sums its own buffer of size bytes with 256- or 512-bit loads (readPeak,
// readPeak512), size chosen to sit in L1 (16 KiB), L2 (256 KiB), L3 (8 MiB), the edge of
// a 32 MiB L3 that other tenants share (32 MiB: what a network's weights at batch 1 may
// find) or main memory (256 MiB). GB/s counts the bytes read by all threads.
// Buffers hold random values, filled before the timer starts.
func BenchmarkBandwidth(b *testing.B) {
	f := detect()
	for _, w := range readKernels(f) {
		for _, size := range []int{16 << 10, 256 << 10, 8 << 20, 32 << 20, 256 << 20} {
			for _, threads := range []int{1, 2} {
				b.Run(fmt.Sprintf("width=%d/size=%s/threads=%d", w.width, sizeName(size), threads), func(b *testing.B) {
					if !w.ok {
						b.Skipf("no %d-bit loads on this CPU/OS (detect() = %+v)", w.width, f)
					}
					bufs := make([][]float32, threads)
					r := uint32(size)
					for t := range bufs {
						bufs[t] = make([]float32, size/4)
						for i := range bufs[t] {
							r = r*1664525 + 1013904223
							bufs[t][i] = float32(r>>8) / (1 << 24)
						}
					}
					// Enough passes per call that a loop's start-up is noise.
					passes := max(1, (64<<20)/size)
					sums := make([]float32, threads)
					p := NewPool(threads)
					defer p.Close()
					for b.Loop() {
						p.ForChunk(threads, func(t, lo, hi int) {
							var s float32 // kept local: threads writing sums[t] each pass would share its cache line
							for range passes {
								s += w.run(&bufs[t][0], size)
							}
							sums[t] += s
						})
					}
					if sums[0] == 0 {
						b.Fatalf("%s summed a buffer of random positive values to 0", b.Name())
					}
					bytes := float64(size) * float64(passes) * float64(threads) * float64(b.N)
					b.ReportMetric(bytes/b.Elapsed().Seconds()/1e9, "GB/s")
				})
			}
		}
	}
}

// readKernel is one of the bandwidth kernels: its load width in bits, whether this CPU
// runs it, and the kernel.
type readKernel struct {
	width int
	ok    bool
	run   func(p *float32, n int) float32
}

func readKernels(f features) []readKernel {
	return []readKernel{{256, f.avx2, readPeak}, {512, f.avx512f, readPeak512}}
}

// sizeName writes a buffer size in KiB or MiB.
func sizeName(n int) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%dMiB", n>>20)
	}
	return fmt.Sprintf("%dKiB", n>>10)
}

// TestReadPeak checks the bandwidth kernels read every vector once: over a buffer of
// ones, lane 0 of their sum is the vectors read.
func TestReadPeak(t *testing.T) {
	for _, w := range readKernels(detect()) {
		if !w.ok {
			t.Logf("no %d-bit loads on this CPU; readPeak of that width untested", w.width)
			continue
		}
		vec := w.width / 8 // bytes a load
		buf := make([]float32, 64*vec)
		for i := range buf {
			buf[i] = 1
		}
		if got, want := w.run(&buf[0], 4*len(buf)), float32(4*len(buf)/vec); got != want {
			t.Errorf("%d-bit readPeak over %d ones: %v, want %v", w.width, len(buf), got, want)
		}
	}
}
