package cli

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wrnc/wrnc/runtime/ckpt"
	"github.com/wrnc/wrnc/runtime/data"
	"github.com/wrnc/wrnc/runtime/optim"
)

// trained returns the last checkpoint of a one-epoch run on IDX toy data.
func trained(t *testing.T, net *tinyNet) string {
	t.Helper()
	run := filepath.Join(t.TempDir(), "run")
	mustRun(t, net, "train", "--data", writeIDX(t, 24, 6), "--out", run, "--epochs", "1")
	return filepath.Join(run, lastFile)
}

func TestPredictNPY(t *testing.T) {
	net := newTinyNet()
	w := trained(t, net)
	f := readCkpt(t, w)
	wt, _ := f.Get("fc.weight")
	bt, _ := f.Get("fc.bias")
	// 1: the batch-1 kernels; 9: a full batch and one image; 11 and 16: one and two chunks.
	for _, n := range []int{1, 9, 11, 16} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(n), 3))
			x := make([]float32, n*tinyD)
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			dir := t.TempDir()
			in, out := filepath.Join(dir, "x.npy"), filepath.Join(dir, "y.npy")
			if err := ckpt.WriteNPY(in, []int{n, tinyC, tinyH, tinyW}, x); err != nil {
				t.Fatal(err)
			}
			mustRun(t, net, "predict", "--weights", w, "--npy", in, "--out", out, "--threads", "2")
			shape, y, err := ckpt.ReadNPY(out)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]int{n, tinyClasses}, shape); diff != "" {
				t.Fatalf("logits shape (-want +got):\n%s", diff)
			}
			// No normalization: the logits are W x + b of the raw input.
			for i := range n {
				for c := range tinyClasses {
					want := float64(bt.Data[c])
					for j := range tinyD {
						want += float64(wt.Data[c*tinyD+j]) * float64(x[i*tinyD+j])
					}
					if got := float64(y[i*tinyClasses+c]); math.Abs(got-want) > 1e-5*math.Max(1, math.Abs(want)) {
						t.Fatalf("logit [%d,%d] = %g, want %g", i, c, got, want)
					}
				}
			}
		})
	}
}

var probLine = regexp.MustCompile(`^  +([0-9.]+)%  +([0-9]+)(  (.*))?$`)

func TestPredictImages(t *testing.T) {
	net := newTinyNet()
	run := filepath.Join(t.TempDir(), "run")
	mustRun(t, net, "train", "--data", writeFolder(t, 60, 9), "--out", run)
	w := filepath.Join(run, bestFile)
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(11, 11))
	var files []string
	for c := range tinyClasses {
		p := filepath.Join(dir, fmt.Sprintf("img%d.png", c))
		writePNG(t, p, toyImage(rng, c), tinyH, tinyW)
		files = append(files, p)
	}
	out := mustRun(t, net, append([]string{"predict", "--weights", w}, files...)...)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(files)*(1+tinyClasses) {
		t.Fatalf("predict printed %d lines, want %d:\n%s", len(lines), len(files)*(1+tinyClasses), out)
	}
	for c, p := range files {
		block := lines[c*(1+tinyClasses):][:1+tinyClasses]
		if block[0] != p {
			t.Errorf("block %d starts %q, want the file name %q", c, block[0], p)
		}
		var sum float64
		var probs []float64
		var seen []int
		for i, l := range block[1:] {
			m := probLine.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("line %q is not 'PROB%%  CLASS  NAME'", l)
			}
			prob, _ := strconv.ParseFloat(m[1], 64)
			cls, _ := strconv.Atoi(m[2])
			sum += prob
			probs = append(probs, prob)
			seen = append(seen, cls)
			if m[4] != toyClassNames[cls] {
				t.Errorf("class %d named %q, want %q", cls, m[4], toyClassNames[cls])
			}
			if i == 0 && cls != c {
				t.Errorf("%s: top class %d, want %d:\n%s", p, cls, c, strings.Join(block, "\n"))
			}
		}
		if math.Abs(sum-100) > 0.01 {
			t.Errorf("%s: probabilities sum to %g%%", p, sum)
		}
		if !slices.IsSortedFunc(probs, func(a, b float64) int { return -cmpFloat(a, b) }) {
			t.Errorf("%s: probabilities not in decreasing order: %v", p, probs)
		}
		slices.Sort(seen)
		if !slices.Equal(seen, []int{0, 1, 2}) {
			t.Errorf("%s: classes %v, want each once", p, seen)
		}
	}
}

// TestPredictJSON checks predict --json on image files (class names from the image
// folder the weights were trained on) against the logits of the same images as --npy.
func TestPredictJSON(t *testing.T) {
	net := newTinyNet()
	run := filepath.Join(t.TempDir(), "run")
	mustRun(t, net, "train", "--data", writeFolder(t, 60, 9), "--out", run)
	w := filepath.Join(run, bestFile)
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(12, 12))
	var files []string
	for c := range tinyClasses {
		p := filepath.Join(dir, fmt.Sprintf("img%d.png", c))
		writePNG(t, p, toyImage(rng, c), tinyH, tinyW)
		files = append(files, p)
	}
	var got struct {
		Classes     []string     `json:"classes"`
		Predictions []prediction `json:"predictions"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, net, append([]string{"predict", "--json", "--weights", w}, files...)...)), &got); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Classes, toyClassNames[:tinyClasses]) || len(got.Predictions) != len(files) {
		t.Fatalf("predict --json: classes %q, %d predictions; want %q and %d", got.Classes, len(got.Predictions), toyClassNames[:tinyClasses], len(files))
	}
	for c, pr := range got.Predictions {
		var sum float64
		for _, p := range pr.Probabilities {
			sum += p
		}
		if pr.Image != files[c] || pr.Class != c || pr.Name != toyClassNames[c] || len(pr.Probabilities) != tinyClasses ||
			math.Abs(sum-1) > 1e-9 || pr.Probability != pr.Probabilities[c] || pr.Top[0].Class != c {
			t.Errorf("prediction %d: %+v", c, pr)
		}
	}
	// The same as --npy --json on the normalized images, whose logits are the reference.
	f := readCkpt(t, w)
	norm, err := normFromWeights(f, [3]int{1, tinyH, tinyW})
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, len(files)*tinyD)
	for c, p := range files {
		img, err := data.DecodeImage(p, [3]int{1, tinyH, tinyW})
		if err != nil {
			t.Fatal(err)
		}
		if err := norm.Apply(img, x[c*tinyD:(c+1)*tinyD]); err != nil {
			t.Fatal(err)
		}
	}
	xp, yp := filepath.Join(dir, "x.npy"), filepath.Join(dir, "y.npy")
	if err := ckpt.WriteNPY(xp, []int{len(files), 1, tinyH, tinyW}, x); err != nil {
		t.Fatal(err)
	}
	mustRun(t, net, "predict", "--weights", w, "--npy", xp, "--out", yp)
	_, logits, err := ckpt.ReadNPY(yp)
	if err != nil {
		t.Fatal(err)
	}
	for c, pr := range got.Predictions {
		want := softmax(logits[c*tinyClasses : (c+1)*tinyClasses])
		for j := range want {
			if math.Abs(pr.Probabilities[j]-want[j]) > 1e-6 {
				t.Errorf("image %d class %d: probability %g, from the logits %g", c, j, pr.Probabilities[j], want[j])
			}
		}
	}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// TestPredictImagesWithoutNorm: weights from elsewhere carry no normalization; image
// files need it unless the recipe's is scale.
func TestPredictImagesWithoutNorm(t *testing.T) {
	net := newTinyNet()
	params, stats := make([]float32, net.spec.ParamsSize), make([]float32, net.spec.StatsSize)
	if err := optim.Init(net.Spec(), params, stats, 3); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	w := filepath.Join(dir, "w.safetensors")
	writeWeights(t, w, net, params, stats, nil)
	img := filepath.Join(dir, "a.png")
	writePNG(t, img, toyImage(rand.New(rand.NewPCG(1, 1)), 0), tinyH, tinyW)
	code, _, errOut := run(t, net, "predict", "--weights", w, img)
	if code != ExitRefused || !strings.Contains(errOut, w+" holds no normalization") {
		t.Errorf("meanstd recipe: exit %d, stderr %q", code, errOut)
	}
	net.spec.Recipe.Normalize = "scale"
	out := mustRun(t, net, "predict", "--weights", w, img)
	if !strings.HasPrefix(out, img+"\n") || strings.Count(out, "%") != tinyClasses {
		t.Errorf("scale recipe: %q", out)
	}
}
