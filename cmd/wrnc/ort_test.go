package main

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/wrnc/wrnc/compiler"
	"github.com/wrnc/wrnc/compiler/ir"
	"github.com/wrnc/wrnc/runtime/ckpt"
)

// ortDir is the folder of ../shared/bench/ort with its node_modules installed; .ci/run
// sets WRNC_ORT to it.
func ortDir(t *testing.T) string {
	dir := os.Getenv("WRNC_ORT")
	if dir == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("WRNC_ORT is not set: .ci/run installs ONNX Runtime and sets it")
		}
		t.Skip("set WRNC_ORT to a copy of ../shared/bench/ort with `npm install` done to compare with ONNX Runtime")
	}
	return dir
}

// TestMatchesONNXRuntime compares the logits of `predict --npy` with ONNX Runtime's for the
// same weights and inputs, for several block types and input shapes, at 1e-4 relative.
func TestMatchesONNXRuntime(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries")
	}
	ort := ortDir(t)
	tests := []struct{ model, input, src string }{
		{"WRN-16-2", "3x20x20", "model WRN-16-2 {\n input 3x20x20\n classes 10\n batch 4\n}"},
		{"WRN-13-1-B(1,3,1)", "1x28x28", "model WRN-13-1-B(1,3,1) {\n input 1x28x28\n classes 7\n batch 3\n}"},
		{"WRN-10-2-B(5)", "2x13x9", "model WRN-10-2-B(5) {\n input 2x13x9\n classes 4\n batch 2\n}"},
		{"WRN-10-1.5-B(3,1)", "3x16x16", "model WRN-10-1.5-B(3,1) {\n input 3x16x16\n classes 5\n dropout 0.3\n}"},
	}
	for i, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			p, err := compiler.Compile("n.wrn", []byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			bin := compileBinary(t, tt.src)
			dir := t.TempDir()
			rng := rand.New(rand.NewPCG(uint64(i), 17))
			params := randomParams(p, rng)
			var tensors []ckpt.Tensor
			for _, x := range p.Params {
				tensors = append(tensors, ckpt.Tensor{Name: x.Name, Shape: x.Shape, Data: f32(params[x.Name])})
			}
			weights := filepath.Join(dir, "w.safetensors")
			if err := ckpt.Write(weights, tensors, nil); err != nil {
				t.Fatal(err)
			}
			const n = 5
			x := make([]float32, n*ir.Prod(p.Input[:]))
			for j := range x {
				x[j] = float32(rng.NormFloat64())
			}
			xpath := filepath.Join(dir, "x.npy")
			if err := ckpt.WriteNPY(xpath, append([]int{n}, p.Input[:]...), x); err != nil {
				t.Fatal(err)
			}
			ours := filepath.Join(dir, "ours.npy")
			if _, stderr, code := exe(t, os.Environ(), bin, "predict", "--weights", weights, "--npy", xpath, "--out", ours); code != 0 {
				t.Fatalf("predict: exit %d\n%s", code, stderr)
			}
			onnx, theirs := filepath.Join(dir, "m.onnx"), filepath.Join(dir, "ort.npy")
			for _, args := range [][]string{
				{"wrn-ort.js", "build", "--model", tt.model, "--input", tt.input, "--classes", strconv.Itoa(p.Classes), "--weights", weights, "--out", onnx},
				{"wrn-ort.js", "run", "--onnx", onnx, "--npy", xpath, "--out", theirs},
			} {
				cmd := exec.Command("node", args...)
				cmd.Dir = ort
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("node %v: %v\n%s", args, err, out)
				}
			}
			_, got, err := ckpt.ReadNPY(ours)
			if err != nil {
				t.Fatal(err)
			}
			_, want, err := ckpt.ReadNPY(theirs)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) || len(got) != n*p.Classes {
				t.Fatalf("logits: ours %d values, ONNX Runtime %d, want %d", len(got), len(want), n*p.Classes)
			}
			w64 := make([]float64, len(want))
			for j, v := range want {
				w64[j] = float64(v)
			}
			if e := relErr(got, w64); e > 1e-4 {
				t.Errorf("logits differ from ONNX Runtime's: relative error %.2e", e)
			} else {
				t.Logf("relative error against ONNX Runtime: %.2e", e)
			}
		})
	}
}
