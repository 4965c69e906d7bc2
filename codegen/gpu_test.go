package codegen_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/wrnc/wrnc/codegen"
	"github.com/wrnc/wrnc/codegen/ptx"
	"github.com/wrnc/wrnc/compiler"
	"github.com/wrnc/wrnc/compiler/ir"
	"github.com/wrnc/wrnc/compiler/pass"
	"github.com/wrnc/wrnc/dsl"
)

// ptxas finds the assembler: $CUDA_HOME/bin/ptxas, else /usr/local/cuda/bin/ptxas.
func ptxas(t *testing.T) string {
	for _, dir := range []string{os.Getenv("CUDA_HOME"), "/usr/local/cuda"} {
		if p := filepath.Join(dir, "bin", "ptxas"); dir != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no ptxas: .ci/run makes a CUDA folder with .ci/cuda-setup and sets CUDA_HOME")
	}
	t.Skip("no ptxas; make a CUDA folder with .ci/cuda-setup DIR and set CUDA_HOME")
	return ""
}

// Budget of every kernel of the reference networks.
const (
	maxRegisters = 128
	maxSpill     = 0
)

var usedRE = regexp.MustCompile(`Function properties for (\S+)\n\s*(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads\n.*?Used (\d+) registers`)

// TestReferenceModulesAssemble assembles the whole PTX module of each reference network in
// each precision with ptxas for sm_80 and sm_90, and checks every kernel's registers and
// spills against the budget (ptxas -v), reporting the largest.
func TestReferenceModulesAssemble(t *testing.T) {
	if testing.Short() {
		t.Skip("runs ptxas on large modules")
	}
	as := ptxas(t)
	for _, net := range []string{"wrn-16-4", "wrn-28-10", "wrn-18-1-imagenet", "wrn-50-2-bottleneck"} {
		for _, precision := range []string{"fp32", "tf32", "bf16"} {
			t.Run(net+"/"+precision, func(t *testing.T) {
				src, err := os.ReadFile(filepath.Join("..", "testdata", net+".wrn"))
				if err != nil {
					t.Fatal(err)
				}
				f, err := dsl.Parse(net+".wrn", src)
				if err != nil {
					t.Fatal(err)
				}
				p, err := compiler.Lower(f)
				if err != nil {
					t.Fatal(err)
				}
				p.Precision = precision // what `precision` in the model block sets, before the passes choose by it
				if err := pass.Default.Execute(p); err != nil {
					t.Fatal(err)
				}
				code, err := codegen.GPU(p)
				if err != nil {
					t.Fatal(err)
				}
				for _, target := range []ptx.Target{ptx.SM80, ptx.SM90} {
					path := filepath.Join(t.TempDir(), "k.ptx")
					if err := os.WriteFile(path, []byte(code.PTX[target]), 0o644); err != nil {
						t.Fatal(err)
					}
					out, err := exec.Command(as, "-v", "-arch="+string(target), "-o", os.DevNull, path).CombinedOutput()
					if err != nil {
						t.Fatalf("ptxas -arch=%s: %v\n%.2000s", target, err, out)
					}
					ms := usedRE.FindAllStringSubmatch(string(out), -1)
					if len(ms) != len(code.Entries) {
						t.Fatalf("%s: ptxas reported %d kernels, the module has %d", target, len(ms), len(code.Entries))
					}
					worst, worstName := 0, ""
					for _, m := range ms {
						regs, _ := strconv.Atoi(m[5])
						spill, _ := strconv.Atoi(m[3])
						if regs > maxRegisters || spill > maxSpill {
							t.Errorf("%s %s: %d registers, %d bytes spilled; budget %d and %d", target, m[1], regs, spill, maxRegisters, maxSpill)
						}
						if regs > worst {
							worst, worstName = regs, m[1]
						}
					}
					t.Logf("%s: %d kernels, at most %d registers (%s), no spills", target, len(ms), worst, worstName)
				}
			})
		}
	}
}

// TestKernelsDeduplicated checks that WRN-28-10's module holds each distinct kernel body
// once: no two entries are the same PTX under different names, and the steps of all phases
// need no more entries than they compute distinct things (counted here from the steps'
// shapes and flags, independently of the names codegen gives).
func TestKernelsDeduplicated(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "testdata", "wrn-28-10.wrn"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := compiler.Compile("wrn-28-10.wrn", src)
	if err != nil {
		t.Fatal(err)
	}
	code, err := codegen.GPU(p)
	if err != nil {
		t.Fatal(err)
	}
	bodies := map[string]string{}
	for _, e := range code.Entries {
		body := strings.Replace(e.PTX, e.Name, "KERNEL", -1)
		if other, ok := bodies[body]; ok {
			t.Errorf("kernels %s and %s are the same PTX", other, e.Name)
		}
		bodies[body] = e.Name
	}
	// What each step computes, as a key of everything its kernels' bodies depend on.
	distinct := map[string]bool{}
	for _, ph := range p.Phases {
		for _, st := range ph.Steps {
			var in []int
			if st.K != nil {
				in = p.Values[st.K.In].Shape
			}
			key := func(what string, extra ...any) {
				distinct[fmt.Sprint(append([]any{what, in, st.Drop}, extra...))] = true
			}
			switch st.Kind {
			case ir.SConvFwd:
				key("fwd", p.Values[st.K.Out].Shape, st.K.Op.Kernel, st.K.Op.Stride, st.Pre != nil, st.Res != nil)
			case ir.SConvBwd:
				if st.DZ != nil {
					distinct[fmt.Sprint("dgrad", in, p.Values[st.K.Out].Shape, st.K.Op.Kernel, st.K.Op.Stride, st.Acc)] = true
				}
				key("wgrad", p.Values[st.K.Out].Shape, st.K.Op.Kernel, st.K.Op.Stride, st.Pre != nil)
			case ir.SBNTrain:
				distinct[fmt.Sprint("bn-train", in)] = true
			case ir.SBNInfer:
				distinct[fmt.Sprint("bn-infer", in[0])] = true
			case ir.SBNReLUBwd:
				key("bnrelu-bwd", st.Acc)
			case ir.SHeadFwd, ir.SSGD:
				distinct[string(st.Kind)] = true
			case ir.SLoss: // the softmax, then the sum of its losses
				distinct["softmax"], distinct["loss-sum"] = true, true
			case ir.SHeadBwd:
				distinct["head-fc-bwd"], distinct["head-dz-bwd"] = true, true
			}
		}
	}
	if len(code.Entries) != len(distinct) {
		t.Errorf("the module has %d kernels for %d distinct computations", len(code.Entries), len(distinct))
	}
	t.Logf("WRN-28-10: %d kernels", len(code.Entries))
}
