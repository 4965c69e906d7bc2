package sim

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// ptxasPath finds ptxas: $CUDA_HOME/bin, /usr/local/cuda/bin, then $PATH.
func ptxasPath() string {
	for _, p := range []string{filepath.Join(os.Getenv("CUDA_HOME"), "bin", "ptxas"), "/usr/local/cuda/bin/ptxas"} {
		if os.Getenv("CUDA_HOME") == "" && p != "/usr/local/cuda/bin/ptxas" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	p, _ := exec.LookPath("ptxas")
	return p
}

var targetRe = regexp.MustCompile(`\.target\s+(sm_\w+)`)

// assemble runs ptxas on src for the architecture of its .target and fails
// the test if ptxas rejects it. It does nothing without ptxas.
func assemble(t *testing.T, name, src string) {
	t.Helper()
	ptxas := ptxasPath()
	if ptxas == "" {
		return
	}
	arch := "sm_80"
	if m := targetRe.FindStringSubmatch(src); m != nil {
		arch = m[1]
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "k.ptx")
	if err := os.WriteFile(in, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(ptxas, "-arch="+arch, in, "-o", filepath.Join(dir, "k.cubin")).CombinedOutput()
	if err != nil {
		t.Errorf("ptxas -arch=%s rejects %s: %v\n%s", arch, name, err, out)
	}
}

// TestPtxas checks that every test kernel in testdata assembles.
func TestPtxas(t *testing.T) {
	if ptxasPath() == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("no ptxas: .ci/run makes a CUDA folder with .ci/cuda-setup and sets CUDA_HOME")
		}
		t.Skip("no ptxas ($CUDA_HOME/bin, /usr/local/cuda/bin or $PATH)")
	}
	files, err := filepath.Glob(filepath.Join("testdata", "*.ptx"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no test kernels: %v", err)
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		assemble(t, f, string(src))
	}
	assemble(t, "miniKernel", miniKernel("\tmov.u32 %r2, s;\n\tst.shared.u32 [%r2], %r1;"))
}
