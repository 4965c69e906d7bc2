package cli

import (
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wrnc/wrnc/runtime/model"
)

// TestTrainSeeds checks that one binary runs several seeds: the same seed gives
// byte-identical weights, another seed other weights, and the seed is recorded.
func TestTrainSeeds(t *testing.T) {
	net := newTinyNet()
	data := writeIDX(t, 40, 12)
	runs := map[string]string{}
	for _, name := range []string{"a7", "b7", "c8"} {
		runs[name] = filepath.Join(t.TempDir(), name)
		out := mustRun(t, net, "train", "--data", data, "--out", runs[name], "--epochs", "1", "--seed", name[1:])
		if !strings.Contains(out, "overriding the compiled recipe: --seed "+name[1:]) {
			t.Errorf("%s: output lacks the override:\n%s", name, out)
		}
	}
	if diff := cmp.Diff(lastTensors(t, runs["a7"]), lastTensors(t, runs["b7"])); diff != "" {
		t.Errorf("two runs with --seed 7 differ:\n%s", diff)
	}
	if cmp.Equal(lastTensors(t, runs["a7"]), lastTensors(t, runs["c8"])) {
		t.Error("--seed 8 gave the same weights as --seed 7")
	}
	f := readCkpt(t, filepath.Join(runs["c8"], lastFile))
	if f.Meta[metaOverrides] != `{"seed":"8"}` {
		t.Errorf("checkpoint overrides %q", f.Meta[metaOverrides])
	}
	var r model.Recipe
	if err := json.Unmarshal([]byte(f.Meta[metaRecipe]), &r); err != nil || r.Seed != 8 || r.LR != 0.1 {
		t.Errorf("checkpoint recipe %q (%v): want seed 8 and the compiled lr 0.1", f.Meta[metaRecipe], err)
	}
	rec := readLog(t, runs["c8"])[0]
	if rec["seed"] != 8.0 || rec["overrides"] != "--seed 8" {
		t.Errorf("log record seed %v overrides %v", rec["seed"], rec["overrides"])
	}
}

// TestTrainOverridesResume checks the hyperparameter overrides: they reach the
// optimizer and the schedule, are recorded, kept by --resume, and a changed one is
// refused on --resume.
func TestTrainOverridesResume(t *testing.T) {
	net := newTinyNet()
	data := writeIDX(t, 40, 12)
	flags := []string{"--lr", "0.05", "--wd", "0.001", "--momentum", "0.5", "--gamma", "0.5", "--milestones", "1"}
	straight := filepath.Join(t.TempDir(), "a")
	mustRun(t, net, append([]string{"train", "--data", data, "--out", straight}, flags...)...)
	recs := readLog(t, straight)
	for i, want := range []float64{0.05, 0.025, 0.025} {
		if lr := recs[i]["lr"].(float64); math.Abs(lr-want) > 1e-12 {
			t.Errorf("epoch %d: lr %g, want %g", i+1, lr, want)
		}
	}
	plain := filepath.Join(t.TempDir(), "p")
	mustRun(t, net, "train", "--data", data, "--out", plain)
	if cmp.Equal(lastTensors(t, straight), lastTensors(t, plain)) {
		t.Error("the overrides changed nothing")
	}

	split := filepath.Join(t.TempDir(), "b")
	mustRun(t, net, append([]string{"train", "--data", data, "--out", split, "--epochs", "1"}, flags...)...)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--lr", "0.1"}, "was started with --lr 0.05"},
		{[]string{"--seed", "3"}, "was started without --seed"},
	} {
		code, _, stderr := run(t, net, append([]string{"train", "--data", data, "--out", split, "--resume"}, tc.args...)...)
		if code == 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("--resume %v: exit %d, stderr %q; want a refusal with %q", tc.args, code, stderr, tc.want)
		}
	}
	// The same value, written otherwise, is no change; the rest come from the checkpoint.
	out := mustRun(t, net, "train", "--data", data, "--out", split, "--resume", "--lr", "5e-2", "--epochs", "2")
	if !strings.Contains(out, "overriding the compiled recipe: --gamma 0.5 --lr 0.05 --milestones 1 --momentum 0.5 --wd 0.001") {
		t.Errorf("resumed run does not keep the recorded overrides:\n%s", out)
	}
	mustRun(t, net, "train", "--data", data, "--out", split, "--resume")
	if diff := cmp.Diff(lastTensors(t, straight), lastTensors(t, split)); diff != "" {
		t.Errorf("resumed run with overrides differs from the straight one:\n%s", diff)
	}
}

// TestInfoDescribesRun checks that info --weights shows the recorded overrides and the
// recipe the run trained with, in text and JSON.
func TestInfoDescribesRun(t *testing.T) {
	net := newTinyNet()
	data := writeIDX(t, 40, 12)
	run := filepath.Join(t.TempDir(), "r")
	mustRun(t, net, "train", "--data", data, "--out", run, "--epochs", "1", "--lr", "0.03", "--seed", "5")
	w := filepath.Join(run, lastFile)
	out := mustRun(t, net, "info", "--weights", w)
	for _, want := range []string{"run         epoch 1 of 1,", "overrides   --lr 0.03 --seed 5", "trained     epochs 1; sgd lr=0.03", "seed 5"} {
		if !strings.Contains(out, want) {
			t.Errorf("info --weights lacks %q:\n%s", want, out)
		}
	}
	var v struct {
		Run runDesc `json:"run"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, net, "info", "--json", "--weights", w)), &v); err != nil {
		t.Fatal(err)
	}
	if v.Run.Epoch != 1 || v.Run.Overrides["lr"] != "0.03" || v.Run.Recipe == nil || v.Run.Recipe.Seed != 5 || v.Run.Recipe.LR != 0.03 {
		t.Errorf("info --json run: %+v", v.Run)
	}
}
