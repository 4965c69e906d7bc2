package ckpt

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// python runs the PyTorch check: Debian's interpreter, with the python3-torch that
// .ci/run installs.
const python = "/usr/bin/python3"

// needTorch skips the test when python cannot import torch and numpy, and fails it
// under CI, which installs them.
func needTorch(t *testing.T) {
	t.Helper()
	out, err := exec.Command(python, "-c", "import torch, numpy").CombinedOutput()
	if err == nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s cannot import torch and numpy (.ci/run installs python3-torch): %v\n%s", python, err, out)
	}
	t.Skipf("%s cannot import torch and numpy (apt-get install python3-torch to compare with PyTorch): %v", python, err)
}

// TestTorchLoadsStrict writes a torchvision-named state_dict (F32 weights and running
// statistics, an I64 num_batches_tracked scalar per BatchNorm2d) with Write, and has
// PyTorch load it with load_state_dict(strict=True) and check every value
// (testdata/torch_strict.py). PyTorch then runs 3 training-mode forward passes and
// writes its state_dict back, which Read must take (load_state_dict puts 0 in a missing
// num_batches_tracked even when strict, so it is the counts that show ours arrived): the same names and dtypes, the
// weights unchanged, and every count 3 more than ours.
func TestTorchLoadsStrict(t *testing.T) {
	needTorch(t)
	counts := map[string]int64{"bn1": 12345, "layer1.0.bn1": 0, "layer1.0.downsample.1": 1<<40 + 1}
	rng := rand.New(rand.NewPCG(3, 4))
	var ours []Tensor
	f32 := func(name string, shape ...int) {
		ours = append(ours, randTensors(rng, []Spec{{name, shape}})...)
	}
	bn := func(prefix string) {
		for _, s := range []string{"weight", "bias", "running_mean"} {
			f32(prefix+"."+s, 4)
		}
		v := randTensors(rng, []Spec{{prefix + ".running_var", []int{4}}})[0]
		for i := range v.Data {
			v.Data[i] = 1 + v.Data[i]*v.Data[i]
		}
		ours = append(ours, v, Tensor{Name: prefix + ".num_batches_tracked", Shape: []int{}, Ints: []int64{counts[prefix]}})
	}
	f32("conv1.weight", 4, 3, 3, 3)
	bn("bn1")
	f32("layer1.0.conv1.weight", 4, 4, 1, 1)
	bn("layer1.0.bn1")
	f32("layer1.0.downsample.0.weight", 4, 4, 1, 1)
	bn("layer1.0.downsample.1")
	f32("fc.weight", 5, 4)
	f32("fc.bias", 5)

	dir := t.TempDir()
	in, out := filepath.Join(dir, "ours.safetensors"), filepath.Join(dir, "theirs.safetensors")
	if err := Write(in, ours, map[string]string{"network": "test"}); err != nil {
		t.Fatal(err)
	}
	const steps = 3
	stdout, err := exec.Command(python, filepath.Join("testdata", "torch_strict.py"), in, strconv.Itoa(steps), out).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("PyTorch refused our file: %v\n%s", err, stderr)
	}
	var printed map[string]int64
	if err := json.Unmarshal(stdout, &printed); err != nil {
		t.Fatalf("torch_strict.py printed %q: %v", stdout, err)
	}
	wantCounts := map[string]int64{}
	for p, n := range counts {
		wantCounts[p+".num_batches_tracked"] = n + steps
	}
	if diff := cmp.Diff(wantCounts, printed); diff != "" {
		t.Errorf("PyTorch's counts after %d steps (-want +got):\n%s", steps, diff)
	}

	theirs, err := Read(out)
	if err != nil {
		t.Fatalf("Read of the file PyTorch wrote: %v", err)
	}
	var wantNames, gotNames []string
	for _, x := range ours {
		wantNames = append(wantNames, x.Name)
	}
	for _, x := range theirs.Tensors {
		gotNames = append(gotNames, x.Name)
	}
	slices.Sort(wantNames)
	if diff := cmp.Diff(wantNames, gotNames); diff != "" {
		t.Fatalf("names of PyTorch's state_dict (-ours +theirs):\n%s", diff)
	}
	for _, w := range ours {
		g, _ := theirs.Get(w.Name)
		switch {
		case g.Dtype() != w.Dtype() || !sameShape(g.Shape, w.Shape):
			t.Errorf("%s: PyTorch wrote %s %v, we %s %v", w.Name, g.Dtype(), g.Shape, w.Dtype(), w.Shape)
		case w.Ints != nil:
			if want := wantCounts[w.Name]; !slices.Equal(g.Ints, []int64{want}) {
				t.Errorf("%s = %v after %d steps, want [%d]", w.Name, g.Ints, steps, want)
			}
		case !strings.Contains(w.Name, ".running_"): // weights, which a forward pass keeps
			if !slicesEqualBits(g.Data, w.Data) {
				t.Errorf("%s changed in a forward pass: %v, was %v", w.Name, g.Data, w.Data)
			}
		}
	}
}
