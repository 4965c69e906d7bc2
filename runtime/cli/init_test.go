package cli

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/wrnc/wrnc/runtime/ckpt"
	"github.com/wrnc/wrnc/runtime/model"
	"github.com/wrnc/wrnc/runtime/optim"
)

// writeWeights writes params and stats of the tiny net as a safetensors file with
// metadata meta.
func writeWeights(t *testing.T, path string, net *tinyNet, params, stats []float32, meta map[string]string) {
	t.Helper()
	st := &model.State{Params: params, Stats: stats}
	if err := ckpt.Write(path, weightTensors(st, net.Spec()), meta); err != nil {
		t.Fatal(err)
	}
}

// TestTrainInitOneStep trains one epoch of a single batch from given weights without
// augmentation: the result must be one torch.optim.SGD step (first step: momentum
// buffer = gradient + weight decay), computed here in float64 from the definitions.
func TestTrainInitOneStep(t *testing.T) {
	net := newTinyNet()
	net.spec.Recipe.Flip = false
	r := net.spec.Recipe
	data := writeIDX(t, tinyBatch, 6)
	rng := rand.New(rand.NewPCG(7, 7))
	w0 := make([]float32, net.spec.ParamsSize)
	for i := range w0 {
		w0[i] = float32(rng.NormFloat64() * 0.3)
	}
	init := filepath.Join(t.TempDir(), "w0.safetensors")
	writeWeights(t, init, net, w0, []float32{0.5, 2}, nil)
	run := filepath.Join(t.TempDir(), "run")
	mustRun(t, net, "train", "--data", data, "--out", run, "--init", init, "--epochs", "1")

	// The reference: meanstd normalization of the 8 images, softmax cross-entropy mean
	// gradient of the linear layer, then SGD with Nesterov momentum.
	px, labels := toySet(1, tinyBatch)
	var sum, sq float64
	for _, v := range px {
		sum += float64(v) / 255
		sq += float64(v) / 255 * float64(v) / 255
	}
	mean := sum / float64(len(px))
	std := math.Sqrt(sq/float64(len(px)) - mean*mean)
	nw := tinyClasses * tinyD
	grad := make([]float64, len(w0))
	for i := range tinyBatch {
		x := make([]float64, tinyD)
		for j := range x {
			x[j] = (float64(px[i*tinyD+j])/255 - mean) / std
		}
		logits := make([]float64, tinyClasses)
		mx := math.Inf(-1)
		for c := range logits {
			logits[c] = float64(w0[nw+c])
			for j := range x {
				logits[c] += float64(w0[c*tinyD+j]) * x[j]
			}
			mx = math.Max(mx, logits[c])
		}
		var z float64
		for _, l := range logits {
			z += math.Exp(l - mx)
		}
		for c, l := range logits {
			d := math.Exp(l-mx) / z
			if c == int(labels[i]) {
				d--
			}
			d /= tinyBatch
			grad[nw+c] += d
			for j := range x {
				grad[c*tinyD+j] += d * x[j]
			}
		}
	}
	f := readCkpt(t, filepath.Join(run, lastFile))
	if f.Meta["step"] != "1" {
		t.Fatalf("%s steps, want 1", f.Meta["step"])
	}
	for i, p := range net.spec.Params[:2] {
		got, _ := f.Get(p.Name)
		mom, _ := f.Get(momentumPrefix + p.Name)
		for j := range got.Data {
			k := p.Offset + j
			d := grad[k] + r.WeightDecay*float64(w0[k])
			want := float64(w0[k]) - r.LR*(d+r.Momentum*d)
			if math.Abs(float64(got.Data[j])-want) > 1e-5*math.Max(1, math.Abs(want)) {
				t.Fatalf("tensor %d %s[%d] = %g, want %g", i, p.Name, j, got.Data[j], want)
			}
			if math.Abs(float64(mom.Data[j])-d) > 1e-5*math.Max(1, math.Abs(d)) {
				t.Fatalf("momentum of %s[%d] = %g, want %g", p.Name, j, mom.Data[j], d)
			}
		}
	}
}

// TestUntrainedIsWrong shows that the learning threshold of TestTrainLearns can fail:
// the initialisation train starts from is far from 10% error.
func TestUntrainedIsWrong(t *testing.T) {
	net := newTinyNet()
	data := writeIDX(t, 96, 30)
	params, stats := make([]float32, net.spec.ParamsSize), make([]float32, net.spec.StatsSize)
	if err := optim.Init(net.Spec(), params, stats, uint64(net.spec.Recipe.Seed)); err != nil {
		t.Fatal(err)
	}
	w := filepath.Join(t.TempDir(), "w.safetensors")
	writeWeights(t, w, net, params, stats, nil)
	res := evalJSON(t, net, w, data)
	if res.Error <= 0.1 {
		t.Errorf("untrained error %g, want > 0.1", res.Error)
	}
}
