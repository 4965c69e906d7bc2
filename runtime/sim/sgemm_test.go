package sim

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// gemmRef is C = A*B in float64 for row-major A (MxK) and B (KxN).
func gemmRef(a, b []float32, m, n, k int) []float64 {
	c := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for l := 0; l < k; l++ {
				s += float64(a[i*k+l]) * float64(b[l*n+j])
			}
			c[i*n+j] = s
		}
	}
	return c
}

func runSgemm(t testing.TB, k *Kernel, m, n, kk int, a, b []float32) ([]float32, Stats) {
	mem := NewMemory()
	da, db, dc := upload(t, mem, a), upload(t, mem, b), poisoned(t, mem, m*n)
	cfg := Config{Grid: Dim3{(n + 15) / 16, (m + 15) / 16, 1}, Block: Dim3{16, 16, 1}}
	st, err := k.Run(mem, cfg, da, db, dc, uint64(m), uint64(n), uint64(kk))
	if err != nil {
		t.Fatal(err)
	}
	return download(t, mem, dc, m*n), st
}

func TestSgemm(t *testing.T) {
	k := kernel(t, loadFile(t, "sgemm.ptx"), "sgemm")
	for _, s := range [][3]int{{16, 16, 16}, {33, 47, 29}, {64, 64, 64}, {1, 100, 3}, {50, 1, 70}} {
		m, n, kk := s[0], s[1], s[2]
		t.Run(fmt.Sprintf("%dx%dx%d", m, n, kk), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(5, uint64(m*n*kk)))
			a, b := randF32(rng, m*kk), randF32(rng, kk*n)
			got, _ := runSgemm(t, k, m, n, kk, a, b)
			if e := relErr(got, gemmRef(a, b, m, n, kk)); e > 1e-5 {
				t.Errorf("relative error %.3g", e)
			}
		})
	}
}

// BenchmarkSgemm reports simulated instructions per second on the tiled
// SGEMM kernel (128x128x128), on one worker and on all cores, and the
// simulated GFLOP/s.
func BenchmarkSgemm(b *testing.B) {
	k := kernel(b, loadFile(b, "sgemm.ptx"), "sgemm")
	const m, n, kk = 128, 128, 128
	rng := rand.New(rand.NewPCG(6, 6))
	a, bm := randF32(rng, m*kk), randF32(rng, kk*n)
	mem := NewMemory()
	da, db, dc := upload(b, mem, a), upload(b, mem, bm), upload(b, mem, make([]float32, m*n))
	for _, workers := range []int{1, 0} {
		name := "workers=1"
		if workers == 0 {
			name = "workers=all"
		}
		b.Run(name, func(b *testing.B) {
			cfg := Config{Grid: Dim3{n / 16, m / 16, 1}, Block: Dim3{16, 16, 1}, Workers: workers}
			var insts int64
			for b.Loop() {
				st, err := k.Run(mem, cfg, da, db, dc, m, n, kk)
				if err != nil {
					b.Fatal(err)
				}
				insts += st.Instructions
			}
			sec := b.Elapsed().Seconds()
			b.ReportMetric(float64(insts)/sec/1e6, "Minst/s")
			b.ReportMetric(2*m*n*kk*float64(b.N)/sec/1e9, "GFLOP/s")
		})
	}
}
