package sim

import (
	"math/rand/v2"
	"testing"
)

func TestVecAdd(t *testing.T) {
	k := kernel(t, loadFile(t, "vecadd.ptx"), "vecadd")
	for _, n := range []int{1, 31, 256, 1000} {
		rng := rand.New(rand.NewPCG(1, uint64(n)))
		a, b := randF32(rng, n), randF32(rng, n)
		mem := NewMemory()
		da, db, dc := upload(t, mem, a), upload(t, mem, b), poisoned(t, mem, n)
		block := 128
		grid := (n + block - 1) / block
		if err := k.Launch(mem, Dim3{grid, 1, 1}, Dim3{block, 1, 1}, 0, da, db, dc, uint64(n)); err != nil {
			t.Fatal(err)
		}
		got := download(t, mem, dc, n)
		for i := range got {
			if want := a[i] + b[i]; got[i] != want {
				t.Fatalf("n=%d: c[%d] = %v, want %v", n, i, got[i], want)
			}
		}
	}
}
