package cli

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/wrnc/wrnc/runtime/data"
	"github.com/wrnc/wrnc/runtime/model"
	"github.com/wrnc/wrnc/runtime/nn"
)

// evalOut is eval --json decoded.
type evalOut struct {
	Error, Loss float64
	N           int
}

// evalJSON runs eval --json and decodes its answer, checking its fields.
func evalJSON(t *testing.T, net *tinyNet, weights, dir string) evalOut {
	t.Helper()
	out := mustRun(t, net, "eval", "--weights", weights, "--data", dir, "--json")
	var fields map[string]any
	if err := json.Unmarshal([]byte(out), &fields); err != nil {
		t.Fatalf("eval --json printed %q: %v", out, err)
	}
	if len(fields) != 3 || fields["error"] == nil || fields["loss"] == nil || fields["n"] == nil {
		t.Fatalf("eval --json fields: %q, want error, loss and n", out)
	}
	var r evalOut
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestEval(t *testing.T) {
	net := newTinyNet()
	dir := writeIDX(t, 48, 21) // 21 = 8 + 8 + 5 test images: full chunks and a short one
	run := filepath.Join(t.TempDir(), "run")
	mustRun(t, net, "train", "--data", dir, "--out", run, "--epochs", "1")
	w := filepath.Join(run, lastFile)
	got := evalJSON(t, net, w, dir)

	// The reference: the test split through the weights, normalized as the checkpoint says,
	// on a machine of its own (Infer one image at a time).
	f := readCkpt(t, w)
	n, err := normFromWeights(f, net.spec.Input)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := data.Load(dir, net.spec.Input, tinyClasses, 0)
	if err != nil {
		t.Fatal(err)
	}
	cpu, err := model.NewNet(net)
	if err != nil {
		t.Fatal(err)
	}
	m := newMachine(cpu, 1, false)
	defer m.close()
	if err := loadWeights(m.st, net.Spec(), f); err != nil {
		t.Fatal(err)
	}
	var loss float64
	var wrong int
	x, dl := make([]float32, tinyD), make([]float32, tinyClasses)
	for i := range ds.Test.N {
		n.Apply(ds.Test.Image(i), x)
		l, correct, err := nn.SoftmaxCE(1, tinyClasses, net.Infer(m.st, 1, x), ds.Test.Labels[i:i+1], dl)
		if err != nil {
			t.Fatal(err)
		}
		loss += l
		wrong += 1 - correct
	}
	want := evalOut{Error: float64(wrong) / 21, Loss: loss / 21, N: 21}
	if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
		t.Errorf("eval --json (-want +got):\n%s", diff)
	}
	if rec, _ := parseRecord(f.Meta[metaLog]); math.Abs(rec.TestLoss-got.Loss) > 1e-9 {
		t.Errorf("eval loss %v, training's test loss %v", got.Loss, rec.TestLoss)
	}

	out := mustRun(t, net, "eval", "--weights", w, "--data", dir)
	if !strings.HasPrefix(out, "test error ") || !strings.Contains(out, " of 21 wrong), loss ") {
		t.Errorf("eval text: %q", out)
	}

	// eval reads the test split alone: without the training files it gives the same.
	trainFiles, _ := filepath.Glob(filepath.Join(dir, "train-*"))
	if len(trainFiles) != 2 {
		t.Fatalf("training files %v, want 2", trainFiles)
	}
	for _, f := range trainFiles {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff(got, evalJSON(t, net, w, dir)); diff != "" {
		t.Errorf("eval without the training split (-with +without):\n%s", diff)
	}
}
