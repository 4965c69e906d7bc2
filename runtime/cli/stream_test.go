package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/wrnc/wrnc/runtime/data"
	"github.com/wrnc/wrnc/runtime/model"
	"github.com/wrnc/wrnc/runtime/nn"
)

// newStreamNet is the tiny network with the imagenet family's augmentation: its data set
// is streamed from image files of any size, RandomResizedCrop'd to 4x4 for training and
// resized and centre-cropped for evaluation.
func newStreamNet() *tinyNet {
	net := newTinyNet()
	r := &net.spec.Recipe
	r.ResizedCrop, r.Crop, r.Flip, r.Normalize, r.Epochs = true, 0, true, "scale", 2
	return net
}

// writeStreamFolder writes an image folder of mixed sizes and formats, 3 classes.
func writeStreamFolder(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := data.WriteImageFolder(dir, data.FolderSpec{Classes: tinyClasses, Train: 6, Test: 3,
		MinSize: [2]int{5, 6}, MaxSize: [2]int{20, 24}, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestTrainStreamed trains, evaluates and predicts with a resized_crop recipe: train
// reads the folder as a stream, eval agrees with a reference built from data.EvalImage,
// predict takes an image of any size, and the same seed gives the same weights.
func TestTrainStreamed(t *testing.T) {
	net := newStreamNet()
	dir := writeStreamFolder(t)
	runs := t.TempDir()
	out := mustRun(t, net, "train", "--data", dir, "--out", filepath.Join(runs, "a"))
	if !strings.Contains(out, "18 training and 9 test images (folder, streamed)") || !strings.Contains(out, "epoch 2/2") {
		t.Errorf("train output:\n%s", out)
	}
	mustRun(t, net, "train", "--data", dir, "--out", filepath.Join(runs, "b"), "--threads", "1")
	w := filepath.Join(runs, "a", lastFile)
	fa, fb := readCkpt(t, w), readCkpt(t, filepath.Join(runs, "b", lastFile))
	for _, name := range []string{"fc.weight", "fc.bias"} {
		ta, _ := fa.Get(name)
		tb, _ := fb.Get(name)
		if !slices.Equal(ta.Data, tb.Data) {
			t.Errorf("%s differs between two runs of one seed", name)
		}
	}
	if k := fa.Meta[data.MetaNormKind]; k != data.NormScale {
		t.Errorf("checkpoint normalization %q, want scale", k)
	}

	// The reference evaluation: every test image as data.EvalImage makes it, one at a time.
	got := evalJSON(t, net, w, dir)
	cpu, err := model.NewNet(net)
	if err != nil {
		t.Fatal(err)
	}
	m := newMachine(cpu, 1, false)
	defer m.close()
	loadWeights(m.st, net.Spec(), fa)
	files, _ := filepath.Glob(filepath.Join(dir, "test", "*", "*"))
	slices.Sort(files)
	if len(files) != 9 {
		t.Fatalf("%d test files, want 9", len(files))
	}
	var loss float64
	var wrong int
	x, dl := make([]float32, tinyD), make([]float32, tinyClasses)
	norm := &data.Norm{Kind: data.NormScale}
	for i, f := range files {
		if err := data.EvalImage(f, net.spec.Input, norm, x); err != nil {
			t.Fatal(err)
		}
		l, correct, err := nn.SoftmaxCE(1, tinyClasses, net.Infer(m.st, 1, x), []int32{int32(i / 3)}, dl)
		if err != nil {
			t.Fatal(err)
		}
		loss += l
		wrong += 1 - correct
	}
	want := evalOut{Error: float64(wrong) / 9, Loss: loss / 9, N: 9}
	if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
		t.Errorf("eval --json (-want +got):\n%s", diff)
	}
	// eval needs the test split only.
	if err := os.RemoveAll(filepath.Join(dir, "train")); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, evalJSON(t, net, w, dir)); diff != "" {
		t.Errorf("eval without the training split (-with +without):\n%s", diff)
	}

	// predict takes the files as they are, of any size.
	pout := mustRun(t, net, "predict", "--weights", w, "--json", files[0], files[4])
	var res struct{ Predictions []prediction }
	if err := json.Unmarshal([]byte(pout), &res); err != nil {
		t.Fatalf("predict --json printed %q: %v", pout, err)
	}
	if len(res.Predictions) != 2 {
		t.Fatalf("predict gave %d predictions, want 2", len(res.Predictions))
	}
	for k, f := range []string{files[0], files[4]} {
		if err := data.EvalImage(f, net.spec.Input, norm, x); err != nil {
			t.Fatal(err)
		}
		p := softmax(net.Infer(m.st, 1, x))
		if diff := cmp.Diff(p, res.Predictions[k].Probabilities, cmpopts.EquateApprox(0, 1e-12)); diff != "" {
			t.Errorf("predict %s (-want +got):\n%s", f, diff)
		}
	}
}

// TestTrainStreamedErrors checks what a streamed run refuses: a corrupt image (named,
// exit 1, no panic), a missing test split, and a normalization that needs fitting.
func TestTrainStreamedErrors(t *testing.T) {
	net := newStreamNet()
	t.Run("corrupt image", func(t *testing.T) {
		dir := writeStreamFolder(t)
		bad := filepath.Join(dir, "train", "class01", "002.jpg")
		b, err := os.ReadFile(bad)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(bad, b[:len(b)/2], 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, errOut := run(t, net, "train", "--data", dir, "--out", filepath.Join(t.TempDir(), "run"))
		if code != ExitRefused || !strings.Contains(errOut, bad+": cannot decode") {
			t.Errorf("exit %d, stderr:\n%s\nwant exit %d naming %s", code, errOut, ExitRefused, bad)
		}
	})
	t.Run("no test split", func(t *testing.T) {
		dir := writeStreamFolder(t)
		if err := os.RemoveAll(filepath.Join(dir, "test")); err != nil {
			t.Fatal(err)
		}
		code, _, errOut := run(t, net, "train", "--data", dir, "--out", filepath.Join(t.TempDir(), "run"))
		if code != ExitRefused || !strings.Contains(errOut, filepath.Join(dir, "test")) {
			t.Errorf("exit %d, stderr:\n%s", code, errOut)
		}
	})
	t.Run("meanstd", func(t *testing.T) {
		ms := newStreamNet()
		ms.spec.Recipe.Normalize = "meanstd"
		code, _, errOut := run(t, ms, "train", "--data", writeStreamFolder(t), "--out", filepath.Join(t.TempDir(), "run"))
		if code != ExitRefused || !strings.Contains(errOut, "use normalize imagenet or scale") {
			t.Errorf("exit %d, stderr:\n%s", code, errOut)
		}
	})
}
