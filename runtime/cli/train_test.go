package cli

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/wrnc/wrnc/runtime/ckpt"
	"github.com/wrnc/wrnc/runtime/progress"
)

// logKeys are the fields of a log.jsonl record, exactly.
var logKeys = []string{"epoch", "lr", "train_loss", "train_error", "test_loss", "test_error", "seconds", "images_per_sec", "seed", "overrides"}

func readLog(t *testing.T, run string) []map[string]any {
	t.Helper()
	recs, err := progress.ReadLog(filepath.Join(run, logFile))
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func readCkpt(t *testing.T, path string) *ckpt.File {
	t.Helper()
	f, err := ckpt.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestTrainLearns(t *testing.T) {
	net := newTinyNet()
	data := writeIDX(t, 96, 30)
	run := filepath.Join(t.TempDir(), "run")
	out := mustRun(t, net, "train", "--data", data, "--out", run, "--threads", "2")
	if !strings.Contains(out, "epoch 3/3  lr 0.02") {
		t.Errorf("stdout lacks the epoch 3 line:\n%s", out)
	}
	recs := readLog(t, run)
	if len(recs) != 3 {
		t.Fatalf("log.jsonl has %d records, want 3", len(recs))
	}
	for i, r := range recs {
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range r {
				if !yield(k) {
					return
				}
			}
		})
		if diff := cmp.Diff(slices.Sorted(slices.Values(logKeys)), keys); diff != "" {
			t.Fatalf("record %d keys (-want +got):\n%s", i, diff)
		}
		if r["epoch"] != float64(i+1) {
			t.Errorf("record %d: epoch %v, want %d", i, r["epoch"], i+1)
		}
		if want := []float64{0.1, 0.1, 0.02}[i]; math.Abs(r["lr"].(float64)-want) > 1e-12 {
			t.Errorf("record %d: lr %v, want %g", i, r["lr"], want)
		}
		for _, k := range []string{"train_error", "test_error"} {
			if v := r[k].(float64); v < 0 || v > 1 {
				t.Errorf("record %d: %s = %g, not a fraction", i, k, v)
			}
		}
		for _, k := range []string{"train_loss", "test_loss", "seconds", "images_per_sec"} {
			if v := r[k].(float64); !(v > 0) {
				t.Errorf("record %d: %s = %g, want > 0", i, k, v)
			}
		}
		if r["seed"] != float64(net.spec.Recipe.Seed) || r["overrides"] != "" {
			t.Errorf("record %d: seed %v, overrides %q; want the recipe's seed %d and none", i, r["seed"], r["overrides"], net.spec.Recipe.Seed)
		}
	}
	t.Logf("test errors %v %v %v", recs[0]["test_error"], recs[1]["test_error"], recs[2]["test_error"])
	// The three classes light disjoint rows (>= 180) over a dark background (< 60): they are
	// linearly separable with a wide margin, so a linear classifier that learns at all is
	// nearly perfect; chance is 2/3 error. 10% leaves room for an unlucky initialisation.
	if e := recs[2]["test_error"].(float64); e > 0.1 {
		t.Errorf("test error after 3 epochs %g, want <= 0.1", e)
	}
	if recs[2]["train_loss"].(float64) >= recs[0]["train_loss"].(float64) {
		t.Errorf("train loss did not drop: %v then %v", recs[0]["train_loss"], recs[2]["train_loss"])
	}
	last := readCkpt(t, filepath.Join(run, lastFile))
	if _, err := last.Check(paramSpecs(net.Spec())); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"network": "TINY-1", "epoch": "3", "epochs": "3", "step": "36", "normalize": "meanstd"} {
		if last.Meta[k] != want {
			t.Errorf("last metadata %s = %q, want %q", k, last.Meta[k], want)
		}
	}
	for _, p := range net.Spec().Params {
		if _, ok := last.Get(momentumPrefix + p.Name); ok != p.Trainable() {
			t.Errorf("momentum of %s present: %v", p.Name, ok)
		}
	}
	best := readCkpt(t, filepath.Join(run, bestFile))
	if _, err := best.Check(paramSpecs(net.Spec())); err != nil {
		t.Fatal(err)
	}
	minErr := math.Inf(1)
	for _, r := range recs {
		minErr = math.Min(minErr, r["test_error"].(float64))
	}
	if got := best.Meta["best_test_error"]; got != last.Meta["best_test_error"] || got == "" {
		t.Errorf("best_test_error: best %q, last %q", got, last.Meta["best_test_error"])
	}
	if rec, ok := parseRecord(best.Meta[metaLog]); !ok || rec.TestError != minErr {
		t.Errorf("best.safetensors is from an epoch with test error %v, want the lowest, %g", rec.TestError, minErr)
	}
}

// trainTensors trains and returns the tensors of the run's last checkpoint.
func lastTensors(t *testing.T, run string) []ckpt.Tensor {
	t.Helper()
	return readCkpt(t, filepath.Join(run, lastFile)).Tensors
}

func TestTrainResume(t *testing.T) {
	net := newTinyNet()
	data := writeIDX(t, 40, 12)
	straight := filepath.Join(t.TempDir(), "a")
	mustRun(t, net, "train", "--data", data, "--out", straight)

	split := filepath.Join(t.TempDir(), "b")
	mustRun(t, net, "train", "--data", data, "--out", split, "--epochs", "2")
	if f := readCkpt(t, filepath.Join(split, lastFile)); f.Meta["epoch"] != "2" {
		t.Fatalf("after --epochs 2, last holds epoch %q", f.Meta["epoch"])
	}
	out := mustRun(t, net, "train", "--data", data, "--out", split, "--resume")
	if !strings.Contains(out, "resuming "+split+" at epoch 3 of 3") || strings.Contains(out, "epoch 1/3") {
		t.Errorf("resume output:\n%s", out)
	}
	// Weights, statistics and momentum after 2 + 1 epochs are those of 3 epochs in one go.
	if diff := cmp.Diff(lastTensors(t, straight), lastTensors(t, split)); diff != "" {
		t.Errorf("resumed run differs from the straight one (-straight +resumed):\n%s", diff)
	}
	a, b := readLog(t, straight), readLog(t, split)
	ignoreTime := cmpopts.IgnoreMapEntries(func(k string, _ any) bool { return k == "seconds" || k == "images_per_sec" })
	if diff := cmp.Diff(a, b, ignoreTime); diff != "" {
		t.Errorf("logs differ (-straight +resumed):\n%s", diff)
	}
	if lr := b[2]["lr"].(float64); math.Abs(lr-0.02) > 1e-12 {
		t.Errorf("resumed epoch 3 has lr %g, want 0.02 (after the milestone at 2)", lr)
	}

	t.Run("finished", func(t *testing.T) {
		out := mustRun(t, net, "train", "--data", data, "--out", split, "--resume")
		if !strings.Contains(out, "already holds epoch 3 of 3: nothing to train") {
			t.Errorf("output: %s", out)
		}
		if n := len(readLog(t, split)); n != 3 {
			t.Errorf("log has %d records, want 3", n)
		}
	})
}

// TestTrainResumeRecoversLog simulates a crash between writing last.safetensors and
// its log record: the resumed run restores the record from the checkpoint.
func TestTrainResumeRecoversLog(t *testing.T) {
	net := newTinyNet()
	data := writeIDX(t, 24, 9)
	run := filepath.Join(t.TempDir(), "run")
	mustRun(t, net, "train", "--data", data, "--out", run, "--epochs", "2")
	path := filepath.Join(run, logFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(strings.TrimSuffix(string(b), "\n"), "\n")
	want := readLog(t, run)
	// The first record and half of the second: a torn write.
	if err := os.WriteFile(path, []byte(lines[0]+lines[1][:10]), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, net, "train", "--data", data, "--out", run, "--resume", "--epochs", "3")
	got := readLog(t, run)
	if len(got) != 3 {
		t.Fatalf("log has %d records, want 3", len(got))
	}
	if diff := cmp.Diff(want, got[:2]); diff != "" {
		t.Errorf("records 1-2 (-before +after):\n%s", diff)
	}
	if got[2]["epoch"] != 3.0 {
		t.Errorf("third record is epoch %v", got[2]["epoch"])
	}
}

func TestTrainDropsSingleImageBatch(t *testing.T) {
	net := newTinyNet()
	data := writeIDX(t, 40, 6)
	run := filepath.Join(t.TempDir(), "run")
	// 17 images in batches of 8: 8, 8 and a last batch of one, which is dropped.
	mustRun(t, net, "train", "--data", data, "--out", run, "--limit", "17", "--epochs", "1")
	if step := readCkpt(t, filepath.Join(run, lastFile)).Meta["step"]; step != "2" {
		t.Errorf("steps after one epoch of 17 images = %s, want 2", step)
	}
	run2 := filepath.Join(t.TempDir(), "run")
	// 18 images: 8, 8, 2: the batch of two is kept.
	mustRun(t, net, "train", "--data", data, "--out", run2, "--limit", "18", "--epochs", "1")
	if step := readCkpt(t, filepath.Join(run2, lastFile)).Meta["step"]; step != "3" {
		t.Errorf("steps after one epoch of 18 images = %s, want 3", step)
	}
}

func TestTrainRunFolder(t *testing.T) {
	net := newTinyNet()
	data := writeIDX(t, 16, 6)
	dir := filepath.Join(t.TempDir(), "run")
	mustRun(t, net, "train", "--data", data, "--out", dir, "--epochs", "1")
	before := lastTensors(t, dir)
	tests := []struct {
		name string
		args []string
		msg  string
	}{
		{"refuse overwrite", []string{"--out", dir}, dir + " already holds a run (" + filepath.Join(dir, lastFile) + " exists); continue it with --resume"},
		{"resume nothing", []string{"--out", filepath.Join(t.TempDir(), "none"), "--resume"}, "there is no run to continue"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := run(t, net, append([]string{"train", "--data", data}, tc.args...)...)
			if code != ExitRefused || !strings.Contains(errOut, tc.msg) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, errOut, tc.msg)
			}
		})
	}
	if diff := cmp.Diff(before, lastTensors(t, dir)); diff != "" {
		t.Errorf("a refused run changed last.safetensors:\n%s", diff)
	}
}

func TestTrainDiverges(t *testing.T) {
	net := newTinyNet()
	net.spec.Recipe.LR = 1e38 // the weights overflow in the first steps
	dir := filepath.Join(t.TempDir(), "run")
	code, _, errOut := run(t, net, "train", "--data", writeIDX(t, 32, 6), "--out", dir)
	if code != ExitRefused || !strings.Contains(errOut, "training diverged in epoch 1 (the loss is NaN at learning rate 1e+38); no checkpoint was written") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, lastFile)); err == nil {
		t.Error("a diverged run wrote last.safetensors")
	}
}
