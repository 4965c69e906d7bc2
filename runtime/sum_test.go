package runtime

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
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

// TestEveryPackageEmbedded checks that the go:embed list of source.go names every
// subpackage of the runtime, so that a new one travels into generated builds.
func TestEveryPackageEmbedded(t *testing.T) {
	ents, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	embedded := map[string]bool{}
	if err := Files(func(name string, _ []byte) error {
		embedded[strings.SplitN(name, "/", 3)[1]] = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") || e.Name() == "testdata" {
			continue
		}
		gos, _ := filepath.Glob(filepath.Join(e.Name(), "*.go"))
		if len(gos) > 0 && !embedded[e.Name()] {
			t.Errorf("runtime/%s is not in the go:embed list of source.go", e.Name())
		}
	}
}
