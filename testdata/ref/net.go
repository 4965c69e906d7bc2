package ref

import (
	"fmt"
	"math"

	"github.com/wrnc/wrnc/compiler/ir"
	"github.com/wrnc/wrnc/runtime/contract"
)

// Net runs a program's unfused ops (ir.Program.Ops) forward and backward with the ops of
// this package: the reference whole networks are compared with.
type Net struct {
	P      *ir.Program
	Params map[string][]float64
	N      int  // images
	Train  bool // batch statistics (and Keep's dropout) instead of running statistics
	// Keep is the dropout multiplier of element i of the dropout op at position layer of
	// P.Ops; nil: none.
	Keep func(layer, i int) float64

	vals   [][]float64             // forward values, by value ID
	argmax map[int][]int           // max pools: the input index each output took, by output value ID
	bn     map[string][2][]float64 // batch (train) or running mean, and 1/sqrt(var+eps), per BN op
	// Stats holds, after a training forward pass, the running statistics it updated.
	Stats map[string][]float64
}

const bnEps = 1e-5

func (r *Net) shape(id int) []int { return r.P.Values[id].Shape }

func (r *Net) conv(op *ir.Op) contract.Conv {
	is, os := r.shape(op.In[0]), r.shape(op.Out)
	return contract.Conv{C: is[0], H: is[1], W: is[2], K: os[0], R: op.Kernel, S: op.Stride, P: op.Pad, OH: os[1], OW: os[2]}
}

func (r *Net) pool(op *ir.Op) contract.Pool {
	is, os := r.shape(op.In[0]), r.shape(op.Out)
	return contract.Pool{C: is[0], H: is[1], W: is[2], R: op.Kernel, S: op.Stride, P: op.Pad, OH: os[1], OW: os[2]}
}

// Forward runs the network on x [N, C, H, W] and returns the logits.
func (r *Net) Forward(x []float64) ([]float64, error) {
	r.vals = make([][]float64, len(r.P.Values))
	r.bn = map[string][2][]float64{}
	r.Stats = map[string][]float64{}
	r.vals[0] = x
	for li, op := range r.P.Ops[1:] {
		in := r.vals[op.In[0]]
		var out []float64
		switch op.Kind {
		case ir.OpConv:
			out = Conv(r.N, r.conv(op), in, r.Params[op.Params[0]])
		case ir.OpBN:
			out = r.batchNorm(op, in)
		case ir.OpReLU:
			out = make([]float64, len(in))
			for i, v := range in {
				out[i] = math.Max(v, 0)
			}
		case ir.OpDropout:
			out = make([]float64, len(in))
			for i, v := range in {
				out[i] = v
				if r.Train && r.Keep != nil {
					out[i] = v * r.Keep(li+1, i)
				}
			}
		case ir.OpAdd:
			b := r.vals[op.In[1]]
			out = make([]float64, len(in))
			for i := range in {
				out[i] = in[i] + b[i]
			}
		case ir.OpMaxPool:
			out = MaxPool(r.N, r.pool(op), in)
		case ir.OpAvgPool:
			s := r.shape(op.In[0])
			out, _ = Head(r.N, s[0], s[1]*s[2], 0, in, nil, nil)
		case ir.OpFC:
			c := r.shape(op.In[0])[0]
			_, out = Head(r.N, c, 1, r.P.Classes, in, r.Params[op.Params[0]], r.Params[op.Params[1]])
		default:
			return nil, fmt.Errorf("ref: no rule for %s", op.Kind)
		}
		r.vals[op.Out] = out
	}
	return r.vals[r.P.Ops[len(r.P.Ops)-1].Out], nil
}

// batchNorm is one BN op: batch statistics (and the running statistics they update) in
// training, running statistics in inference.
func (r *Net) batchNorm(op *ir.Op, in []float64) []float64 {
	s := r.shape(op.In[0])
	C, hw := s[0], s[1]*s[2]
	gamma, beta := r.Params[op.Params[0]], r.Params[op.Params[1]]
	rm, rv := r.Params[op.Params[2]], r.Params[op.Params[3]]
	mean, vr := rm, rv
	if r.Train {
		mean, vr = BNStats(r.N, C, hw, in)
		r.Stats[op.Params[2]], r.Stats[op.Params[3]] = Running(r.N*hw, rm, rv, mean, vr)
	}
	inv := make([]float64, C)
	for c := range inv {
		inv[c] = 1 / math.Sqrt(vr[c]+bnEps)
	}
	scale, shift := BNAffine(gamma, beta, mean, vr)
	out := make([]float64, len(in))
	for i, v := range in {
		c := i / hw % C
		out[i] = v*scale[c] + shift[c]
	}
	r.bn[op.Name] = [2][]float64{mean, inv}
	return out
}

// Backward takes d loss / d logits after Forward and returns the gradient of every
// trainable parameter, by name.
func (r *Net) Backward(dlogits []float64) map[string][]float64 {
	grads := map[string][]float64{}
	dv := make([][]float64, len(r.P.Values))
	last := r.P.Ops[len(r.P.Ops)-1]
	dv[last.Out] = dlogits
	accum := func(id int, g []float64) {
		if dv[id] == nil {
			dv[id] = make([]float64, len(g))
		}
		for i, v := range g {
			dv[id][i] += v
		}
	}
	for li := len(r.P.Ops) - 1; li >= 1; li-- {
		op := r.P.Ops[li]
		dy := dv[op.Out]
		if dy == nil {
			continue
		}
		in := r.vals[op.In[0]]
		dx := make([]float64, len(in))
		switch op.Kind {
		case ir.OpConv:
			grads[op.Params[0]], dx = ConvBackward(r.N, r.conv(op), in, r.Params[op.Params[0]], dy)
		case ir.OpBN:
			s := r.shape(op.In[0])
			st := r.bn[op.Name]
			var dg, db []float64
			dx, dg, db = BNBackward(r.N, s[0], s[1]*s[2], in, r.Params[op.Params[0]], st[0], st[1], dy, r.Train)
			grads[op.Params[0]], grads[op.Params[1]] = dg, db
		case ir.OpReLU:
			for i := range dx {
				if r.vals[op.Out][i] > 0 {
					dx[i] = dy[i]
				}
			}
		case ir.OpDropout:
			for i := range dx {
				dx[i] = dy[i]
				if r.Train && r.Keep != nil {
					dx[i] = dy[i] * r.Keep(li, i)
				}
			}
		case ir.OpAdd:
			copy(dx, dy)
			accum(op.In[1], dy)
		case ir.OpMaxPool:
			dx = MaxPoolBackward(r.N, r.pool(op), in, dy)
		case ir.OpAvgPool:
			s := r.shape(op.In[0])
			hw := s[1] * s[2]
			for i := range dx {
				dx[i] = dy[i/hw] / float64(hw)
			}
		case ir.OpFC:
			c := r.shape(op.In[0])[0]
			var dw, db []float64
			dx, dw, db = HeadBackward(r.N, c, 1, r.P.Classes, in, r.Params[op.Params[0]], dy)
			grads[op.Params[0]], grads[op.Params[1]] = dw, db
		}
		accum(op.In[0], dx)
	}
	return grads
}
