package nn_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/wrnc/wrnc/runtime/cpu"
	"github.com/wrnc/wrnc/runtime/nn"
	"github.com/wrnc/wrnc/runtime/optim"
)

// TestSGDStepMatchesOptim checks that nn.SGDStep computes exactly what optim.SGD does
// (torch.optim.SGD in float32), bit for bit, over several steps, on 1 and 2 threads, with
// and without momentum, Nesterov, weight decay and dampening, on sizes below and above
// the per-thread grain.
func TestSGDStepMatchesOptim(t *testing.T) {
	for _, h := range []nn.SGDArgs{
		{LR: 0.1},
		{LR: 0.05, WeightDecay: 5e-4},
		{LR: 0.1, Momentum: 0.9},
		{LR: 0.1, Momentum: 0.9, Nesterov: true, WeightDecay: 5e-4},
		{LR: 0.02, Momentum: 0.8, Dampening: 0.3, WeightDecay: 1e-3},
		{LR: 0.3, Momentum: 0.5, Dampening: 0.1, Nesterov: true},
	} {
		for _, size := range []int{1000, 100003} {
			for _, threads := range []int{1, 2} {
				t.Run(fmt.Sprintf("%+v/n=%d/t=%d", h, size, threads), func(t *testing.T) {
					pool := cpu.NewPool(threads)
					t.Cleanup(pool.Close)
					ctx := nn.NewCtx(pool, nil, 0)
					r := rand.New(rand.NewPCG(uint64(size), uint64(threads)))
					p := make([]float32, size)
					for i := range p {
						p[i] = float32(r.NormFloat64())
					}
					q := append([]float32(nil), p...)
					o := &optim.SGD{Momentum: h.Momentum, Dampening: h.Dampening, WeightDecay: h.WeightDecay, Nesterov: h.Nesterov}
					var buf []float32
					if h.Momentum != 0 {
						buf = make([]float32, size)
					}
					g := make([]float32, size)
					for step := 0; step < 4; step++ {
						for i := range g {
							g[i] = float32(r.NormFloat64())
						}
						if err := o.Step(q, g, h.LR, pool); err != nil {
							t.Fatal(err)
						}
						nn.SGDStep(ctx, p, g, buf, h, step == 0)
						for i := range p {
							if math.Float32bits(p[i]) != math.Float32bits(q[i]) {
								t.Fatalf("step %d: param %d = %v, optim.SGD %v", step, i, p[i], q[i])
							}
						}
						for i := range buf {
							if math.Float32bits(buf[i]) != math.Float32bits(o.Buf[i]) {
								t.Fatalf("step %d: buffer %d = %v, optim.SGD %v", step, i, buf[i], o.Buf[i])
							}
						}
					}
				})
			}
		}
	}
}
