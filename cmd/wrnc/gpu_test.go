package main

import (
	"debug/elf"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wrnc/wrnc/compiler"
	"github.com/wrnc/wrnc/compiler/ir"
	"github.com/wrnc/wrnc/runtime/ckpt"
	"github.com/wrnc/wrnc/runtime/data"
	"github.com/wrnc/wrnc/runtime/progress"
)

// cudaHome is the CUDA folder of the tests: $CUDA_HOME (.ci/run makes one with
// .ci/cuda-setup), else /usr/local/cuda when it is one.
func cudaHome(t *testing.T) string {
	for _, dir := range []string{os.Getenv("CUDA_HOME"), "/usr/local/cuda"} {
		if dir == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, "lib64", "stubs", "libcuda.so")); err == nil {
			return dir
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no CUDA folder: .ci/run makes one with .ci/cuda-setup and sets CUDA_HOME")
	}
	t.Skip("no CUDA folder; make one with .ci/cuda-setup DIR and set CUDA_HOME")
	return ""
}

// TestCompileCUDALinks builds a cuda binary on a machine without a GPU, against the
// driver stub: it must link and depend on the driver library.
func TestCompileCUDALinks(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary with cgo")
	}
	cuda := cudaHome(t)
	wrn := filepath.Join(t.TempDir(), "n.wrn")
	os.WriteFile(wrn, []byte("model WRN-10-1 {\n input 3x16x16\n precision tf32\n}"), 0o644)
	bin := filepath.Join(t.TempDir(), "n")
	if code, _, stderr := runWrnc("compile", "--device", "cuda", "--cuda", cuda, wrn, "-o", bin); code != 0 {
		t.Fatalf("wrnc compile --device cuda: exit %d\n%s", code, stderr)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	libs, err := f.ImportedLibraries()
	if err != nil || !slices.Contains(libs, "libcuda.so.1") {
		t.Errorf("the cuda binary imports %v (%v), want libcuda.so.1", libs, err)
	}
	if code, _, stderr := runWrnc("compile", "--device", "cuda", "--cuda", t.TempDir(), wrn, "-o", bin); code != 1 || !strings.Contains(stderr, "lacks include/cuda.h") {
		t.Errorf("compile with a wrong --cuda: exit %d, %q", code, stderr)
	}
}

// TestSimDeviceBinary uses a --device sim binary as a user would: predict on the sim
// device gives the CPU's logits, and training on the sim device runs and logs.
func TestSimDeviceBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	src := "model WRN-10-1-B(3,1) {\n input 1x12x12\n classes 3\n batch 3\n dropout 0.2\n}\ntrain {\n epochs 1\n augment none\n normalize scale\n}"
	wrn := filepath.Join(t.TempDir(), "n.wrn")
	os.WriteFile(wrn, []byte(src), 0o644)
	bin := filepath.Join(t.TempDir(), "n")
	if code, _, stderr := runWrnc("compile", "--device", "sim", wrn, "-o", bin); code != 0 {
		t.Fatalf("wrnc compile --device sim: exit %d\n%s", code, stderr)
	}
	p, err := compiler.Compile("n.wrn", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(8, 9))
	params := randomParams(p, rng)
	var tensors []ckpt.Tensor
	for _, x := range p.Params {
		tensors = append(tensors, ckpt.Tensor{Name: x.Name, Shape: x.Shape, Data: f32(params[x.Name])})
	}
	weights := filepath.Join(dir, "w.safetensors")
	if err := ckpt.Write(weights, tensors, nil); err != nil {
		t.Fatal(err)
	}
	const n = 4 // a chunk of the compiled batch and one image on the batch-1 kernels
	x := make([]float32, n*ir.Prod(p.Input[:]))
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	xpath := filepath.Join(dir, "x.npy")
	ckpt.WriteNPY(xpath, append([]int{n}, p.Input[:]...), x)
	logits := map[string][]float32{}
	for _, dev := range []string{"cpu", "sim"} {
		out := filepath.Join(dir, dev+".npy")
		if _, stderr, code := exe(t, os.Environ(), bin, "predict", "--device", dev, "--weights", weights, "--npy", xpath, "--out", out); code != 0 {
			t.Fatalf("predict --device %s: exit %d\n%s", dev, code, stderr)
		}
		_, logits[dev], _ = ckpt.ReadNPY(out)
	}
	want := make([]float64, len(logits["cpu"]))
	for i, v := range logits["cpu"] {
		want[i] = float64(v)
	}
	if e := relErr(logits["sim"], want); e > 1e-4 || len(logits["sim"]) != n*p.Classes {
		t.Errorf("predict --device sim differs from --device cpu: relative error %.2e", e)
	}

	data := t.TempDir()
	writeIDX(t, data, "train", 12, 12, rng)
	writeIDX(t, data, "t10k", 6, 12, rng)
	run := filepath.Join(t.TempDir(), "run")
	if _, stderr, code := exe(t, os.Environ(), bin, "train", "--device", "sim", "--data", data, "--limit", "9", "--out", run); code != 0 {
		t.Fatalf("train --device sim: exit %d\n%s", code, stderr)
	}
	if log, err := progress.ReadLog(filepath.Join(run, "log.jsonl")); err != nil || len(log) != 1 {
		t.Errorf("train --device sim: log %v, %v", log, err)
	}
	if out, _, code := exe(t, os.Environ(), bin, "info"); code != 0 || !strings.Contains(out, "cpu, sim") {
		t.Errorf("info does not list the sim device: %q", out)
	}

	// The training step stays on the device: per step only the batch's images and labels
	// go in, and at most 1 KiB (the losses) comes back, after one synchronization.
	out, stderr, code := exe(t, os.Environ(), bin, "bench", "--device", "sim", "--json")
	if code != 0 {
		t.Fatalf("bench --device sim: exit %d\n%s", code, stderr)
	}
	var bench struct {
		Train struct {
			Launches float64 `json:"launches_per_step"`
			Syncs    float64 `json:"syncs_per_step"`
			H2D      float64 `json:"h2d_bytes_per_step"`
			D2H      float64 `json:"d2h_bytes_per_step"`
		} `json:"train"`
	}
	if err := json.Unmarshal([]byte(out), &bench); err != nil {
		t.Fatalf("bench --json: %v\n%s", err, out)
	}
	tr := bench.Train
	if want := float64(p.Batch * (4*ir.Prod(p.Input[:]) + 4)); tr.H2D != want {
		t.Errorf("h2d_bytes_per_step %g, want %g (the batch's images and labels)", tr.H2D, want)
	}
	if tr.D2H > 1024 || tr.D2H <= 0 {
		t.Errorf("d2h_bytes_per_step %g, want at most 1 KiB (the losses)", tr.D2H)
	}
	if tr.Syncs != 1 || tr.Launches < float64(len(p.Ops)) {
		t.Errorf("%g syncs and %g launches per step, want 1 and at least one per op", tr.Syncs, tr.Launches)
	}
}

// TestSimDeviceImageNet runs an imagenet-family binary on the sim device as a user would:
// train on an image folder (streamed, random-resized crops), eval, and predict, which
// agrees with the CPU device.
func TestSimDeviceImageNet(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	src := "model WRN-18-0.125 {\n family imagenet\n input 3x32x32\n classes 3\n batch 4\n}\ntrain {\n epochs 1\n sgd lr=0.02\n}"
	wrn := filepath.Join(t.TempDir(), "n.wrn")
	if err := os.WriteFile(wrn, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "n")
	if code, _, stderr := runWrnc("compile", "--device", "sim", wrn, "-o", bin); code != 0 {
		t.Fatalf("wrnc compile --device sim: exit %d\n%s", code, stderr)
	}
	dir := t.TempDir()
	if _, err := data.WriteImageFolder(dir, data.FolderSpec{Classes: 3, Train: 4, Test: 2,
		MinSize: [2]int{30, 30}, MaxSize: [2]int{50, 60}, Seed: 6}); err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(t.TempDir(), "run")
	if _, stderr, code := exe(t, os.Environ(), bin, "train", "--device", "sim", "--data", dir, "--out", run); code != 0 {
		t.Fatalf("train --device sim: exit %d\n%s", code, stderr)
	}
	weights := filepath.Join(run, "last.safetensors")
	out, stderr, code := exe(t, os.Environ(), bin, "eval", "--device", "sim", "--weights", weights, "--data", dir, "--json")
	var ev struct{ N int }
	if code != 0 || json.Unmarshal([]byte(out), &ev) != nil || ev.N != 6 {
		t.Fatalf("eval --device sim: exit %d, %q\n%s", code, out, stderr)
	}
	x := filepath.Join(dir, "x.npy")
	randomNPY(t, x, 5, []int{3, 32, 32}, 2)
	logits := map[string][]float32{}
	for _, dev := range []string{"cpu", "sim"} {
		y := filepath.Join(dir, dev+".npy")
		if _, stderr, code := exe(t, os.Environ(), bin, "predict", "--device", dev, "--weights", weights, "--npy", x, "--out", y); code != 0 {
			t.Fatalf("predict --device %s: exit %d\n%s", dev, code, stderr)
		}
		logits[dev] = readNPY(t, y)
	}
	if e := relErr(logits["sim"], f64s(logits["cpu"])); e > 1e-4 || len(logits["sim"]) != 5*3 {
		t.Errorf("predict --device sim differs from --device cpu: relative error %.2e", e)
	}
}
