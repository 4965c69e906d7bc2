package gpu

import (
	"bytes"
	"os"
	"testing"
)

// TestCUDASumNotStale checks that cuda.sum, the go.sum that cuda builds of generated
// networks use to verify gorgonia.org/cu and its requirements, is the module's go.sum
// (`go generate ./runtime/gpu` copies it).
func TestCUDASumNotStale(t *testing.T) {
	want, err := os.ReadFile("../../go.sum")
	if err != nil {
		t.Skip("go.sum of the module not found")
	}
	got, err := os.ReadFile("cuda.sum")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("runtime/gpu/cuda.sum differs from go.sum: run go generate ./runtime/gpu")
	}
}
