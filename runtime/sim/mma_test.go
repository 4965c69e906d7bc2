package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func roundSlice(v []float32, r func(uint32) uint32) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = math.Float32frombits(r(math.Float32bits(x)))
	}
	return out
}

func TestMma(t *testing.T) {
	tf := func(u uint32) uint32 { return tf32(u) }
	bf := func(u uint32) uint32 { return bf16(u) << 16 }
	for _, tc := range []struct {
		file    string
		round   func(uint32) uint32
		kstep   int
		precise float64 // vs the float64 product of the rounded inputs
		bound   float64 // vs the float64 product of the float32 inputs
	}{
		{"mma_tf32", tf, 8, 1e-6, 1e-3},
		{"mma_bf16", bf, 16, 1e-6, 1e-2},
	} {
		k := kernel(t, loadFile(t, tc.file+".ptx"), tc.file)
		for _, s := range [][3]int{{16, 8, tc.kstep}, {32, 24, 4 * tc.kstep}, {64, 64, 64}} {
			m, n, kk := s[0], s[1], s[2]
			t.Run(fmt.Sprintf("%s/%dx%dx%d", tc.file, m, n, kk), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(7, uint64(m*n*kk)))
				a, b := randF32(rng, m*kk), randF32(rng, kk*n)
				mem := NewMemory()
				da, db, dc := upload(t, mem, a), upload(t, mem, b), poisoned(t, mem, m*n)
				if err := k.Launch(mem, Dim3{n / 8, m / 16, 1}, Dim3{32, 1, 1}, 0, da, db, dc, uint64(n), uint64(kk)); err != nil {
					t.Fatal(err)
				}
				got := download(t, mem, dc, m*n)
				ra, rb := roundSlice(a, tc.round), roundSlice(b, tc.round)
				if e := relErr(got, gemmRef(ra, rb, m, n, kk)); e > tc.precise {
					t.Errorf("vs rounded inputs: relative error %.3g > %.g", e, tc.precise)
				}
				e := relErr(got, gemmRef(a, b, m, n, kk))
				if e > tc.bound {
					t.Errorf("vs float32 inputs: relative error %.3g > %.g", e, tc.bound)
				}
				if e == 0 {
					t.Errorf("no rounding of the inputs happened")
				}
			})
		}
	}
}
