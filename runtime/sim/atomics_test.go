package sim

import (
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestHistogram(t *testing.T) {
	k := kernel(t, loadFile(t, "atomics.ptx"), "histogram")
	const n = 5000
	rng := rand.New(rand.NewPCG(8, 8))
	in := make([]uint32, n)
	want := make([]uint32, 16)
	var total uint64
	for i := range in {
		in[i] = rng.Uint32()
		want[in[i]%16]++
		total += uint64(in[i])
	}
	mem := NewMemory()
	din, dbins, dtotal := uploadU32(t, mem, in), uploadU32(t, mem, make([]uint32, 16)), uploadU32(t, mem, make([]uint32, 2))
	if err := k.Launch(mem, Dim3{(n + 255) / 256, 1, 1}, Dim3{256, 1, 1}, 0, din, dbins, dtotal, n); err != nil {
		t.Fatal(err)
	}
	if got := downloadU32(t, mem, dbins, 16); !slices.Equal(got, want) {
		t.Errorf("bins = %v, want %v", got, want)
	}
	b := make([]byte, 8)
	if err := mem.ReadBytes(dtotal, b); err != nil {
		t.Fatal(err)
	}
	if got := binary.LittleEndian.Uint64(b); got != total {
		t.Errorf("total = %d, want %d", got, total)
	}
}

func TestTicket(t *testing.T) {
	k := kernel(t, loadFile(t, "atomics.ptx"), "ticket")
	const n = 40 * 128
	mem := NewMemory()
	dc, dout := uploadU32(t, mem, []uint32{0}), uploadU32(t, mem, make([]uint32, n))
	if err := k.Launch(mem, Dim3{40, 1, 1}, Dim3{128, 1, 1}, 0, dc, dout); err != nil {
		t.Fatal(err)
	}
	got := downloadU32(t, mem, dout, n)
	slices.Sort(got)
	for i, v := range got {
		if v != uint32(i) {
			t.Fatalf("sorted tickets[%d] = %d: the old values are not a permutation of 0..%d", i, v, n-1)
		}
	}
	if c := downloadU32(t, mem, dc, 1)[0]; c != n {
		t.Errorf("counter = %d, want %d", c, n)
	}
}

func TestSharedAtomics(t *testing.T) {
	k := kernel(t, loadFile(t, "atomics.ptx"), "bin_sums")
	const n = 3000
	rng := rand.New(rand.NewPCG(9, 9))
	x := randF32(rng, n)
	want := make([]float64, 16)
	for i, v := range x {
		want[i%16] += float64(v)
	}
	mem := NewMemory()
	dx, dout := upload(t, mem, x), upload(t, mem, make([]float32, 16))
	if err := k.Launch(mem, Dim3{(n + 127) / 128, 1, 1}, Dim3{128, 1, 1}, 0, dx, dout, n); err != nil {
		t.Fatal(err)
	}
	if e := relErr(download(t, mem, dout, 16), want); e > 1e-5 {
		t.Errorf("relative error %.3g", e)
	}
}

func TestCollatz(t *testing.T) {
	k := kernel(t, loadFile(t, "branch.ptx"), "collatz")
	const n = 300
	in := make([]uint32, n)
	want := make([]uint32, n)
	for i := range in {
		in[i] = uint32(i + 1)
		for x := in[i]; x != 1; want[i]++ {
			if x%2 == 0 {
				x /= 2
			} else {
				x = 3*x + 1
			}
		}
	}
	mem := NewMemory()
	din, dout := uploadU32(t, mem, in), uploadU32(t, mem, make([]uint32, n))
	if err := k.Launch(mem, Dim3{3, 1, 1}, Dim3{100, 1, 1}, 0, din, dout); err != nil {
		t.Fatal(err)
	}
	if got := downloadU32(t, mem, dout, n); !slices.Equal(got, want) {
		t.Errorf("steps = %v\nwant %v", got, want)
	}
}
