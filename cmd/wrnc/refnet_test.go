package main

import (
	"math"

	"github.com/wrnc/wrnc/compiler/ir"
)

// refnet is a plain float64 interpreter of a program's unfused ops, forward and backward,
// written from the definitions (direct loops, no im2col, no fusion): the reference that
// generated binaries are compared with.
type refnet struct {
	p      *ir.Program
	params map[string][]float64
	n      int
	train  bool
	keep   func(layer, i int) float64 // dropout multiplier of element i of the dropout op at layer; nil: none
	vals   [][]float64                // forward values, by value ID
	bn     map[string][2][]float64    // batch (train) or running mean, and 1/sqrt(var+eps), per BN op
	stats  map[string][]float64       // train: running statistics after the forward pass
}

const bnEps = 1e-5

func (r *refnet) shape(id int) []int { return r.p.Values[id].Shape }

// forward runs the network on x [n, C, H, W] and returns the logits; in training mode it
// also returns the updated running statistics in params.
func (r *refnet) forward(x []float64) []float64 {
	r.vals = make([][]float64, len(r.p.Values))
	r.bn = map[string][2][]float64{}
	r.stats = map[string][]float64{}
	r.vals[0] = x
	for li, op := range r.p.Ops[1:] {
		in := r.vals[op.In[0]]
		var out []float64
		switch op.Kind {
		case ir.OpConv:
			out = r.conv(op, in)
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
				if r.train && r.keep != nil {
					out[i] = v * r.keep(li+1, i)
				}
			}
		case ir.OpAdd:
			b := r.vals[op.In[1]]
			out = make([]float64, len(in))
			for i := range in {
				out[i] = in[i] + b[i]
			}
		case ir.OpAvgPool:
			s := r.shape(op.In[0])
			hw := s[1] * s[2]
			out = make([]float64, r.n*s[0])
			for i := range out {
				for j := 0; j < hw; j++ {
					out[i] += in[i*hw+j]
				}
				out[i] /= float64(hw)
			}
		case ir.OpFC:
			w, b := r.params[op.Params[0]], r.params[op.Params[1]]
			f, c := r.p.Classes, r.shape(op.In[0])[0]
			out = make([]float64, r.n*f)
			for i := 0; i < r.n; i++ {
				for o := 0; o < f; o++ {
					s := b[o]
					for k := 0; k < c; k++ {
						s += in[i*c+k] * w[o*c+k]
					}
					out[i*f+o] = s
				}
			}
		default:
			panic("refnet: no rule for " + string(op.Kind))
		}
		r.vals[op.Out] = out
	}
	return r.vals[r.p.Ops[len(r.p.Ops)-1].Out]
}

func (r *refnet) conv(op *ir.Op, in []float64) []float64 {
	is, os := r.shape(op.In[0]), r.shape(op.Out)
	w := r.params[op.Params[0]]
	C, H, W, K, OH, OW, R := is[0], is[1], is[2], os[0], os[1], os[2], op.Kernel
	out := make([]float64, r.n*K*OH*OW)
	for b := 0; b < r.n; b++ {
		for k := 0; k < K; k++ {
			for oy := 0; oy < OH; oy++ {
				for ox := 0; ox < OW; ox++ {
					s := 0.0
					for c := 0; c < C; c++ {
						for ky := 0; ky < R; ky++ {
							y := oy*op.Stride - op.Pad + ky
							if y < 0 || y >= H {
								continue
							}
							for kx := 0; kx < R; kx++ {
								xx := ox*op.Stride - op.Pad + kx
								if xx < 0 || xx >= W {
									continue
								}
								s += in[((b*C+c)*H+y)*W+xx] * w[((k*C+c)*R+ky)*R+kx]
							}
						}
					}
					out[((b*K+k)*OH+oy)*OW+ox] = s
				}
			}
		}
	}
	return out
}

func (r *refnet) batchNorm(op *ir.Op, in []float64) []float64 {
	s := r.shape(op.In[0])
	C, hw := s[0], s[1]*s[2]
	gamma, beta := r.params[op.Params[0]], r.params[op.Params[1]]
	rm, rv := r.params[op.Params[2]], r.params[op.Params[3]]
	out := make([]float64, len(in))
	mean, inv := make([]float64, C), make([]float64, C)
	m := float64(r.n * hw)
	for c := 0; c < C; c++ {
		if r.train {
			var sum, sq float64
			for b := 0; b < r.n; b++ {
				for j := 0; j < hw; j++ {
					sum += in[(b*C+c)*hw+j]
				}
			}
			mean[c] = sum / m
			for b := 0; b < r.n; b++ {
				for j := 0; j < hw; j++ {
					d := in[(b*C+c)*hw+j] - mean[c]
					sq += d * d
				}
			}
			inv[c] = 1 / math.Sqrt(sq/m+bnEps)
			nm, nv := r.stat(op.Params[2], rm), r.stat(op.Params[3], rv)
			nm[c] = 0.9*rm[c] + 0.1*mean[c]
			if m > 1 {
				nv[c] = 0.9*rv[c] + 0.1*sq/(m-1)
			}
		} else {
			mean[c], inv[c] = rm[c], 1/math.Sqrt(rv[c]+bnEps)
		}
		for b := 0; b < r.n; b++ {
			for j := 0; j < hw; j++ {
				i := (b*C+c)*hw + j
				out[i] = (in[i]-mean[c])*inv[c]*gamma[c] + beta[c]
			}
		}
	}
	r.bn[op.Name] = [2][]float64{mean, inv}
	return out
}

// stat is the running statistic name after this forward pass, starting as a copy of old.
func (r *refnet) stat(name string, old []float64) []float64 {
	if r.stats[name] == nil {
		r.stats[name] = append([]float64(nil), old...)
	}
	return r.stats[name]
}

// backward takes d loss / d logits after forward and returns the gradient of every
// trainable parameter, by name.
func (r *refnet) backward(dlogits []float64) map[string][]float64 {
	grads := map[string][]float64{}
	dv := make([][]float64, len(r.p.Values))
	last := r.p.Ops[len(r.p.Ops)-1]
	dv[last.Out] = dlogits
	accum := func(id int, g []float64) {
		if dv[id] == nil {
			dv[id] = make([]float64, len(g))
		}
		for i, v := range g {
			dv[id][i] += v
		}
	}
	for li := len(r.p.Ops) - 1; li >= 1; li-- {
		op := r.p.Ops[li]
		dy := dv[op.Out]
		if dy == nil {
			continue
		}
		in := r.vals[op.In[0]]
		dx := make([]float64, len(in))
		switch op.Kind {
		case ir.OpConv:
			dw := make([]float64, len(r.params[op.Params[0]]))
			r.convBackward(op, in, dy, dx, dw)
			grads[op.Params[0]] = dw
		case ir.OpBN:
			dg, db := r.bnBackward(op, in, dy, dx)
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
				if r.train && r.keep != nil {
					dx[i] = dy[i] * r.keep(li, i)
				}
			}
		case ir.OpAdd:
			copy(dx, dy)
			accum(op.In[1], dy)
		case ir.OpAvgPool:
			s := r.shape(op.In[0])
			hw := s[1] * s[2]
			for i := range dx {
				dx[i] = dy[i/hw] / float64(hw)
			}
		case ir.OpFC:
			w := r.params[op.Params[0]]
			f, c := r.p.Classes, r.shape(op.In[0])[0]
			dw, db := make([]float64, len(w)), make([]float64, f)
			for i := 0; i < r.n; i++ {
				for o := 0; o < f; o++ {
					g := dy[i*f+o]
					db[o] += g
					for k := 0; k < c; k++ {
						dw[o*c+k] += g * in[i*c+k]
						dx[i*c+k] += g * w[o*c+k]
					}
				}
			}
			grads[op.Params[0]], grads[op.Params[1]] = dw, db
		}
		accum(op.In[0], dx)
	}
	return grads
}

func (r *refnet) convBackward(op *ir.Op, in, dy, dx, dw []float64) {
	is, os := r.shape(op.In[0]), r.shape(op.Out)
	w := r.params[op.Params[0]]
	C, H, W, K, OH, OW, R := is[0], is[1], is[2], os[0], os[1], os[2], op.Kernel
	for b := 0; b < r.n; b++ {
		for k := 0; k < K; k++ {
			for oy := 0; oy < OH; oy++ {
				for ox := 0; ox < OW; ox++ {
					g := dy[((b*K+k)*OH+oy)*OW+ox]
					for c := 0; c < C; c++ {
						for ky := 0; ky < R; ky++ {
							y := oy*op.Stride - op.Pad + ky
							if y < 0 || y >= H {
								continue
							}
							for kx := 0; kx < R; kx++ {
								xx := ox*op.Stride - op.Pad + kx
								if xx < 0 || xx >= W {
									continue
								}
								xi, wi := ((b*C+c)*H+y)*W+xx, ((k*C+c)*R+ky)*R+kx
								dw[wi] += g * in[xi]
								dx[xi] += g * w[wi]
							}
						}
					}
				}
			}
		}
	}
}

// bnBackward is the gradient of training-mode batch norm (batch statistics depend on x).
func (r *refnet) bnBackward(op *ir.Op, in, dy, dx []float64) (dgamma, dbeta []float64) {
	s := r.shape(op.In[0])
	C, hw := s[0], s[1]*s[2]
	gamma := r.params[op.Params[0]]
	st := r.bn[op.Name]
	mean, inv := st[0], st[1]
	dgamma, dbeta = make([]float64, C), make([]float64, C)
	m := float64(r.n * hw)
	for c := 0; c < C; c++ {
		for b := 0; b < r.n; b++ {
			for j := 0; j < hw; j++ {
				i := (b*C+c)*hw + j
				dbeta[c] += dy[i]
				dgamma[c] += dy[i] * (in[i] - mean[c]) * inv[c]
			}
		}
		for b := 0; b < r.n; b++ {
			for j := 0; j < hw; j++ {
				i := (b*C+c)*hw + j
				if !r.train {
					dx[i] = dy[i] * gamma[c] * inv[c]
					continue
				}
				xhat := (in[i] - mean[c]) * inv[c]
				dx[i] = gamma[c] * inv[c] / m * (m*dy[i] - dbeta[c] - xhat*dgamma[c])
			}
		}
	}
	return dgamma, dbeta
}

// softmaxCE is the batch-mean cross-entropy of logits [n, f] and its gradient.
func softmaxCE(logits []float64, labels []int, f int) (loss float64, dlogits []float64) {
	n := len(labels)
	dlogits = make([]float64, len(logits))
	for i := 0; i < n; i++ {
		row := logits[i*f : (i+1)*f]
		mx := row[0]
		for _, v := range row {
			mx = math.Max(mx, v)
		}
		var z float64
		for _, v := range row {
			z += math.Exp(v - mx)
		}
		loss += (math.Log(z) + mx - row[labels[i]]) / float64(n)
		for j, v := range row {
			dlogits[i*f+j] = math.Exp(v-mx) / z / float64(n)
		}
		dlogits[i*f+labels[i]] -= 1 / float64(n)
	}
	return loss, dlogits
}
