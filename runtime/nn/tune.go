package nn

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/wrnc/wrnc/runtime/contract"
)

// Measuring the forward methods of one convolution for `wrnc tune`: the selection pass's
// rules are data measured on a few machines; where two methods are close, tune times
// each on the machine at hand and compile --tune takes the faster.

// MaxFlush is the most floats TimeForward writes between runs: 64 MiB, past the L3 of
// the machines at hand.
const MaxFlush = 16 << 20

// TimeForward returns the median over reps runs of the forward pass of c on n images by
// sel on ctx's threads, with random weights, inputs and a BN-ReLU on the load when pre
// (as every convolution but the first reads its input), the derived weights made once,
// and flush floats (at most MaxFlush) written before each run: inside a network each
// layer finds its weights where the other layers' traffic left them, which is memory
// for a network of 68 M weights and the L3 for one of 3 M, so callers flush about what
// the network's other layers read.
func TimeForward(ctx *Ctx, c *Conv, n int, sel contract.Selection, pre bool, reps, flush int) (time.Duration, error) {
	if err := CheckConv(c, n); err != nil {
		return 0, err
	}
	if !c.ForwardFits(sel) {
		return 0, fmt.Errorf("%s does not compute conv %+v", sel.Method, *c)
	}
	if err := ctx.Check(c); err != nil {
		return 0, err
	}
	if reps < 1 {
		return 0, fmt.Errorf("reps %d: want at least 1", reps)
	}
	r := rand.New(rand.NewPCG(uint64(c.C*c.K), uint64(n)))
	fill := func(s []float32, scale float32) []float32 {
		for i := range s {
			s[i] = (r.Float32()*2 - 1) * scale
		}
		return s
	}
	x := fill(make([]float32, n*c.C*c.H*c.W), 1)
	w := fill(make([]float32, c.K*c.C*c.R*c.R), 0.1)
	y := make([]float32, n*c.K*c.OH*c.OW)
	var p *Pre
	if pre {
		p = &Pre{Scale: fill(make([]float32, c.C), 1), Shift: fill(make([]float32, c.C), 0.5)}
	}
	var d []float32
	switch sel.Method {
	case contract.Im2row:
		d = make([]float32, contract.RowWeightsLen(c, false))
		RowWeights(ctx, c, w, d)
	case contract.Winograd:
		d = make([]float32, contract.WinogradWeightsLen(c, sel.Tile, false))
		WinogradWeights(ctx, c, sel.Tile, false, w, d)
	}
	run := func() {
		switch sel.Method {
		case contract.Im2col:
			Im2colForward(ctx, n, c, x, w, p, nil, y)
		case contract.Pointwise:
			PointwiseForward(ctx, n, c, x, w, p, nil, y)
		case contract.Im2row:
			Im2rowForward(ctx, n, c, x, d, p, nil, y)
		case contract.Winograd:
			WinogradForward(ctx, n, c, sel.Tile, x, d, p, nil, y)
		}
	}
	buf := make([]float32, min(max(flush, 0), MaxFlush))
	run() // first-touch page faults and workspace growth
	times := make([]time.Duration, reps)
	for i := range times {
		for j := 0; j < len(buf); j += 16 {
			buf[j]++
		}
		t0 := time.Now()
		run()
		times[i] = time.Since(t0)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	slices.Sort(times)
	return times[reps/2], nil
}
