package cpu

import (
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"
)

func TestFinalTmp(t *testing.T) {
	if os.Getenv("FINAL") == "" {
		t.Skip()
	}
	type shape struct {
		name    string
		tA, tB  bool
		m, n, k int
	}
	shapes := []shape{
		{"group0 64x1024x576", false, false, 64, 1024, 576},
		{"group1 128x256x1152", false, false, 128, 256, 1152},
		{"group2 256x64x2304", false, false, 256, 64, 2304},
		{"square 1024^3", false, false, 1024, 1024, 1024},
		{"group0 dW (tB) 64x576x1024", false, true, 64, 576, 1024},
		{"group0 dcol (tA) 576x1024x64", true, false, 576, 1024, 64},
		{"group2 dW (tB) 256x2304x64", false, true, 256, 2304, 64},
		{"group2 dcol (tA) 2304x64x256", true, false, 2304, 64, 256},
	}
	pools := []*Pool{NewPool(1), NewPool(2)}
	gs := []*Gemm{NewGemm(pools[0]), NewGemm(pools[1])}
	best := make([][2]float64, len(shapes))
	var peak [2]float64
	data := make([][3][]float32, len(shapes))
	for si, s := range shapes {
		r := rand.New(rand.NewPCG(1, 2))
		data[si] = [3][]float32{randSlice(r, s.m*s.k), randSlice(r, s.k*s.n), make([]float32, s.m*s.n)}
	}
	for round := 0; round < 80; round++ {
		time.Sleep(time.Second)
		for ti, p := range pools {
			t0 := time.Now()
			p.For(ti+1, func(lo, hi int) { fmaPeak(1 << 19) })
			peak[ti] = max(peak[ti], 192*float64(1<<19)*float64(ti+1)/time.Since(t0).Seconds()/1e9)
		}
		for si, s := range shapes {
			lda, ldb := s.k, s.n
			if s.tA {
				lda = s.m
			}
			if s.tB {
				ldb = s.k
			}
			a, b, c := data[si][0], data[si][1], data[si][2]
			for ti, g := range gs {
				reps := max(1, int(2e8/float64(2*s.m*s.n*s.k)))
				g.Do(s.tA, s.tB, s.m, s.n, s.k, a, lda, b, ldb, c, s.n, false)
				t0 := time.Now()
				for range reps {
					g.Do(s.tA, s.tB, s.m, s.n, s.k, a, lda, b, ldb, c, s.n, false)
				}
				best[si][ti] = max(best[si][ti], 2*float64(s.m*s.n*s.k)*float64(reps)/time.Since(t0).Seconds()/1e9)
			}
		}
	}
	fmt.Printf("%-32s %8s %8s %6s\n", "shape", "1 thr", "2 thr", "ratio")
	fmt.Printf("%-32s %8.1f %8.1f %6.2f\n", "FMA peak probe", peak[0], peak[1], peak[1]/peak[0])
	for si, s := range shapes {
		fmt.Printf("%-32s %8.1f %8.1f %6.2f\n", s.name, best[si][0], best[si][1], best[si][1]/best[si][0])
	}
}
