package cli

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"github.com/wrnc/wrnc/runtime/contract"
	"github.com/wrnc/wrnc/runtime/nn"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wrnc/wrnc/runtime/model"
)

// tinyNet is a hand-written model.Program for the tests: a linear softmax classifier over
// the flattened input (one "fc.weight" [classes, C*H*W] and "fc.bias" [classes]), plus
// the running mean and variance of all its input values as "bn.running_mean" and
// "bn.running_var" [1] (updated in training, unused by the logits), so that
// checkpoints carry statistics too.
type tinyNet struct{ spec model.Spec }

const (
	tinyC, tinyH, tinyW = 1, 4, 4
	tinyD               = tinyC * tinyH * tinyW
	tinyClasses         = 3
	tinyBatch           = 8
)

func newTinyNet() *tinyNet {
	n := &tinyNet{spec: model.Spec{
		Name:    "TINY-1",
		Input:   [3]int{tinyC, tinyH, tinyW},
		Classes: tinyClasses,
		Batch:   tinyBatch,
		Params: []model.Param{
			{Name: "fc.weight", Shape: []int{tinyClasses, tinyD}, Role: model.FCWeight, Offset: 0, FanIn: tinyD},
			{Name: "fc.bias", Shape: []int{tinyClasses}, Role: model.FCBias, Offset: tinyClasses * tinyD},
			{Name: "bn.running_mean", Shape: []int{1}, Role: model.BNMean, Offset: 0},
			{Name: "bn.running_var", Shape: []int{1}, Role: model.BNVar, Offset: 1},
		},
		ParamsSize: tinyClasses*tinyD + tinyClasses,
		StatsSize:  2,
		Recipe: model.Recipe{Epochs: 3, LR: 0.1, Momentum: 0.9, Nesterov: true, WeightDecay: 5e-4,
			Gamma: 0.2, Milestones: []int{2}, Flip: true, Normalize: "meanstd", Seed: 1},
		Info:        `{"name":"TINY-1","params":51,"macs":48,"peak_bytes":1234}`,
		MACs:        tinyClasses * tinyD,
		TrainArena:  tinyBatch * (2*tinyClasses + tinyD),
		InferArena:  tinyBatch * tinyClasses,
		Infer1Arena: tinyClasses,
	}}
	return n
}

func (n *tinyNet) Spec() *model.Spec { return &n.spec }

// linear writes W x + b for n images into out.
func (n *tinyNet) linear(s *model.State, imgs int, x, out []float32) {
	w, b := s.Params[:tinyClasses*tinyD], s.Params[tinyClasses*tinyD:]
	for i := range imgs {
		for c := range tinyClasses {
			acc := b[c]
			for j := range tinyD {
				acc += w[c*tinyD+j] * x[i*tinyD+j]
			}
			out[i*tinyClasses+c] = acc
		}
	}
}

func (n *tinyNet) TrainForward(s *model.State, imgs int, x []float32) []float32 {
	if imgs < 1 || imgs > tinyBatch {
		panic(fmt.Sprintf("TrainForward: n = %d", imgs))
	}
	out := s.Arena[:imgs*tinyClasses]
	saved := s.Arena[tinyBatch*tinyClasses:][:imgs*tinyD]
	copy(saved, x[:imgs*tinyD])
	n.linear(s, imgs, x, out)
	var sum, sq float64
	for _, v := range x[:imgs*tinyD] {
		sum += float64(v)
		sq += float64(v) * float64(v)
	}
	cnt := float64(imgs * tinyD)
	mean := sum / cnt
	s.Stats[0] = float32(0.9*float64(s.Stats[0]) + 0.1*mean)
	s.Stats[1] = float32(0.9*float64(s.Stats[1]) + 0.1*(sq/cnt-mean*mean)*cnt/(cnt-1))
	return out
}

// The arena of training: the logits, the input, d loss / d logits.
func (n *tinyNet) DLogits(s *model.State, imgs int) []float32 {
	return s.Arena[tinyBatch*(tinyClasses+tinyD):][:imgs*tinyClasses]
}

func (n *tinyNet) Prepare(*model.State, contract.Phase) {}

func (n *tinyNet) Loss(s *model.State, imgs int, labels []int32) (model.StepResult, error) {
	l, correct, err := nn.SoftmaxCE(imgs, tinyClasses, s.Arena[:imgs*tinyClasses], labels, n.DLogits(s, imgs))
	return model.StepResult{Loss: l, Correct: correct}, err
}

func (n *tinyNet) Update(s *model.State, h model.Hyper) {
	nn.SGDStep(s.Ctx, s.Params, s.Grads, s.Momentum, nn.SGDArgs(h), !s.Started)
}

func (n *tinyNet) TrainBackward(s *model.State, imgs int) {
	dl := n.DLogits(s, imgs)
	x := s.Arena[tinyBatch*tinyClasses:][:imgs*tinyD]
	gw, gb := s.Grads[:tinyClasses*tinyD], s.Grads[tinyClasses*tinyD:]
	for c := range tinyClasses {
		var db float32
		for i := range imgs {
			db += dl[i*tinyClasses+c]
		}
		gb[c] = db
		for j := range tinyD {
			var dw float32
			for i := range imgs {
				dw += dl[i*tinyClasses+c] * x[i*tinyD+j]
			}
			gw[c*tinyD+j] = dw
		}
	}
}

func (n *tinyNet) Infer(s *model.State, imgs int, x []float32) []float32 {
	if imgs < 1 || imgs > tinyBatch || len(s.Arena) < n.spec.InferArena {
		panic(fmt.Sprintf("Infer: n = %d, arena %d", imgs, len(s.Arena)))
	}
	out := s.Arena[:imgs*tinyClasses]
	n.linear(s, imgs, x, out)
	return out
}

func (n *tinyNet) Infer1(s *model.State, x []float32) []float32 {
	out := s.Arena[:tinyClasses]
	n.linear(s, 1, x, out)
	return out
}

// run runs the command line and returns its exit status and output.
func run(t *testing.T, prog model.Program, args ...string) (code int, stdout, stderr string) {
	net, err := model.NewNet(prog)
	if err != nil {
		t.Fatal(err)
	}
	t.Helper()
	var o, e bytes.Buffer
	code = Run(Env{Prog: "tiny", Stdout: &o, Stderr: &e}, args, net)
	return code, o.String(), e.String()
}

// mustRun runs the command line and fails the test unless it exits 0.
func mustRun(t *testing.T, net model.Program, args ...string) string {
	t.Helper()
	code, out, errOut := run(t, net, args...)
	if code != 0 {
		t.Fatalf("%s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// toyImage draws an image of class c: the rows of its pattern bright (180 and more),
// the others dark (under 60), so that the classes are linearly separable with a wide
// margin. Classes 0, 1, 2 light row 0, row 3, and rows 1-2 (all symmetric under a
// horizontal flip).
func toyImage(rng *rand.Rand, c int) []uint8 {
	rows := [][]int{{0}, {3}, {1, 2}}[c]
	img := make([]uint8, tinyD)
	for i := range img {
		img[i] = uint8(rng.IntN(60))
	}
	for _, r := range rows {
		for x := range tinyW {
			img[r*tinyW+x] += 180
		}
	}
	return img
}

// toySet makes n images of the three classes in turn.
func toySet(seed uint64, n int) (pixels []uint8, labels []uint8) {
	rng := rand.New(rand.NewPCG(seed, 9))
	for i := range n {
		c := i % tinyClasses
		pixels = append(pixels, toyImage(rng, c)...)
		labels = append(labels, uint8(c))
	}
	return pixels, labels
}

// writeIDX writes an MNIST-style folder of nTrain and nTest toy images (training
// images gzipped, test plain) and returns it.
func writeIDX(t *testing.T, nTrain, nTest int) string {
	t.Helper()
	dir := t.TempDir()
	put := func(name string, gz bool, magic uint32, dims []int, body []uint8) {
		var b bytes.Buffer
		binary.Write(&b, binary.BigEndian, magic)
		for _, d := range dims {
			binary.Write(&b, binary.BigEndian, uint32(d))
		}
		b.Write(body)
		raw := b.Bytes()
		if gz {
			var z bytes.Buffer
			w := gzip.NewWriter(&z)
			w.Write(raw)
			w.Close()
			raw, name = z.Bytes(), name+".gz"
		}
		if err := os.WriteFile(filepath.Join(dir, name), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	px, lb := toySet(1, nTrain)
	put("train-images-idx3-ubyte", true, 0x803, []int{nTrain, tinyH, tinyW}, px)
	put("train-labels-idx1-ubyte", true, 0x801, []int{nTrain}, lb)
	px, lb = toySet(2, nTest)
	put("t10k-images-idx3-ubyte", false, 0x803, []int{nTest, tinyH, tinyW}, px)
	put("t10k-labels-idx1-ubyte", false, 0x801, []int{nTest}, lb)
	return dir
}

// toyClassNames are the folder names of the PNG data set, in sorted order so that
// folder i holds class i.
var toyClassNames = []string{"a-top", "b-bottom", "c-middle"}

// writePNG writes one grey toy image as a PNG file.
func writePNG(t *testing.T, path string, img []uint8, h, w int) {
	t.Helper()
	g := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			g.SetGray(x, y, color.Gray{Y: img[y*w+x]})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, g); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeFolder writes a PNG folder tree of nTrain and nTest toy images.
func writeFolder(t *testing.T, nTrain, nTest int) string {
	t.Helper()
	dir := t.TempDir()
	for split, n := range map[string]int{"train": nTrain, "test": nTest} {
		rng := rand.New(rand.NewPCG(uint64(n), 5))
		for i := range n {
			c := i % tinyClasses
			writePNG(t, filepath.Join(dir, split, toyClassNames[c], fmt.Sprintf("%04d.png", i)), toyImage(rng, c), tinyH, tinyW)
		}
	}
	return dir
}
