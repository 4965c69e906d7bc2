package sim

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func TestBlockSum(t *testing.T) {
	m := loadFile(t, "reduce.ptx")
	for _, tc := range []struct {
		kernel   string
		block, n int
	}{
		{"block_sum", 256, 10000},
		{"block_sum", 1024, 5000},
		{"block_sum", 32, 100},
		{"block_sum_dyn", 128, 3000},
		{"block_sum_dyn", 64, 64},
	} {
		t.Run(fmt.Sprintf("%s/%d/%d", tc.kernel, tc.block, tc.n), func(t *testing.T) {
			k := kernel(t, m, tc.kernel)
			rng := rand.New(rand.NewPCG(2, uint64(tc.n)))
			x := randF32(rng, tc.n)
			mem := NewMemory()
			dx, dout := upload(t, mem, x), upload(t, mem, []float32{0})
			dyn := 0
			if tc.kernel == "block_sum_dyn" {
				dyn = 4 * tc.block
			}
			grid := (tc.n + tc.block - 1) / tc.block
			if err := k.Launch(mem, Dim3{grid, 1, 1}, Dim3{tc.block, 1, 1}, dyn, dx, dout, uint64(tc.n)); err != nil {
				t.Fatal(err)
			}
			var want float64
			for _, v := range x {
				want += float64(v)
			}
			got := download(t, mem, dout, 1)
			if e := relErr(got, []float64{want}); e > 1e-5 {
				t.Errorf("sum = %v, want %v (relative error %.2g)", got[0], want, e)
			}
		})
	}
}
