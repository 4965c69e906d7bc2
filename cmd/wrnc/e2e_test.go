package main

import (
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wrnc/wrnc/codegen"
	"github.com/wrnc/wrnc/compiler"
	"github.com/wrnc/wrnc/compiler/ir"
	"github.com/wrnc/wrnc/runtime/ckpt"
	"github.com/wrnc/wrnc/runtime/nn"
	"github.com/wrnc/wrnc/testdata/ref"
)

// buildHarness compiles src as `wrnc compile` does, with testdata/harness/harness.go added
// to the package, and returns the program and the binary. The harness runs the network on
// device: "cpu", or a GPU device built in ("sim").
func buildHarness(t *testing.T, src, device string) (*ir.Program, string) {
	t.Helper()
	p, err := compiler.Compile("net.wrn", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var devices []string
	pick := "func harnessNet() (model.Net, error) { return model.NewNet(net{}) }\n"
	if device != "cpu" {
		devices = []string{device}
		pick = "func harnessNet() (model.Net, error) { n, _, err := devices()[0].Open(); return n, err }\n"
	}
	files, err := codegen.Go(p, "net.wrn", devices...)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := writePackage(dir, files, true, false); err != nil {
		t.Fatal(err)
	}
	h, err := os.ReadFile(filepath.Join("..", "..", "testdata", "harness", "harness.go"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "harness.go"), h, 0o644); err != nil {
		t.Fatal(err)
	}
	pickSrc := "package main\n\nimport \"github.com/wrnc/wrnc/runtime/model\"\n\n" + pick
	if err := os.WriteFile(filepath.Join(dir, "harness_net.go"), []byte(pickSrc), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "net")
	if err := goBuild(dir, bin, "", nil, os.Stderr); err != nil {
		t.Fatal(err)
	}
	return p, bin
}

// randomParams draws every tensor of p: He-normal weights, BN weights near 1, running
// statistics away from the trivial ones, so that every term of every formula matters.
func randomParams(p *ir.Program, rng *rand.Rand) map[string][]float64 {
	out := map[string][]float64{}
	for _, x := range p.Params {
		v := make([]float64, x.Size())
		for i := range v {
			switch x.Role {
			case ir.ConvWeight, ir.FCWeight:
				v[i] = rng.NormFloat64() * math.Sqrt(2/float64(ir.Prod(x.Shape[1:])))
			case ir.BNWeight:
				v[i] = 1 + 0.2*rng.NormFloat64()
			case ir.BNVar:
				v[i] = 0.5 + rng.Float64()
			default:
				v[i] = 0.2 * rng.NormFloat64()
			}
		}
		out[x.Name] = roundF32(v)
	}
	return out
}

// roundF32 rounds to float32 values, so that the reference starts from exactly what the
// binary reads.
func roundF32(v []float64) []float64 {
	for i := range v {
		v[i] = float64(float32(v[i]))
	}
	return v
}

func f32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// relErr is max |got - want| / max |want|.
func relErr(got []float32, want []float64) float64 {
	var d, m float64
	for i := range want {
		d = math.Max(d, math.Abs(float64(got[i])-want[i]))
		m = math.Max(m, math.Abs(want[i]))
	}
	if m == 0 {
		return d
	}
	return d / m
}

// dropoutKeep reproduces the binary's dropout masks for the reference: the mask of a
// dropout op is keyed by the BN kernel whose output it drops.
func dropoutKeep(p *ir.Program, seed, step uint64) func(op, i int) float64 {
	producer := map[int]*ir.Op{}
	for _, op := range p.Ops {
		producer[op.Out] = op
	}
	return func(opIndex, i int) float64 {
		op := p.Ops[opIndex]
		bn := producer[producer[op.In[0]].In[0]]
		layer := -1
		for j, k := range p.Fused {
			if k.Op == bn {
				layer = j
			}
		}
		if nn.Keep(nn.DropSeed(seed, step, layer), i, float32(op.P)) {
			return 1 / (1 - op.P)
		}
		return 0
	}
}

// TestGeneratedMatchesReference builds networks of several block types and odd shapes and
// compares every entry point of the generated code with the float64 reference: inference
// at the compiled batch and at batch 1, training-mode logits, the gradient of every
// trainable tensor and the running statistics after one step.
func TestGeneratedMatchesReference(t *testing.T) { testAgainstReference(t, "cpu") }

// TestSimMatchesReference runs the same comparison with the generated PTX kernels on the
// sim device: forward, backward and the running statistics of tiny networks.
func TestSimMatchesReference(t *testing.T) { testAgainstReference(t, "sim") }

func testAgainstReference(t *testing.T, device string) {
	if testing.Short() {
		t.Skip("builds binaries")
	}
	tests := []struct {
		name, src string
		n         int
		// deep: fifty float32 layers with batch statistics over 8 values per channel in the
		// last stage. The forward pass drifts from float64 by ~1e-5 and the last stage's BN
		// backward cancels most of its input, so the gradients agree to ~5e-4 on the CPU;
		// the sim device rounds its sums differently, and there a ReLU input near zero
		// changes sign, which moves one term of a BN's sums (an error of ~1/8 of one
		// channel's). The sim runs the basic network, which has every kernel kind.
		deep bool
	}{
		{"B(3,3) 2x9x7", "model WRN-10-1 {\n input 2x9x7\n classes 4\n batch 3\n}", 3, false},
		{"B(1,3,5) dropout, n<batch", "model WRN-13-1-B(1,3,5) {\n input 3x8x6\n classes 5\n batch 4\n dropout 0.3\n}", 3, false},
		{"B(7) 1x11x6 k=1.5", "model WRN-7-1.5-B(7) {\n input 1x11x6\n classes 3\n batch 2\n}", 2, false},
		{"B(3,1) two blocks", "model WRN-16-0.5-B(3,1) {\n input 3x7x7\n classes 6\n batch 5\n dropout 0.2\n}", 5, false},
		// The imagenet family: stem, max pool, post-activation blocks with downsamples.
		{"imagenet basic 3x35x32", "model WRN-18-0.25 {\n family imagenet\n input 3x35x32\n classes 5\n batch 3\n}", 2, false},
		{"imagenet bottleneck 3x48x48", "model WRN-50-0.125-bottleneck {\n input 3x48x48\n classes 4\n batch 2\n}", 2, true},
	}
	for ti, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.deep && device != "cpu" {
				t.Skip("deep networks are compared on the CPU (see deep)")
			}
			p, bin := buildHarness(t, tt.src, device)
			rng := rand.New(rand.NewPCG(uint64(ti), 99))
			params := randomParams(p, rng)
			in := ir.Prod(p.Input[:])
			x := make([]float64, tt.n*in)
			for i := range x {
				x[i] = rng.NormFloat64()
			}
			x = roundF32(x)
			labels := make([]int32, tt.n)
			lf := make([]float32, tt.n)
			for i := range labels {
				labels[i] = int32(rng.IntN(p.Classes))
				lf[i] = float32(labels[i])
			}
			dir := t.TempDir()
			var tensors []ckpt.Tensor
			for _, x := range p.Params {
				tensors = append(tensors, ckpt.Tensor{Name: x.Name, Shape: x.Shape, Data: f32(params[x.Name])})
			}
			if err := ckpt.Write(filepath.Join(dir, "params.safetensors"), tensors, nil); err != nil {
				t.Fatal(err)
			}
			shape := append([]int{tt.n}, p.Input[:]...)
			if err := ckpt.WriteNPY(filepath.Join(dir, "x.npy"), shape, f32(x)); err != nil {
				t.Fatal(err)
			}
			if err := ckpt.WriteNPY(filepath.Join(dir, "labels.npy"), []int{tt.n}, lf); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(bin)
			cmd.Env = append(os.Environ(), "WRNC_HARNESS="+dir)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("harness: %v\n%s", err, out)
			}
			read := func(name string) []float32 {
				_, d, err := ckpt.ReadNPY(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				return d
			}
			const tol = 1e-4
			gradTol := tol
			if tt.deep {
				gradTol = 2e-3
			}
			rn := &ref.Net{P: p, Params: params, N: tt.n}
			want, err := rn.Forward(x)
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"infer.npy", "infer1.npy"} {
				if e := relErr(read(name), want); e > tol {
					t.Errorf("%s: relative error %.2e against the reference", name, e)
				}
			}
			rn = &ref.Net{P: p, Params: params, N: tt.n, Train: true, Keep: dropoutKeep(p, 7, 3)}
			logits, err := rn.Forward(x)
			if err != nil {
				t.Fatal(err)
			}
			if e := relErr(read("train.npy"), logits); e > tol {
				t.Errorf("training logits: relative error %.2e", e)
			}
			_, dlogits, _ := ref.SoftmaxCE(tt.n, p.Classes, logits, labels)
			grads := rn.Backward(dlogits)
			out, err := ckpt.Read(filepath.Join(dir, "out.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range p.Params {
				name, want, tl := "grad."+x.Name, grads[x.Name], gradTol
				if !x.Trainable() {
					name, want, tl = x.Name, rn.Stats[x.Name], tol
				}
				got, ok := out.Get(name)
				if !ok || want == nil {
					t.Fatalf("%s: missing (binary %v, reference %v)", name, ok, want != nil)
				}
				if e := relErr(got.Data, want); e > tl {
					t.Errorf("%s: relative error %.2e", name, e)
				}
			}
			// The compiled training step: torch.optim.SGD's first step on those gradients
			// (the momentum buffer starts as the gradient with weight decay).
			stepped, err := ckpt.Read(filepath.Join(dir, "step.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			r := p.Recipe
			for _, x := range p.Params {
				if !x.Trainable() {
					continue
				}
				want, _ := ref.SGD(params[x.Name], grads[x.Name], nil, harnessLR, r.Momentum, r.Dampening, r.WeightDecay, r.Nesterov)
				got, ok := stepped.Get(x.Name)
				if !ok {
					t.Fatalf("step: %s missing", x.Name)
				}
				if e := relErr(got.Data, want); e > gradTol {
					t.Errorf("step: %s after one SGD step: relative error %.2e", x.Name, e)
				}
			}
		})
	}
}

// harnessLR is the learning rate of the harness's training step (testdata/harness).
const harnessLR = 0.1

// TestReferenceGradients checks the reference's own backward pass by central finite
// differences in float64, in training mode (batch statistics, dropout masks fixed).
func TestReferenceGradients(t *testing.T) {
	for _, src := range []string{
		"model WRN-13-1-B(3,1,3) {\n input 2x5x6\n classes 3\n dropout 0.25\n}",
		"model WRN-18-0.125 {\n family imagenet\n input 1x32x32\n classes 3\n}\ntrain {\n normalize scale\n}",
	} {
		t.Run(strings.Fields(src)[1], func(t *testing.T) { referenceGradients(t, src) })
	}
}

func referenceGradients(t *testing.T, src string) {
	p, err := compiler.Compile("fd.wrn", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	params := randomParams(p, rng)
	const n = 3
	x := make([]float64, n*ir.Prod(p.Input[:]))
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	labels := []int32{0, 2, 1}
	keep := dropoutKeep(p, 1, 1)
	forward := func(r *ref.Net) []float64 {
		y, err := r.Forward(x)
		if err != nil {
			t.Fatal(err)
		}
		return y
	}
	loss := func() float64 {
		r := &ref.Net{P: p, Params: params, N: n, Train: true, Keep: keep}
		l, _, _ := ref.SoftmaxCE(n, p.Classes, forward(r), labels)
		return l
	}
	r := &ref.Net{P: p, Params: params, N: n, Train: true, Keep: keep}
	_, dl, _ := ref.SoftmaxCE(n, p.Classes, forward(r), labels)
	grads := r.Backward(dl)
	checked := 0
	for _, prm := range p.Params {
		if !prm.Trainable() {
			continue
		}
		v := params[prm.Name]
		for _, i := range []int{0, len(v) / 2, len(v) - 1} {
			old := v[i]
			const h = 1e-5
			v[i] = old + h
			up := loss()
			v[i] = old - h
			down := loss()
			v[i] = old
			fd := (up - down) / (2 * h)
			if d := math.Abs(fd - grads[prm.Name][i]); d > 1e-6+1e-4*math.Abs(fd) {
				t.Errorf("%s[%d]: backward %.8g, finite difference %.8g", prm.Name, i, grads[prm.Name][i], fd)
			}
			checked++
		}
	}
	if checked < 30 {
		t.Errorf("checked only %d gradients", checked)
	}
}
