package runtime

import (
	"bytes"
	"os"
	"testing"
)

// TestModuleSumNotStale checks that module.sum, the go.sum that builds of generated
// networks use to verify their requirements, is the module's go.sum (`go generate
// ./runtime` copies it).
func TestModuleSumNotStale(t *testing.T) {
	want, err := os.ReadFile("../go.sum")
	if err != nil {
		t.Skip("go.sum of the module not found")
	}
	got, err := os.ReadFile("module.sum")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("runtime/module.sum differs from go.sum: run go generate ./runtime")
	}
}
