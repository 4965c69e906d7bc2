package ptx

import (
	"fmt"
	"github.com/wrnc/wrnc/runtime/cpu"
	"math"
	"slices"
	"testing"

	"github.com/wrnc/wrnc/runtime/nn"
	"github.com/wrnc/wrnc/testdata/ref"
)

// headShapes are (n, C, HW, F).
var headShapes = [][4]int{{1, 1, 1, 1}, {3, 17, 35, 10}, {3, 8, 1, 3}, {1, 130, 4, 17}}

func TestHeadSim(t *testing.T) {
	for i, s := range headShapes {
		n, C, HW, F := s[0], s[1], s[2], s[3]
		t.Run(fmt.Sprintf("n%d_C%d_HW%d_F%d", n, C, HW, F), func(t *testing.T) {
			r := newRand(500 + uint64(i))
			d := newDevice(t)
			x := randF32(r, n*C*HW, -1, 1)
			scale, shift := randF32(r, C, 0.5, 1.5), randF32(r, C, -0.5, 0.5)
			fcW, fcB := randF32(r, F*C, -1, 1), randF32(r, F, -1, 1)
			dlogits := randF32(r, n*F, -1, 1)
			for name, v := range map[string][]float32{"x": x, "scale": scale, "shift": shift, "fcW": fcW, "fcB": fcB, "dlogits": dlogits} {
				d.f32(name, v)
			}
			for name, size := range map[string]int{"pooled": n * C, "logits": n * F, "dfcW": F * C, "dfcB": F, "dz": n * C * HW} {
				d.poison(name, size)
			}
			d.scalar("n", uint64(n))
			fwd, err := HeadForward("head_fwd", C, HW, F)
			if err != nil {
				t.Fatal(err)
			}
			fc, err := HeadBackwardFC("head_bwd_fc", C, F)
			if err != nil {
				t.Fatal(err)
			}
			dz, err := HeadBackwardDz("head_bwd_dz", C, HW, F)
			if err != nil {
				t.Fatal(err)
			}
			d.launch(fwd, n)
			d.launch(fc, n)
			d.launch(dz, n)
			ctx := newCtx(t, nn.Conv{})
			pooled, logits := make([]float32, n*C), make([]float32, n*F)
			nn.HeadForward(ctx, n, C, HW, F, x, scale, shift, fcW, fcB, pooled, logits)
			dfcW, dfcB, wantDz := make([]float32, F*C), make([]float32, F), make([]float32, n*C*HW)
			nn.HeadBackward(ctx, n, C, HW, F, pooled, fcW, dlogits, dfcW, dfcB, wantDz)
			check(t, "pooled", d.read("pooled"), pooled, 1e-5)
			check(t, "logits", d.read("logits"), logits, 1e-5)
			check(t, "dfcW", d.read("dfcW"), dfcW, 1e-5)
			check(t, "dfcB", d.read("dfcB"), dfcB, 1e-5)
			check(t, "dz", d.read("dz"), wantDz, 1e-5)
		})
	}
}

func TestSoftmaxCESim(t *testing.T) {
	cases := []struct {
		n, F   int
		spread float64 // logits uniform in [-spread, spread)
	}{{1, 1, 1}, {3, 10, 3}, {5, 37, 10}, {2, 100, 30}, {3, 3, 0}}
	for i, c := range cases {
		t.Run(fmt.Sprintf("n%d_F%d_spread%g", c.n, c.F, c.spread), func(t *testing.T) {
			r := newRand(600 + uint64(i))
			d := newDevice(t)
			logits := randF32(r, c.n*c.F, -c.spread, c.spread)
			if c.spread == 0 { // ties: the first argmax wins
				for j := range logits {
					logits[j] = float32(j % 2)
				}
			}
			labels := make([]int32, c.n)
			ul := make([]uint32, c.n)
			for j := range labels {
				labels[j] = int32(r.IntN(c.F))
				ul[j] = uint32(labels[j])
			}
			if c.n > 1 {
				// One image labelled with its argmax, confidently: a loss near 0.
				labels[0], ul[0] = 0, 0
				logits[0] = float32(c.spread*3 + 10)
			}
			d.f32("logits", logits)
			d.u32("labels", ul)
			d.poison("dlogits", c.n*c.F)
			d.poison("loss", c.n)
			d.u32("correct", slices.Repeat([]uint32{7}, c.n))
			d.scalar("n", uint64(c.n))
			e, err := SoftmaxCE("softmax_ce", c.F)
			if err != nil {
				t.Fatal(err)
			}
			d.launch(e, c.n)
			want := make([]float32, c.n*c.F)
			if _, _, err := nn.SoftmaxCE(c.n, c.F, logits, labels, want); err != nil {
				t.Fatal(err)
			}
			check(t, "dlogits", d.read("dlogits"), want, 1e-5)
			gotLoss, gotCorrect := d.read("loss"), d.readU32("correct")
			wantMean, wantCorrect, _ := nn.SoftmaxCE(c.n, c.F, logits, labels, make([]float32, c.n*c.F))
			var mean float64
			correct := 0
			for j := 0; j < c.n; j++ {
				// nn sums log(s) in float64, where s = 1 + (tiny) loses the loss of a confident
				// image; the float64 reference uses log1p of the other classes' sum instead.
				ref := lossRef(logits[j*c.F:(j+1)*c.F], int(labels[j]))
				if e := math.Abs(float64(gotLoss[j])-ref) / math.Max(ref, 1e-38); e > 1e-5 || math.IsNaN(float64(gotLoss[j])) {
					t.Errorf("image %d: loss %g, want %g (relative error %.3g)", j, gotLoss[j], ref, e)
				}
				mean += float64(gotLoss[j]) / float64(c.n)
				correct += int(gotCorrect[j])
				if gotCorrect[j] > 1 {
					t.Errorf("image %d: correct = %d", j, gotCorrect[j])
				}
			}
			if math.Abs(mean-wantMean) > 1e-5*math.Max(wantMean, 1e-3) || correct != wantCorrect {
				t.Errorf("mean loss %g, %d correct; nn.SoftmaxCE: %g, %d", mean, correct, wantMean, wantCorrect)
			}
			// LossSum: the two words the host reads back.
			ls, err := LossSum("loss_sum")
			if err != nil {
				t.Fatal(err)
			}
			d.poison("out", 2)
			d.launch(ls, c.n)
			out := d.read("out")
			sum, count := float64(out[0]), math.Float32bits(out[1])
			if math.Abs(sum/float64(c.n)-mean) > 1e-6*math.Max(mean, 1e-3) || int(count) != correct {
				t.Errorf("LossSum: mean %g, %d correct; want %g, %d", sum/float64(c.n), count, mean, correct)
			}
		})
	}
}

func TestSGDSim(t *testing.T) {
	type SGD struct {
		Momentum, Dampening, WeightDecay float64
		Nesterov                         bool
	}
	cases := []SGD{
		{},
		{WeightDecay: 5e-4},
		{Momentum: 0.9, WeightDecay: 5e-4},
		{Momentum: 0.9, Dampening: 0.1, WeightDecay: 5e-4},
		{Momentum: 0.9, WeightDecay: 5e-4, Nesterov: true},
	}
	const P = 1000
	for i, o := range cases {
		t.Run(fmt.Sprintf("%+v", o), func(t *testing.T) {
			r := newRand(700 + uint64(i))
			d := newDevice(t)
			params := randF32(r, P, -1, 1)
			d.f32("params", params)
			e, err := SGDStep("sgd", P)
			if err != nil {
				t.Fatal(err)
			}
			pool := cpu.NewPool(1)
			t.Cleanup(pool.Close)
			ctx := nn.NewCtx(pool, nil, 0)
			want, buf := append([]float32(nil), params...), make([]float32, P)
			d.poison("buf", P) // the first step must not read it; without momentum, no step does
			bits := func(f float64) uint64 { return uint64(math.Float32bits(float32(f))) }
			d.scalar("mom", bits(o.Momentum))
			d.scalar("damp", bits(1-o.Dampening))
			d.scalar("wd", bits(o.WeightDecay))
			d.scalar("nesterov", map[bool]uint64{true: 1, false: 0}[o.Nesterov])
			for step, lr := range []float64{0.1, 0.05, 0.02} {
				grads := randF32(r, P, -1, 1)
				d.f32("grads", grads)
				d.scalar("lr", uint64(math.Float32bits(float32(lr))))
				d.scalar("first", map[bool]uint64{true: 1, false: 0}[step == 0])
				d.launch(e, 1)
				nn.SGDStep(ctx, want, grads, buf, nn.SGDArgs{LR: lr, Momentum: o.Momentum, Dampening: o.Dampening,
					WeightDecay: o.WeightDecay, Nesterov: o.Nesterov}, step == 0)
				// The same float32 operations in the same order: bit for bit.
				if got := d.read("params"); !slices.Equal(got, want) {
					i := worst(got, want)
					t.Fatalf("step %d: params[%d] = %g, want %g", step, i, got[i], want[i])
				}
				if o.Momentum != 0 && !slices.Equal(d.read("buf"), buf) {
					t.Fatalf("step %d: momentum buffers differ", step)
				}
			}
		})
	}
}

// lossRef is the cross-entropy of one row in float64: (m - row[y]) + log1p(sum over f != argmax
// of exp(row[f] - m)), m the first maximum.
func lossRef(row []float32, y int) float64 {
	best := 0
	for f, v := range row {
		if v > row[best] {
			best = f
		}
	}
	m := float64(row[best])
	var s1 float64
	for f, v := range row {
		if f != best {
			s1 += math.Exp(float64(v) - m)
		}
	}
	return m - float64(row[y]) + math.Log1p(s1)
}

// TestHeadRawSim runs the head of a post-activation network: HeadForwardRaw, then the
// backward kernels it shares with HeadForward, against the float64 reference.
func TestHeadRawSim(t *testing.T) {
	for i, s := range headShapes {
		n, C, HW, F := s[0], s[1], s[2], s[3]
		t.Run(fmt.Sprintf("n%d_C%d_HW%d_F%d", n, C, HW, F), func(t *testing.T) {
			r := newRand(550 + uint64(i))
			d := newDevice(t)
			x := randF32(r, n*C*HW, -1, 1)
			fcW, fcB := randF32(r, F*C, -1, 1), randF32(r, F, -1, 1)
			dlogits := randF32(r, n*F, -1, 1)
			for name, v := range map[string][]float32{"x": x, "fcW": fcW, "fcB": fcB, "dlogits": dlogits} {
				d.f32(name, v)
			}
			for name, size := range map[string]int{"pooled": n * C, "logits": n * F, "dfcW": F * C, "dfcB": F, "dz": n * C * HW} {
				d.poison(name, size)
			}
			d.scalar("n", uint64(n))
			fwd, err := HeadForwardRaw("head_fwd_raw", C, HW, F)
			if err != nil {
				t.Fatal(err)
			}
			fc, err := HeadBackwardFC("head_bwd_fc", C, F)
			if err != nil {
				t.Fatal(err)
			}
			dz, err := HeadBackwardDz("head_bwd_dz", C, HW, F)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range []Entry{fwd, fc, dz} {
				d.launch(e, n)
			}
			pooled, logits := ref.Head(n, C, HW, F, f64(x), f64(fcW), f64(fcB))
			wantDz, dfcW, dfcB := ref.HeadBackward(n, C, HW, F, pooled, f64(fcW), f64(dlogits))
			check(t, "pooled", d.read("pooled"), round32(pooled), 1e-5)
			check(t, "logits", d.read("logits"), round32(logits), 1e-5)
			check(t, "dfcW", d.read("dfcW"), round32(dfcW), 1e-5)
			check(t, "dfcB", d.read("dfcB"), round32(dfcB), 1e-5)
			check(t, "dz", d.read("dz"), round32(wantDz), 1e-5)
		})
	}
}
