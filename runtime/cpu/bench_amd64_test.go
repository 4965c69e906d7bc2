package cpu

import (
	"fmt"
	"testing"
)

// BenchmarkPeak measures the FMA throughput ceiling of this machine (12
// independent 8-wide FMA chains per thread, no memory traffic), to quote the
// Gemm figures of the same run as a fraction of it.
func BenchmarkPeak(b *testing.B) {
	if _, ok := kernelsFor(kernelAVX2); !ok {
		b.Skip("no AVX2/FMA")
	}
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			p := NewPool(threads)
			defer p.Close()
			const iters = 1 << 16
			for b.Loop() {
				p.For(threads, func(lo, hi int) {
					for range hi - lo {
						fmaPeak(iters)
					}
				})
			}
			flops := 192 * float64(iters) * float64(threads) * float64(b.N)
			b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
