package nn

// SGDArgs are the hyperparameters of an SGD step, as torch.optim.SGD takes them.
type SGDArgs struct {
	LR, Momentum, Dampening, WeightDecay float64
	Nesterov                             bool
}

// sgdCall holds the arguments of the SGDStep in progress.
type sgdCall struct {
	p, g, buf []float32
	h         SGDArgs
	first     bool
}

// sgdGrain is the fewest elements one thread updates.
const sgdGrain = 1 << 15

// SGDStep updates params with grads (same length; grads is not modified) as
// torch.optim.SGD does, for every element with g the gradient and p the parameter:
//
//	d = g + WeightDecay*p
//	b = d                                  (first: the buffer starts as a copy)
//	b = Momentum*b + (1-Dampening)*d       (later steps)
//	d = d + Momentum*b  if Nesterov, else d = b
//	p = p - LR*d
//
// in float32, in PyTorch's order (the PTX SGD kernel does the same operations, bit for bit).
// buf, the momentum buffers, has the length of params, and is nil when Momentum is 0
// (then there is no buffer and first is ignored). The elements are split over the pool's
// threads in chunks; the result does not depend on the split.
func SGDStep(ctx *Ctx, params, grads, buf []float32, h SGDArgs, first bool) {
	if h.Momentum == 0 {
		buf = nil
	}
	ctx.sgd = sgdCall{p: params, g: grads, buf: buf, h: h, first: first}
	if n := len(params); n < 2*sgdGrain || ctx.threads < 2 {
		ctx.sgdRange(0, n)
	} else {
		ctx.pool.For(n, ctx.sgdBody)
	}
	ctx.sgd = sgdCall{}
}

// sgdRange updates elements [lo, hi) of the SGDStep in progress.
func (ctx *Ctx) sgdRange(lo, hi int) {
	a := &ctx.sgd
	var buf []float32
	if a.buf != nil {
		buf = a.buf[lo:hi]
	}
	sgdUpdate(a.p[lo:hi], a.g[lo:hi], buf, &a.h, a.first)
}

// sgdUpdate applies one step to a range of elements; buf is nil without momentum.
func sgdUpdate(p, g, buf []float32, h *SGDArgs, first bool) {
	wd := float32(h.WeightDecay)
	mom := float32(h.Momentum)
	damp := float32(1 - h.Dampening)
	step := float32(-h.LR)
	g = g[:len(p)]
	for i := range p {
		d := g[i]
		if wd != 0 {
			d += wd * p[i]
		}
		if buf != nil {
			b := d
			if !first {
				b = mom*buf[i] + damp*d
			}
			buf[i] = b
			if h.Nesterov {
				d += mom * b
			} else {
				d = b
			}
		}
		p[i] += step * d
	}
}
