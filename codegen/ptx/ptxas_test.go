package ptx

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// Budget of every kernel: registers per thread and spilled bytes.
const (
	maxRegisters = 128
	maxSpill     = 0
)

// findPtxas returns the ptxas of $CUDA_HOME, /usr/local/cuda, /tmp/cuda (made by
// .ci/cuda-setup) or $PATH, or "" when there is none.
func findPtxas() string {
	var dirs []string
	if h := os.Getenv("CUDA_HOME"); h != "" {
		dirs = append(dirs, h)
	}
	dirs = append(dirs, "/usr/local/cuda", "/tmp/cuda")
	for _, d := range dirs {
		p := filepath.Join(d, "bin", "ptxas")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	if p, err := exec.LookPath("ptxas"); err == nil {
		return p
	}
	return ""
}

// usage is what ptxas -v reports of one entry.
type usage struct {
	regs, spillStores, spillLoads, stack int
}

var (
	reEntry = regexp.MustCompile(`Compiling entry function '([^']+)' for '(sm_\d+)'`)
	reFrame = regexp.MustCompile(`(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads`)
	reRegs  = regexp.MustCompile(`Used (\d+) registers`)
)

// ptxasUsage assembles a module for arch and returns the usage of each entry.
func ptxasUsage(t *testing.T, ptxas, arch, module string) map[string]usage {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "m.ptx")
	if err := os.WriteFile(src, []byte(module), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := exec.Command(ptxas, "-arch="+arch, "-v", "-o", filepath.Join(dir, "m.cubin"), src)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("ptxas -arch=%s: %v\n%s", arch, err, out.String())
	}
	res := map[string]usage{}
	cur := ""
	atoi := func(s string) int { v, _ := strconv.Atoi(s); return v }
	for _, line := range bytes.Split(out.Bytes(), []byte("\n")) {
		if m := reEntry.FindSubmatch(line); m != nil {
			cur = string(m[1])
			res[cur] = usage{}
			continue
		}
		u := res[cur]
		if m := reFrame.FindSubmatch(line); m != nil && cur != "" {
			u.stack, u.spillStores, u.spillLoads = atoi(string(m[1])), atoi(string(m[2])), atoi(string(m[3]))
		}
		if m := reRegs.FindSubmatch(line); m != nil && cur != "" {
			u.regs = atoi(string(m[1]))
		}
		if cur != "" {
			res[cur] = u
		}
	}
	return res
}

// TestPtxas assembles every sample kernel for sm_80 and sm_90 and checks its registers and
// spills against the budget.
func TestPtxas(t *testing.T) {
	ptxas := findPtxas()
	if ptxas == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("no ptxas: .ci/run makes a CUDA folder with .ci/cuda-setup and sets CUDA_HOME")
		}
		t.Skip("no ptxas (set CUDA_HOME, or run .ci/cuda-setup /tmp/cuda)")
	}
	entries := emitAll(t, append(sampleKernels(), wideKernels()...))
	for _, target := range []Target{SM80, SM90} {
		t.Run(string(target), func(t *testing.T) {
			mod, err := Module(target, entries...)
			if err != nil {
				t.Fatal(err)
			}
			got := ptxasUsage(t, ptxas, string(target), mod)
			for _, e := range entries {
				u, ok := got[e.Name]
				if !ok {
					t.Errorf("%s: ptxas reported nothing", e.Name)
					continue
				}
				t.Logf("%-18s %-5s regs %3d  spill %d/%d  stack %d  smem %d  block %d", e.Name, target, u.regs, u.spillStores, u.spillLoads, u.stack, e.Shared, e.Threads())
				if u.regs > maxRegisters || u.spillStores > maxSpill || u.spillLoads > maxSpill {
					t.Errorf("%s on %s: %d registers, %d/%d bytes spilled; budget %d registers, %d bytes", e.Name, target, u.regs, u.spillStores, u.spillLoads, maxRegisters, maxSpill)
				}
			}
		})
	}
}
