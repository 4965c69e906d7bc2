package nn_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/wrnc/wrnc/runtime/cpu"
	"github.com/wrnc/wrnc/runtime/nn"
	"github.com/wrnc/wrnc/testdata/ref"
)

// TestSGDStep checks nn.SGDStep against torch.optim.SGD in float64 (testdata/ref) over
// several steps, with and without momentum, Nesterov, weight decay and dampening, on sizes
// below and above the per-thread grain; and that its result does not depend on the
// threads, bit for bit.
func TestSGDStep(t *testing.T) {
	for _, h := range []nn.SGDArgs{
		{LR: 0.1},
		{LR: 0.05, WeightDecay: 5e-4},
		{LR: 0.1, Momentum: 0.9},
		{LR: 0.1, Momentum: 0.9, Nesterov: true, WeightDecay: 5e-4},
		{LR: 0.02, Momentum: 0.8, Dampening: 0.3, WeightDecay: 1e-3},
		{LR: 0.3, Momentum: 0.5, Dampening: 0.1, Nesterov: true},
	} {
		for _, size := range []int{1000, 100003} {
			t.Run(fmt.Sprintf("%+v/n=%d", h, size), func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(size), 7))
				p := make([]float32, size)
				for i := range p {
					p[i] = float32(r.NormFloat64())
				}
				want := f64(p)
				var wantBuf []float64
				var ps, bufs [2][]float32
				ctxs := [2]*nn.Ctx{}
				for th := range 2 {
					pool := cpu.NewPool(th + 1)
					t.Cleanup(pool.Close)
					ctxs[th] = nn.NewCtx(pool, nil, 0)
					ps[th] = append([]float32(nil), p...)
					if h.Momentum != 0 {
						bufs[th] = make([]float32, size)
					}
				}
				g := make([]float32, size)
				for step := 0; step < 4; step++ {
					for i := range g {
						g[i] = float32(r.NormFloat64())
					}
					want, wantBuf = ref.SGD(want, f64(g), wantBuf, h.LR, h.Momentum, h.Dampening, h.WeightDecay, h.Nesterov)
					for th := range 2 {
						nn.SGDStep(ctxs[th], ps[th], g, bufs[th], h, step == 0)
					}
					for i := range p {
						if math.Float32bits(ps[0][i]) != math.Float32bits(ps[1][i]) {
							t.Fatalf("step %d: param %d = %v on 1 thread, %v on 2", step, i, ps[0][i], ps[1][i])
						}
						if d := math.Abs(float64(ps[0][i]) - want[i]); d > 1e-5*max(1, math.Abs(want[i])) {
							t.Fatalf("step %d: param %d = %v, torch.optim.SGD %v", step, i, ps[0][i], want[i])
						}
					}
					for i := range bufs[0] {
						if d := math.Abs(float64(bufs[0][i]) - wantBuf[i]); d > 1e-5*max(1, math.Abs(wantBuf[i])) {
							t.Fatalf("step %d: buffer %d = %v, torch.optim.SGD %v", step, i, bufs[0][i], wantBuf[i])
						}
					}
				}
			})
		}
	}
}

// TestSGDByHand checks two steps of one element against values worked out on paper.
func TestSGDByHand(t *testing.T) {
	tests := []struct {
		name string
		h    nn.SGDArgs
		want [2]float64 // p after step 1 and 2; p0 = 1, g = 0.5 both steps, lr 0.1
	}{
		// d = 0.5 + 0.1*1 = 0.6; p = 1 - 0.06 = 0.94; d = 0.5 + 0.094 = 0.594; p = 0.94 - 0.0594
		{"plain+wd", nn.SGDArgs{LR: 0.1, WeightDecay: 0.1}, [2]float64{0.94, 0.8806}},
		// b = 0.5; p = 0.95; b = 0.45 + 0.5 = 0.95; p = 0.95 - 0.095
		{"momentum", nn.SGDArgs{LR: 0.1, Momentum: 0.9}, [2]float64{0.95, 0.855}},
		// first step undampened: b = 0.5, p = 0.95; b = 0.45 + 0.5*0.5 = 0.7; p = 0.95 - 0.07
		{"dampening", nn.SGDArgs{LR: 0.1, Momentum: 0.9, Dampening: 0.5}, [2]float64{0.95, 0.88}},
		// d = 0.6, b = 0.6, d = 0.6 + 0.54 = 1.14, p = 0.886;
		// d = 0.5 + 0.0886 = 0.5886, b = 0.54 + 0.5886 = 1.1286, d = 0.5886 + 1.01574 = 1.60434, p = 0.725566
		{"nesterov+wd", nn.SGDArgs{LR: 0.1, Momentum: 0.9, Nesterov: true, WeightDecay: 0.1}, [2]float64{0.886, 0.725566}},
	}
	pool := cpu.NewPool(1)
	defer pool.Close()
	ctx := nn.NewCtx(pool, nil, 0)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, buf := []float32{1}, []float32{0}
			for i, want := range tc.want {
				nn.SGDStep(ctx, p, []float32{0.5}, buf, tc.h, i == 0)
				if math.Abs(float64(p[0])-want) > 1e-6 {
					t.Errorf("step %d: p = %.7f, want %.7f", i+1, p[0], want)
				}
			}
		})
	}
}

func f64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}
