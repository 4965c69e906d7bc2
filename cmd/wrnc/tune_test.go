package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wrnc/wrnc/compiler"
	"github.com/wrnc/wrnc/compiler/ir"
	"github.com/wrnc/wrnc/runtime/ckpt"
	"github.com/wrnc/wrnc/runtime/contract"
)

// TestTune runs `wrnc tune` as a user would: one entry per convolution and batch of the
// binary's forward passes, a time for every method that computes it, the fastest
// chosen (margin 0); then a tune file that sends one convolution to im2col changes the
// methods inspect reports at that batch and no other, and the binary compiled with it
// predicts the logits of the binary compiled without it.
func TestTune(t *testing.T) {
	src := "model WRN-10-1 {\n input 1x16x16\n classes 3\n batch 3\n}"
	wrn := write(t, "n.wrn", src)
	tf := filepath.Join(t.TempDir(), "n.tune.json")
	code, _, stderr := runWrnc("tune", wrn, "-o", tf, "--reps", "1", "--threads", "2", "--margin", "0")
	if code != 0 {
		t.Fatalf("wrnc tune: exit %d\n%s", code, stderr)
	}
	f, err := os.Open(tf)
	if err != nil {
		t.Fatal(err)
	}
	tune, err := contract.ReadTuneFile(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	p, err := compiler.Compile("n.wrn", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	type key struct {
		c     contract.Conv
		batch int
	}
	want := map[key]bool{}
	for _, ph := range p.Phases {
		for _, st := range ph.Steps {
			if st.Kind == ir.SConvFwd {
				want[key{p.Conv(st.K), ph.Batch}] = true
			}
		}
	}
	got := map[key]contract.TunedConv{}
	for _, e := range tune.Convs {
		got[key{e.Conv, e.Batch}] = e
	}
	if len(got) != len(want) || len(tune.Convs) != len(want) || tune.Threads != 2 || tune.Network != p.Name {
		t.Fatalf("tune file has %d entries (%d distinct) for %s on %d threads, want %d distinct for %s on 2", len(tune.Convs), len(got), tune.Network, tune.Threads, len(want), p.Name)
	}
	for k := range want {
		e, ok := got[k]
		if !ok {
			t.Fatalf("no entry for conv %+v at batch %d", k.c, k.batch)
		}
		cands := k.c.ForwardCandidates()
		if len(e.Micros) != len(cands) {
			t.Errorf("conv %+v batch %d: times of %v, want one per method of %v", k.c, k.batch, e.Micros, cands)
		}
		best := ""
		for _, s := range cands {
			us, ok := e.Micros[s.Label()]
			if !ok || !(us > 0) {
				t.Errorf("conv %+v batch %d: %s took %v µs", k.c, k.batch, s.Label(), us)
			}
			if best == "" || us < e.Micros[best] {
				best = s.Label()
			}
		}
		if e.Choice.Label() != best && e.Micros[e.Choice.Label()] != e.Micros[best] {
			t.Errorf("conv %+v batch %d: chose %s, the fastest of %v is %s", k.c, k.batch, e.Choice.Label(), e.Micros, best)
		}
	}

	// A tune file that puts the first 3x3 conv of group0 on im2col and the strided 1x1
	// shortcut of group1 on the pointwise forward pass, at the compiled batch.
	var target, shortcut contract.Conv
	for _, st := range p.Phases[0].Steps {
		if st.Kind == ir.SConvFwd && st.K.Name == "group0.block0.conv0" {
			target = p.Conv(st.K)
		}
		if st.Kind == ir.SConvFwd && st.K.Name == "group1.block0.convdim" {
			shortcut = p.Conv(st.K)
		}
	}
	if shortcut.S != 2 || shortcut.R != 1 {
		t.Fatalf("group1.block0.convdim is %+v, want a 1x1/2 shortcut", shortcut)
	}
	forced := &contract.TuneFile{Format: contract.TuneFormat, Network: p.Name, Threads: 2, Convs: []contract.TunedConv{
		{Conv: target, Batch: 3, Choice: contract.Selection{Method: contract.Im2col}, Rule: contract.Selection{Method: contract.Winograd, Tile: 4}},
		{Conv: shortcut, Batch: 3, Choice: contract.Selection{Method: contract.Pointwise}, Rule: contract.Selection{Method: contract.Im2row}},
	}}
	data, _ := json.Marshal(forced)
	ff := write(t, "forced.tune.json", string(data))
	code, stdout, stderr := runWrnc("inspect", wrn, "--json", "--tune", ff)
	if code != 0 {
		t.Fatalf("inspect --tune: exit %d\n%s", code, stderr)
	}
	var info struct {
		Layers []struct {
			Name    string                               `json:"name"`
			Methods map[string]map[string]map[string]any `json:"methods"`
		} `json:"layers"`
	}
	if err := json.Unmarshal([]byte(stdout), &info); err != nil {
		t.Fatal(err)
	}
	for _, l := range info.Layers {
		if l.Name == "group1.block0.convdim" {
			for key, w := range map[string]string{"train forward": `{"method":"pointwise"}`, "infer forward": `{"method":"pointwise"}`, "infer1 forward": `{"method":"im2row"}`, "train dgrad": `{"method":"im2row"}`} {
				var phase, pass string
				fmt.Sscan(key, &phase, &pass)
				if g := mustJSON(l.Methods[phase][pass]); g != w {
					t.Errorf("--tune: shortcut %s %s, want %s", key, g, w)
				}
			}
		}
		if l.Name != "group0.block0.conv0" {
			continue
		}
		for phase, w := range map[string]string{"train": `{"method":"im2col"}`, "infer": `{"method":"im2col"}`, "infer1": `{"method":"winograd","tile":4}`} {
			if g := mustJSON(l.Methods[phase]["forward"]); g != w {
				t.Errorf("--tune: %s forward %s, want %s", phase, g, w)
			}
		}
		if g := mustJSON(l.Methods["train"]["dgrad"]); g != `{"method":"winograd","tile":4}` {
			t.Errorf("--tune changed the input gradient: %s", g)
		}
	}

	// Both binaries give the same logits on the same weights (up to im2col's rounding
	// against Winograd's), at the compiled batch and on one image.
	if testing.Short() {
		return
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 4))
	params := randomParams(p, rng)
	var tensors []ckpt.Tensor
	for _, x := range p.Params {
		tensors = append(tensors, ckpt.Tensor{Name: x.Name, Shape: x.Shape, Data: f32(params[x.Name])})
	}
	weights := filepath.Join(dir, "w.safetensors")
	if err := ckpt.Write(weights, tensors, nil); err != nil {
		t.Fatal(err)
	}
	const n = 4 // one batch of 3 and one image
	x := make([]float32, n*ir.Prod(p.Input[:]))
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	xpath := filepath.Join(dir, "x.npy")
	if err := ckpt.WriteNPY(xpath, append([]int{n}, p.Input[:]...), x); err != nil {
		t.Fatal(err)
	}
	logits := map[string][]float32{}
	for _, tuneArg := range []string{"", ff} {
		bin := filepath.Join(t.TempDir(), "n")
		args := []string{"compile", wrn, "-o", bin}
		if tuneArg != "" {
			args = append(args, "--tune", tuneArg)
		}
		if code, _, stderr := runWrnc(args...); code != 0 {
			t.Fatalf("wrnc %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
		}
		out := filepath.Join(dir, "y.npy")
		if _, stderr, code := exe(t, os.Environ(), bin, "predict", "--weights", weights, "--npy", xpath, "--out", out); code != 0 {
			t.Fatalf("predict: exit %d\n%s", code, stderr)
		}
		_, logits[tuneArg], _ = ckpt.ReadNPY(out)
	}
	ref := make([]float64, len(logits[""]))
	for i, v := range logits[""] {
		ref[i] = float64(v)
	}
	if e := relErr(logits[ff], ref); e > 1e-4 || len(logits[ff]) != n*p.Classes {
		t.Errorf("the tuned binary's logits differ: relative error %.2e over %d values", e, len(logits[ff]))
	}
}

// TestTuneRefusesBadFiles checks compile --tune on a file that is not a tune file, of
// another format, and with a method that cannot compute its convolution: a clear
// message, exit 1, nothing built.
func TestTuneRefusesBadFiles(t *testing.T) {
	wrn := write(t, "n.wrn", "model WRN-10-1 {\n input 1x16x16\n batch 3\n}")
	conv := `{"C":16,"H":16,"W":16,"K":16,"R":3,"S":1,"P":1,"OH":16,"OW":16}`
	for _, tt := range []struct{ body, msg string }{
		{"{", "not a tune file"},
		{`{"format":"other/9","convs":[]}`, `format "other/9"`},
		{`{"format":"wrnc-tune/1","convs":[{"conv":` + conv + `,"batch":3,"choice":{"method":"pointwise"}}]}`, `"pointwise" does not compute`},
		{`{"format":"wrnc-tune/1","convs":[{"conv":` + conv + `,"batch":0,"choice":{"method":"im2col"}}]}`, "batch 0"},
	} {
		f := write(t, "bad.tune.json", tt.body)
		bin := filepath.Join(t.TempDir(), "n")
		code, _, stderr := runWrnc("compile", wrn, "-o", bin, "--tune", f)
		if code != 1 || !strings.Contains(stderr, tt.msg) || !strings.Contains(stderr, "bad.tune.json") {
			t.Errorf("%s: exit %d, stderr %q; want 1 and %q", tt.body, code, stderr, tt.msg)
		}
		if _, err := os.Stat(bin); err == nil {
			t.Errorf("%s: a binary was built", tt.body)
		}
	}
	if code, _, stderr := runWrnc("compile", wrn, "-o", filepath.Join(t.TempDir(), "n"), "--tune", filepath.Join(t.TempDir(), "missing.json")); code != 1 || !strings.Contains(stderr, "missing.json") {
		t.Errorf("missing tune file: exit %d, %q", code, stderr)
	}
	if code, _, stderr := runWrnc("tune", wrn, "--reps", "0"); code != 2 || !strings.Contains(stderr, "--reps") {
		t.Errorf("tune --reps 0: exit %d, %q", code, stderr)
	}
}
