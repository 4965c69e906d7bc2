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
	pkgs := strings.Fields(string(out))
	if !strings.Contains(string(out), "github.com/wrnc/wrnc/codegen/ptx") {
		t.Fatalf("go list did not list the code generators: %q", pkgs)
	}
	for _, pkg := range pkgs {
		if strings.HasPrefix(pkg, "github.com/wrnc/wrnc/runtime/") && pkg != "github.com/wrnc/wrnc/runtime/contract" {
			t.Errorf("compiler or codegen depends on %s", pkg)
		}
	}
}
