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
