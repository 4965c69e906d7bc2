// Package optim holds what trains a generated network besides its own kernels:
// stochastic gradient descent as torch.optim.SGD computes it, the step learning
// rate schedule of the .wrn recipe, and the initialisation of the parameters.
package optim

import (
	"fmt"

	"github.com/wrnc/wrnc/runtime/cpu"
	"github.com/wrnc/wrnc/runtime/model"
)

// SGD is torch.optim.SGD over the flat State.Params and State.Grads slices. For every
// element, with g the gradient and p the parameter:
//
//	g = g + WeightDecay*p                          (every trainable tensor: conv, FC, BN, biases)
//	b = g                                          (first step: the buffer starts as a copy)
//	b = Momentum*b + (1-Dampening)*g               (later steps)
//	g = g + Momentum*b  if Nesterov, else g = b
//	p = p - lr*g
//
// With Momentum 0 there is no buffer and the step is p -= lr*(g + WeightDecay*p). The
// arithmetic is float32, in the order PyTorch's single-tensor implementation uses.
type SGD struct {
	Momentum, Dampening, WeightDecay float64
	Nesterov                         bool

	// Buf holds the momentum buffers, flat, in the layout of State.Params. It is nil until
	// the first step (PyTorch's "no momentum_buffer yet"), and stays nil when Momentum is 0.
	// A checkpoint saves it and a resumed run puts it back before stepping.
	Buf []float32
}

// NewSGD returns an SGD with the hyperparameters of the recipe and no momentum buffers.
func NewSGD(r model.Recipe) *SGD {
	return &SGD{Momentum: r.Momentum, Dampening: r.Dampening, WeightDecay: r.WeightDecay, Nesterov: r.Nesterov}
}

// stepGrain is the smallest number of elements one thread updates.
const stepGrain = 1 << 15

// Step updates params with grads (same length; grads is not modified) at learning
// rate lr. With a non-nil pool the elements are split over its threads; the result
// does not depend on the split. It returns an error when the lengths differ, or when
// Buf is set with another length (a checkpoint of another network), leaving params as
// they were.
func (o *SGD) Step(params, grads []float32, lr float64, pool *cpu.Pool) error {
	if len(params) != len(grads) {
		return fmt.Errorf("optim: %d parameters but %d gradients", len(params), len(grads))
	}
	first := false
	if o.Momentum != 0 {
		if o.Buf == nil {
			o.Buf = make([]float32, len(params))
			first = true
		} else if len(o.Buf) != len(params) {
			return fmt.Errorf("optim: momentum buffer of %d elements for %d parameters", len(o.Buf), len(params))
		}
	}
	body := func(lo, hi int) { o.update(params[lo:hi], grads[lo:hi], o.bufRange(lo, hi), lr, first) }
	if pool == nil || len(params) < 2*stepGrain {
		body(0, len(params))
		return nil
	}
	chunks := min(pool.Threads(), len(params)/stepGrain)
	pool.For(chunks, func(c0, c1 int) {
		for c := c0; c < c1; c++ {
			body(c*len(params)/chunks, (c+1)*len(params)/chunks)
		}
	})
	return nil
}

// bufRange returns Buf[lo:hi], or nil without momentum.
func (o *SGD) bufRange(lo, hi int) []float32 {
	if o.Buf == nil {
		return nil
	}
	return o.Buf[lo:hi]
}

// update applies one step to a range of elements; buf is nil without momentum.
func (o *SGD) update(p, g, buf []float32, lr float64, first bool) {
	wd := float32(o.WeightDecay)
	mom := float32(o.Momentum)
	damp := float32(1 - o.Dampening)
	step := float32(-lr)
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
			if o.Nesterov {
				d += mom * b
			} else {
				d = b
			}
		}
		p[i] += step * d
	}
}
