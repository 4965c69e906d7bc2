package sim

import (
	"math/rand/v2"
	"testing"
)

func TestWarpSum(t *testing.T) {
	k := kernel(t, loadFile(t, "shfl.ptx"), "warp_sum")
	rng := rand.New(rand.NewPCG(3, 3))
	const block, grid = 96, 3
	n := block * grid
	x := randF32(rng, n)
	mem := NewMemory()
	dx, dout := upload(t, mem, x), poisoned(t, mem, n)
	if err := k.Launch(mem, Dim3{grid, 1, 1}, Dim3{block, 1, 1}, 0, dx, dout); err != nil {
		t.Fatal(err)
	}
	got := download(t, mem, dout, n)
	for w := 0; w < n/32; w++ {
		var want float64
		for _, v := range x[32*w : 32*w+32] {
			want += float64(v)
		}
		for i := 32 * w; i < 32*w+32; i++ {
			if e := relErr(got[i:i+1], []float64{want}); e > 1e-5 {
				t.Errorf("lane %d: %v, want %v", i, got[i], want)
			}
		}
	}
}

// TestShuffleModes checks shfl.sync against CUDA's __shfl*_sync semantics,
// with and without a segment width.
func TestShuffleModes(t *testing.T) {
	k := kernel(t, loadFile(t, "shfl.ptx"), "shfl_modes")
	const n = 64
	rng := rand.New(rand.NewPCG(4, 4))
	in := make([]uint32, n)
	for i := range in {
		in[i] = rng.Uint32() % 100000
	}
	mem := NewMemory()
	din, err := mem.Alloc(4 * n)
	if err != nil {
		t.Fatal(err)
	}
	if err := mem.WriteUint32(din, in); err != nil {
		t.Fatal(err)
	}
	dout, err := mem.Alloc(4 * 6 * n)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Launch(mem, Dim3{1, 1, 1}, Dim3{n, 1, 1}, 0, din, dout); err != nil {
		t.Fatal(err)
	}
	got := make([]uint32, 6*n)
	if err := mem.ReadUint32(dout, got); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		lane, base := i%32, i-i%32
		src := func(l int) uint32 { return in[base+l] }
		want := [6]uint32{}
		want[0] = src(lane)
		if lane+3 < 32 {
			want[0] = src(lane + 3)
		}
		want[1] = src(lane) + 1000000 // not shifted: the predicate is false
		if lane >= 5 {
			want[1] = src(lane - 5)
		}
		want[2] = src(lane * 3 % 32)
		want[3] = src(lane ^ 5)
		want[4] = src(lane)
		if lane%8+2 < 8 {
			want[4] = src(lane + 2)
		}
		want[5] = src(lane/8*8 + (lane+1)%8)
		for j, w := range want {
			if g := got[6*i+j]; g != w {
				t.Errorf("thread %d, shuffle %d: got %d, want %d", i, j, g, w)
			}
		}
	}
}
