package sim

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// loadFile loads testdata/NAME and returns its module.
func loadFile(t testing.TB, name string) *Module {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Load(string(src))
	if err != nil {
		t.Fatalf("%s:%v", name, err)
	}
	return m
}

func kernel(t testing.TB, m *Module, name string) *Kernel {
	t.Helper()
	k, err := m.Kernel(name)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// upload allocates device memory for v and copies it there.
func upload(t testing.TB, mem *Memory, v []float32) uint64 {
	t.Helper()
	a, err := mem.Alloc(4 * len(v))
	if err != nil {
		t.Fatal(err)
	}
	if err := mem.WriteFloat32(a, v); err != nil {
		t.Fatal(err)
	}
	return a
}

func download(t testing.TB, mem *Memory, a uint64, n int) []float32 {
	t.Helper()
	v := make([]float32, n)
	if err := mem.ReadFloat32(a, v); err != nil {
		t.Fatal(err)
	}
	return v
}

// poisoned allocates n float32 filled with NaN, so unwritten outputs show.
func poisoned(t testing.TB, mem *Memory, n int) uint64 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(math.NaN())
	}
	return upload(t, mem, v)
}

// randF32 draws n values uniform in [-1, 1), none zero.
func randF32(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		for v[i] == 0 {
			v[i] = float32(rng.Float64()*2 - 1)
		}
	}
	return v
}

// relErr is ||got-want|| / ||want||; NaN in got gives +Inf.
func relErr(got []float32, want []float64) float64 {
	var num, den float64
	for i, w := range want {
		g := float64(got[i])
		if g != g {
			return math.Inf(1)
		}
		num += (g - w) * (g - w)
		den += w * w
	}
	return math.Sqrt(num / den)
}

func f32arg(f float32) uint64 { return uint64(math.Float32bits(f)) }

func uploadU32(t testing.TB, mem *Memory, v []uint32) uint64 {
	t.Helper()
	a, err := mem.Alloc(4 * len(v))
	if err != nil {
		t.Fatal(err)
	}
	if err := mem.WriteUint32(a, v); err != nil {
		t.Fatal(err)
	}
	return a
}

func downloadU32(t testing.TB, mem *Memory, a uint64, n int) []uint32 {
	t.Helper()
	v := make([]uint32, n)
	if err := mem.ReadUint32(a, v); err != nil {
		t.Fatal(err)
	}
	return v
}
