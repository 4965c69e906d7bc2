package compiler_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoRuntimeKernels checks that the compiler and the code generators link no runtime
// package but the contract: they decide, the runtime computes.
func TestNoRuntimeKernels(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "../compiler/...", "../codegen/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/wrnc/wrnc/runtime/") && pkg != "github.com/wrnc/wrnc/runtime/contract" {
			t.Errorf("compiler or codegen depends on %s", pkg)
		}
	}
}
