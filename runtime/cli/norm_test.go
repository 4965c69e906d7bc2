package cli

import (
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wrnc/wrnc/runtime/data"
)

// TestTrainZCA trains with zca normalization: the whitening matrix travels in the
// checkpoint, and eval (which reads it back) finds the test loss training logged.
func TestTrainZCA(t *testing.T) {
	net := newTinyNet()
	net.spec.Recipe.Normalize = "zca"
	dir := writeIDX(t, 48, 12)
	run := filepath.Join(t.TempDir(), "run")
	mustRun(t, net, "train", "--data", dir, "--out", run, "--epochs", "1")
	f := readCkpt(t, filepath.Join(run, lastFile))
	z, ok := f.Get(zcaTensor)
	if !ok || len(z.Shape) != 2 || z.Shape[0] != tinyD || z.Shape[1] != tinyD {
		t.Fatalf("checkpoint zca tensor %v (present %v), want [%d %d]", z.Shape, ok, tinyD, tinyD)
	}
	if f.Meta[data.MetaNormKind] != "zca" {
		t.Errorf("normalize metadata %q", f.Meta[data.MetaNormKind])
	}
	rec, _ := parseRecord(f.Meta[metaLog])
	got := evalJSON(t, net, filepath.Join(run, lastFile), dir)
	if math.Abs(got.Loss-rec.TestLoss) > 1e-9*math.Max(1, rec.TestLoss) || got.Error != rec.TestError {
		t.Errorf("eval: loss %g error %g; training logged %g and %g", got.Loss, got.Error, rec.TestLoss, rec.TestError)
	}
	// Resuming restores the same normalization.
	mustRun(t, net, "train", "--data", dir, "--out", run, "--resume", "--epochs", "2")
	g := readCkpt(t, filepath.Join(run, lastFile))
	z2, _ := g.Get(zcaTensor)
	if g.Meta[data.MetaNormMean] != f.Meta[data.MetaNormMean] || !slices.Equal(z.Data, z2.Data) {
		t.Error("the resumed run changed the normalization")
	}
}

func TestNormFromWeights(t *testing.T) {
	net := newTinyNet()
	tests := []struct {
		name string
		meta map[string]string
		msg  string // "" for success
		kind string
	}{
		{"none", nil, "", ""},
		{"scale", map[string]string{"normalize": "scale"}, "", "scale"},
		{"meanstd", map[string]string{"normalize": "meanstd", "normalize.mean": "[0.5]", "normalize.std": "[0.25]"}, "", "meanstd"},
		{"channels", map[string]string{"normalize": "meanstd", "normalize.mean": "[0.5,0.5,0.5]", "normalize.std": "[1,1,1]"},
			"the meanstd normalization in its metadata has 3 means, this network's input 1x4x4 needs 1", ""},
		{"zca without matrix", map[string]string{"normalize": "zca", "normalize.mean": "[0.5]"}, "the normalization in its metadata is unusable", ""},
		{"unknown", map[string]string{"normalize": "whiten"}, "the normalization in its metadata is unusable", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := filepath.Join(t.TempDir(), "w.safetensors")
			writeWeights(t, w, net, make([]float32, net.spec.ParamsSize), make([]float32, 2), tc.meta)
			n, err := normFromWeights(readCkpt(t, w), net.spec.Input)
			switch {
			case tc.msg != "":
				if err == nil || !strings.Contains(err.Error(), w+": "+tc.msg) {
					t.Errorf("err = %v, want %q", err, tc.msg)
				}
			case err != nil:
				t.Fatal(err)
			case tc.kind == "" && n != nil:
				t.Errorf("got %+v, want none", n)
			case tc.kind != "" && (n == nil || n.Kind != tc.kind):
				t.Errorf("got %+v, want kind %s", n, tc.kind)
			}
		})
	}
}
