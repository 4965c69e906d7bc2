package sim

import (
	"slices"
	"testing"
)

func TestSpecialRegisters(t *testing.T) {
	k := kernel(t, loadFile(t, "special.ptx"), "specials")
	grid, block := Dim3{3, 2, 2}, Dim3{5, 4, 3}
	n := grid.size() * block.size()
	mem := NewMemory()
	out := uploadU32(t, mem, make([]uint32, 16*n))
	if err := k.Launch(mem, grid, block, 0, out); err != nil {
		t.Fatal(err)
	}
	got := downloadU32(t, mem, out, 16*n)
	g := 0
	for bz := 0; bz < grid.Z; bz++ {
		for by := 0; by < grid.Y; by++ {
			for bx := 0; bx < grid.X; bx++ {
				for tz := 0; tz < block.Z; tz++ {
					for ty := 0; ty < block.Y; ty++ {
						for tx := 0; tx < block.X; tx++ {
							lin := tx + block.X*(ty+block.Y*tz)
							want := []uint32{uint32(tx), uint32(ty), uint32(tz), uint32(block.X), uint32(block.Y), uint32(block.Z),
								uint32(bx), uint32(by), uint32(bz), uint32(grid.X), uint32(grid.Y), uint32(grid.Z),
								uint32(lin % 32), uint32(lin / 32)}
							if w := got[16*g : 16*g+14]; !slices.Equal(w, want) {
								t.Fatalf("thread %d: got %v, want %v", g, w, want)
							}
							g++
						}
					}
				}
			}
		}
	}
}
