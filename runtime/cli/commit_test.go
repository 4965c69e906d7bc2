package cli

import (
	"maps"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wrnc/wrnc/runtime/ckpt"
)

// rewrite rewrites the checkpoint at path after edit changed its tensors or metadata.
func rewrite(t *testing.T, path string, edit func(f *ckpt.File)) {
	t.Helper()
	f := readCkpt(t, path)
	f.Meta = maps.Clone(f.Meta)
	edit(f)
	if err := ckpt.Write(path, f.Tensors, f.Meta); err != nil {
		t.Fatal(err)
	}
}

// logEpochs is the epochs of the log's records, in order.
func logEpochs(t *testing.T, rd string) []int {
	var out []int
	for _, r := range readLog(t, rd) {
		out = append(out, int(r["epoch"].(float64)))
	}
	return out
}

// TestResumeCompletesCommit checks that --resume completes an epoch's commit that a
// crash cut short after last.safetensors, even when that was the final epoch: best is
// rewritten from last, the log gets the epoch's record once, records of later epochs
// and repeats are dropped, and stale temporary files are removed.
func TestResumeCompletesCommit(t *testing.T) {
	net := newTinyNet()
	data := writeIDX(t, 40, 12)
	rd := filepath.Join(t.TempDir(), "r")
	mustRun(t, net, "train", "--data", data, "--out", rd, "--epochs", "2")
	last, best := filepath.Join(rd, lastFile), filepath.Join(rd, bestFile)
	if be := readCkpt(t, last).Meta[metaBestEpoch]; be != "1" && be != "2" {
		t.Fatalf("last records best_epoch %q", be)
	}
	// Epoch 2 the best, as if it had improved.
	rewrite(t, last, func(f *ckpt.File) { f.Meta[metaBestEpoch] = "2" })
	be := "2"
	// A crash right after last was written: best holds another epoch (made here by
	// relabelling it), the log lacks epoch 2 and holds records of a lost later run.
	rewrite(t, best, func(f *ckpt.File) { f.Meta[metaEpoch] = "0" })
	logPath := filepath.Join(rd, logFile)
	b, _ := os.ReadFile(logPath)
	lines := strings.SplitAfter(string(b), "\n")
	os.WriteFile(logPath, []byte(lines[0]+lines[0]+`{"epoch":3,"lr":0.1}`+"\n"+`{"epoch":4,"lr`), 0o644)
	stale := filepath.Join(rd, ".last.safetensors.tmp-12345")
	os.WriteFile(stale, []byte("partial"), 0o644)

	code, out, errOut := run(t, net, "train", "--data", data, "--out", rd, "--resume", "--epochs", "2")
	if code != 0 || !strings.Contains(out, "nothing to train") {
		t.Fatalf("resume: exit %d\n%s\n%s", code, out, errOut)
	}
	if got := readCkpt(t, best).Meta[metaEpoch]; got != be {
		t.Errorf("best holds epoch %q, want %q (last's best_epoch)", got, be)
	}
	if !strings.Contains(errOut, "restored "+best) {
		t.Errorf("no word of restoring best:\n%s", errOut)
	}
	if got := logEpochs(t, rd); len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Errorf("log epochs %v, want [1 2]", got)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("the stale temporary file is still there")
	}
	// Going on logs each epoch once, in order.
	mustRun(t, net, "train", "--data", data, "--out", rd, "--resume")
	if got := logEpochs(t, rd); len(got) != 3 || got[2] != 3 {
		t.Errorf("log epochs %v, want [1 2 3]", got)
	}
}

// TestResumeRefusesCorruptState checks that --resume refuses what would silently give a
// different run: a checkpoint without its optimizer state, and a best test error that is
// not a fraction.
func TestResumeRefusesCorruptState(t *testing.T) {
	net := newTinyNet()
	data := writeIDX(t, 40, 12)
	for _, tc := range []struct {
		name string
		edit func(f *ckpt.File)
		want string
	}{
		{"no momentum", func(f *ckpt.File) {
			var kept []ckpt.Tensor
			for _, x := range f.Tensors {
				if !strings.HasPrefix(x.Name, momentumPrefix) {
					kept = append(kept, x)
				}
			}
			f.Tensors = kept
		}, "lacks the optimizer state"},
		{"best NaN", func(f *ckpt.File) { f.Meta[metaBest] = "NaN" }, `best_test_error is "NaN", not an error fraction`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rd := filepath.Join(t.TempDir(), "r")
			mustRun(t, net, "train", "--data", data, "--out", rd, "--epochs", "1")
			rewrite(t, filepath.Join(rd, lastFile), tc.edit)
			code, _, errOut := run(t, net, "train", "--data", data, "--out", rd, "--resume")
			if code != ExitRefused || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, errOut, tc.want)
			}
		})
	}
}

// TestRefusesNonFiniteWeights checks that every verb refuses weights with a NaN or an
// infinity, or a negative running variance, instead of computing with them.
func TestRefusesNonFiniteWeights(t *testing.T) {
	net := newTinyNet()
	data := writeIDX(t, 40, 12)
	rd := filepath.Join(t.TempDir(), "r")
	mustRun(t, net, "train", "--data", data, "--out", rd, "--epochs", "1")
	for _, tc := range []struct {
		name string
		role string
		v    float32
		want string
	}{
		{"nan", "", float32(math.NaN()), "holds NaN"},
		{"inf", "", float32(math.Inf(1)), "holds +Inf"},
		{"negative variance", "running_var", -1, "negative variance"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := filepath.Join(t.TempDir(), "w.safetensors")
			b, _ := os.ReadFile(filepath.Join(rd, lastFile))
			os.WriteFile(w, b, 0o644)
			rewrite(t, w, func(f *ckpt.File) {
				for i, x := range f.Tensors {
					if strings.HasSuffix(x.Name, tc.role) && !strings.HasPrefix(x.Name, "__") {
						d := append([]float32(nil), x.Data...)
						d[len(d)-1] = tc.v
						f.Tensors[i].Data = d
						return
					}
				}
			})
			for _, args := range [][]string{
				{"eval", "--weights", w, "--data", data},
				{"train", "--data", data, "--out", filepath.Join(t.TempDir(), "n"), "--init", w},
				{"export", "--weights", w, "--onnx", filepath.Join(t.TempDir(), "m.onnx")},
			} {
				code, _, errOut := run(t, net, args...)
				if code != ExitRefused || !strings.Contains(errOut, tc.want) {
					t.Errorf("%s: exit %d, stderr %q; want 1 and %q", args[0], code, errOut, tc.want)
				}
			}
		})
	}
}
