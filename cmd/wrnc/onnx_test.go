package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/wrnc/wrnc/compiler"
	"github.com/wrnc/wrnc/compiler/ir"
	"github.com/wrnc/wrnc/runtime/ckpt"
	"github.com/wrnc/wrnc/runtime/data"
)

// python3 is Debian's interpreter, which has python3-onnx and python3-scipy (.ci/run
// installs them).
const python3 = "/usr/bin/python3"

// needPython fails the test when python3 lacks one of the modules: the references are
// part of what the tests check, and a skip would prove nothing.
func needPython(t *testing.T, modules ...string) {
	t.Helper()
	code := "import " + strings.Join(modules, ", ")
	if out, err := exec.Command(python3, "-c", code).CombinedOutput(); err != nil {
		t.Fatalf("%s cannot %q (apt-get install python3-onnx python3-scipy; .ci/run does): %v\n%s", python3, code, err, out)
	}
}

// onnxCheck is run by python3 on an exported file: the full check of the ONNX checker,
// then what the file declares, as JSON.
const onnxCheck = `
import json, sys, onnx
m = onnx.load(sys.argv[1])
onnx.checker.check_model(m, full_check=True)
def dims(v):
    return [d.dim_param if d.dim_param else d.dim_value for d in v.type.tensor_type.shape.dim]
print(json.dumps({
    "ir_version": m.ir_version,
    "opsets": {o.domain: o.version for o in m.opset_import},
    "inputs": {v.name: dims(v) for v in m.graph.input},
    "outputs": {v.name: dims(v) for v in m.graph.output},
    "initializers": sorted(t.name for t in m.graph.initializer),
    "ops": sorted(set(n.op_type for n in m.graph.node)),
    "metadata": {p.key: p.value for p in m.metadata_props},
}))
`

// onnxInfo is what onnxCheck prints.
type onnxInfo struct {
	IRVersion    int               `json:"ir_version"`
	Opsets       map[string]int    `json:"opsets"`
	Inputs       map[string][]any  `json:"inputs"`
	Outputs      map[string][]any  `json:"outputs"`
	Initializers []string          `json:"initializers"`
	Ops          []string          `json:"ops"`
	Metadata     map[string]string `json:"metadata"`
}

// ortRun runs an ONNX file on ONNX Runtime and returns the logits.
func ortRun(t *testing.T, ort, model, x, out string) []float32 {
	t.Helper()
	cmd := exec.Command("node", "wrn-ort.js", "run", "--onnx", model, "--npy", x, "--out", out)
	cmd.Dir = ort
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ONNX Runtime on %s: %v\n%s", model, err, b)
	}
	_, v, err := ckpt.ReadNPY(out)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestExportONNX exports networks of several block types, input shapes, class counts and
// dropout, with each normalization, and checks the files with the ONNX checker
// (full_check) and their logits on ONNX Runtime against predict --npy at batch 1 and 7,
// with and without --with-normalize.
func TestExportONNX(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries")
	}
	ort := ortDir(t)
	needPython(t, "onnx")
	tests := []struct{ src, norm string }{
		{"model WRN-16-2 {\n input 3x20x20\n classes 10\n batch 4\n}", data.NormMeanStd},
		{"model WRN-13-1-B(1,3,1) {\n input 1x28x28\n classes 7\n batch 3\n}", data.NormScale},
		{"model WRN-10-2-B(5) {\n input 2x7x5\n classes 4\n batch 2\n}", data.NormZCA},
		{"model WRN-10-1.5-B(3,1) {\n input 3x16x16\n classes 5\n dropout 0.3\n}", data.NormMeanStd},
	}
	for i, tt := range tests {
		name := strings.Fields(tt.src)[1]
		t.Run(name, func(t *testing.T) {
			p, err := compiler.Compile("n.wrn", []byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			bin := compileBinary(t, tt.src)
			dir := t.TempDir()
			rng := rand.New(rand.NewPCG(uint64(i), 23))
			c, d := p.Input[0], ir.Prod(p.Input[:])
			norm := randomNorm(tt.norm, c, d, rng)
			classes := make([]string, p.Classes)
			for j := range classes {
				classes[j] = fmt.Sprintf("class %d \"%c\"", j, 'a'+j)
			}
			weights := writeWeights(t, dir, p, rng, norm, classes)

			plain, withNorm := filepath.Join(dir, "m.onnx"), filepath.Join(dir, "mn.onnx")
			for _, args := range [][]string{{"--onnx", plain}, {"--onnx", withNorm, "--with-normalize"}} {
				if _, stderr, code := exe(t, os.Environ(), bin, append([]string{"export", "--weights", weights}, args...)...); code != 0 {
					t.Fatalf("export %v: exit %d\n%s", args, code, stderr)
				}
			}
			for _, m := range []string{plain, withNorm} {
				info := checkONNX(t, m)
				if info.IRVersion != 8 || info.Opsets[""] != 17 {
					t.Errorf("%s: IR version %d, opsets %v; want 8 and opset 17", m, info.IRVersion, info.Opsets)
				}
				wantIn := []any{"N", float64(p.Input[0]), float64(p.Input[1]), float64(p.Input[2])}
				if got := info.Inputs["input"]; len(info.Inputs) != 1 || fmt.Sprint(got) != fmt.Sprint(wantIn) {
					t.Errorf("%s: inputs %v, want input %v", m, info.Inputs, wantIn)
				}
				if got := info.Outputs["logits"]; len(info.Outputs) != 1 || fmt.Sprint(got) != fmt.Sprint([]any{"N", float64(p.Classes)}) {
					t.Errorf("%s: outputs %v, want logits [N %d]", m, info.Outputs, p.Classes)
				}
				for _, x := range p.Params {
					if !slices.Contains(info.Initializers, x.Name) {
						t.Errorf("%s: no initializer %s", m, x.Name)
					}
				}
				var names []string
				if err := json.Unmarshal([]byte(info.Metadata["classes"]), &names); err != nil || !slices.Equal(names, classes) {
					t.Errorf("%s: metadata classes %q, want %q", m, info.Metadata["classes"], classes)
				}
				for k, v := range norm.Metadata() {
					if info.Metadata[k] != v {
						t.Errorf("%s: metadata %s = %q, want %q", m, k, info.Metadata[k], v)
					}
				}
				if tt.norm == data.NormZCA && info.Metadata["normalize.zca"] == "" {
					t.Errorf("%s: metadata lacks the ZCA matrix", m)
				}
				if slices.Contains(info.Ops, "Dropout") {
					t.Errorf("%s: inference graph has dropout nodes", m)
				}
			}

			for _, n := range []int{1, 7} {
				// Normalized input: the model as predict --npy takes it.
				x := make([]float32, n*d)
				for j := range x {
					x[j] = float32(rng.NormFloat64())
				}
				xpath := filepath.Join(dir, "x"+strconv.Itoa(n)+".npy")
				want := predictNPY(t, bin, weights, xpath, append([]int{n}, p.Input[:]...), x)
				compareLogits(t, "plain", n, ortRun(t, ort, plain, xpath, filepath.Join(dir, "ort.npy")), want, n*p.Classes)

				// Pixels: the model with the normalization in it, against our normalization
				// then predict --npy.
				pix := make([]uint8, n*d)
				for j := range pix {
					pix[j] = uint8(rng.IntN(256))
				}
				raw, normed := make([]float32, n*d), make([]float32, n*d)
				for j, v := range pix {
					raw[j] = float32(v)
				}
				for k := range n {
					if err := norm.Apply(pix[k*d:(k+1)*d], normed[k*d:(k+1)*d]); err != nil {
						t.Fatal(err)
					}
				}
				rpath := filepath.Join(dir, "pix"+strconv.Itoa(n)+".npy")
				if err := ckpt.WriteNPY(rpath, append([]int{n}, p.Input[:]...), raw); err != nil {
					t.Fatal(err)
				}
				want = predictNPY(t, bin, weights, filepath.Join(dir, "normed.npy"), append([]int{n}, p.Input[:]...), normed)
				compareLogits(t, "--with-normalize", n, ortRun(t, ort, withNorm, rpath, filepath.Join(dir, "ortn.npy")), want, n*p.Classes)
			}
		})
	}
}

// TestExportErrors checks that export refuses what it cannot do, with a message.
func TestExportErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	src := "model WRN-10-1 {\n input 1x8x8\n classes 3\n batch 2\n}"
	p, err := compiler.Compile("n.wrn", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	bin := compileBinary(t, src)
	dir := t.TempDir()
	bare := writeWeights(t, dir, p, rand.New(rand.NewPCG(1, 2)), nil, nil)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"export", "--onnx", filepath.Join(dir, "a.onnx")}, "--weights W is required"},
		{[]string{"export", "--weights", bare}, "--onnx OUT.onnx is required"},
		{[]string{"export", "--weights", bare, "--onnx", filepath.Join(dir, "a.txt")}, "name the file OUT.onnx"},
		{[]string{"export", "--weights", bare, "--onnx", filepath.Join(dir, "a.onnx"), "--with-normalize"}, "holds no normalization"},
		{[]string{"export", "--weights", filepath.Join(dir, "missing.safetensors"), "--onnx", filepath.Join(dir, "a.onnx")}, "no such file"},
		{[]string{"export", "--weights", bare, "--onnx", filepath.Join(dir, "no", "such", "a.onnx")}, "no such file"},
	} {
		_, stderr, code := exe(t, os.Environ(), bin, tt.args...)
		if code == 0 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want non-zero and %q", tt.args, code, stderr, tt.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "a.onnx")); err == nil {
		t.Error("a refused export wrote a.onnx")
	}
}

// randomNorm makes a normalization of kind for images of c channels and d values.
func randomNorm(kind string, c, d int, rng *rand.Rand) *data.Norm {
	n := &data.Norm{Kind: kind}
	switch kind {
	case data.NormMeanStd:
		for range c {
			n.Mean = append(n.Mean, float32(0.3+0.4*rng.Float64()))
			n.Std = append(n.Std, float32(0.1+0.3*rng.Float64()))
		}
	case data.NormZCA:
		n.Eps = 0.01
		n.ZCA = make([]float32, d*d)
		for j := range d {
			n.Mean = append(n.Mean, float32(rng.Float64()))
			for k := 0; k <= j; k++ { // symmetric, as fitted matrices are
				v := float32(0.2 * rng.NormFloat64())
				if k == j {
					v += 2
				}
				n.ZCA[j*d+k], n.ZCA[k*d+j] = v, v
			}
		}
	}
	return n
}

// writeWeights writes random weights of p with the normalization and class names in
// the metadata, as train does (either may be nil).
func writeWeights(t *testing.T, dir string, p *ir.Program, rng *rand.Rand, norm *data.Norm, classes []string) string {
	t.Helper()
	params := randomParams(p, rng)
	var tensors []ckpt.Tensor
	for _, x := range p.Params {
		tensors = append(tensors, ckpt.Tensor{Name: x.Name, Shape: x.Shape, Data: f32(params[x.Name])})
	}
	meta := map[string]string{}
	if norm != nil {
		maps.Copy(meta, norm.Metadata())
		if norm.Kind == data.NormZCA {
			d := len(norm.Mean)
			tensors = append(tensors, ckpt.Tensor{Name: "__norm__.zca", Shape: []int{d, d}, Data: norm.ZCA})
		}
	}
	if classes != nil {
		b, _ := json.Marshal(classes)
		meta["classes"] = string(b)
	}
	path := filepath.Join(dir, "w.safetensors")
	if err := ckpt.Write(path, tensors, meta); err != nil {
		t.Fatal(err)
	}
	return path
}

// checkONNX runs the ONNX checker on path and returns what the file declares.
func checkONNX(t *testing.T, path string) onnxInfo {
	t.Helper()
	out, err := exec.Command(python3, "-c", onnxCheck, path).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("onnx.checker on %s: %v\n%s", path, err, stderr)
	}
	var info onnxInfo
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatalf("onnx.checker on %s printed %q: %v", path, out, err)
	}
	return info
}

// predictNPY writes x to xpath and returns the binary's logits for it.
func predictNPY(t *testing.T, bin, weights, xpath string, shape []int, x []float32) []float64 {
	t.Helper()
	if err := ckpt.WriteNPY(xpath, shape, x); err != nil {
		t.Fatal(err)
	}
	out := xpath + ".logits.npy"
	if _, stderr, code := exe(t, os.Environ(), bin, "predict", "--weights", weights, "--npy", xpath, "--out", out); code != 0 {
		t.Fatalf("predict: exit %d\n%s", code, stderr)
	}
	_, v, err := ckpt.ReadNPY(out)
	if err != nil {
		t.Fatal(err)
	}
	w := make([]float64, len(v))
	for i, f := range v {
		w[i] = float64(f)
	}
	return w
}

// compareLogits checks ONNX Runtime's logits against ours at 1e-4 relative.
func compareLogits(t *testing.T, what string, n int, got []float32, want []float64, size int) {
	t.Helper()
	if len(got) != size || len(want) != size {
		t.Fatalf("%s batch %d: ONNX Runtime gave %d logits, we %d, want %d", what, n, len(got), len(want), size)
	}
	if e := relErr(got, want); e > 1e-4 {
		t.Errorf("%s batch %d: ONNX Runtime's logits differ from predict --npy's by %.2e relative", what, n, e)
	} else {
		t.Logf("%s batch %d: relative difference %.2e", what, n, e)
	}
}
