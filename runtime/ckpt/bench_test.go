package ckpt

import (
	"math/rand/v2"
	"path/filepath"
	"testing"
)

// benchTensors is about the size of WRN-28-10's weights' largest layers: 16 MiB.
func benchTensors() []Tensor {
	rng := rand.New(rand.NewPCG(5, 6))
	return randTensors(rng, []Spec{{"a", []int{640, 640, 3, 3}}, {"b", []int{320, 320, 3, 3}}, {"c", []int{10, 640}}})
}

func tensorBytes(ts []Tensor) int64 {
	var n int64
	for _, x := range ts {
		n += 4 * int64(len(x.Data))
	}
	return n
}

func BenchmarkWrite(b *testing.B) {
	ts := benchTensors()
	path := filepath.Join(b.TempDir(), "w.safetensors")
	b.SetBytes(tensorBytes(ts))
	for b.Loop() {
		if err := Write(path, ts, map[string]string{"k": "v"}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRead(b *testing.B) {
	ts := benchTensors()
	path := filepath.Join(b.TempDir(), "w.safetensors")
	if err := Write(path, ts, nil); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(tensorBytes(ts))
	for b.Loop() {
		if _, err := Read(path); err != nil {
			b.Fatal(err)
		}
	}
}
