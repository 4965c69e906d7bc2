// Package ref is the float64 reference of the whole repository: every op of a network,
// forward and backward, written as direct loops (no im2col, no GEMM, no fusion, no
// transforms), and a whole network walked from its IR (net.go). The CPU kernels
// (runtime/nn), the PTX kernels on the simulator (codegen/ptx) and the generated binaries
// (cmd/wrnc) are all compared with it; it is itself checked by central finite
// differences (runtime/nn/reference_grad_test.go, cmd/wrnc's TestReferenceGradients).
// Layout is NCHW; semantics are PyTorch's (biased batch variance, eps 1e-5, running
// statistics with momentum 0.1 and the unbiased variance).
package ref

import (
	"math"

	"github.com/wrnc/wrnc/runtime/contract"
)

// Keep is dropout's mask from its definition (runtime/nn/dropout.go): element i of rate p
// under seed survives when the top 53 bits of splitmix64's output i from state seed are
// not below p*2^53.
func Keep(seed uint64, i int, p float32) bool {
	const golden = 0x9e3779b97f4a7c15
	z := seed + uint64(i+1)*golden
	z ^= z >> 30
	z *= 0xbf58476d1ce4e5b9
	z ^= z >> 27
	z *= 0x94d049bb133111eb
	z ^= z >> 31
	var thr uint64
	switch {
	case p <= 0:
		thr = 0
	case p >= 1:
		thr = 1 << 53
	default:
		thr = uint64(float64(p) * (1 << 53))
	}
	return z>>11 >= thr
}

// Conv returns y[n,K,OH,OW] = conv(z, w) for z [n,C,H,W], w [K,C,R,R].
func Conv(n int, c contract.Conv, z, w []float64) []float64 {
	y := make([]float64, n*c.K*c.OH*c.OW)
	for i := 0; i < n; i++ {
		for k := 0; k < c.K; k++ {
			for oy := 0; oy < c.OH; oy++ {
				for ox := 0; ox < c.OW; ox++ {
					var s float64
					for ch := 0; ch < c.C; ch++ {
						for u := 0; u < c.R; u++ {
							for v := 0; v < c.R; v++ {
								iy, ix := oy*c.S-c.P+u, ox*c.S-c.P+v
								if iy < 0 || iy >= c.H || ix < 0 || ix >= c.W {
									continue
								}
								s += z[((i*c.C+ch)*c.H+iy)*c.W+ix] * w[((k*c.C+ch)*c.R+u)*c.R+v]
							}
						}
					}
					y[((i*c.K+k)*c.OH+oy)*c.OW+ox] = s
				}
			}
		}
	}
	return y
}

// ConvBackward returns dL/dw and dL/dz of L given dy = dL/dy for y = Conv(z, w).
func ConvBackward(n int, c contract.Conv, z, w, dy []float64) (dw, dz []float64) {
	dw = make([]float64, c.K*c.C*c.R*c.R)
	dz = make([]float64, n*c.C*c.H*c.W)
	for i := 0; i < n; i++ {
		for k := 0; k < c.K; k++ {
			for oy := 0; oy < c.OH; oy++ {
				for ox := 0; ox < c.OW; ox++ {
					g := dy[((i*c.K+k)*c.OH+oy)*c.OW+ox]
					for ch := 0; ch < c.C; ch++ {
						for u := 0; u < c.R; u++ {
							for v := 0; v < c.R; v++ {
								iy, ix := oy*c.S-c.P+u, ox*c.S-c.P+v
								if iy < 0 || iy >= c.H || ix < 0 || ix >= c.W {
									continue
								}
								zi := ((i*c.C+ch)*c.H+iy)*c.W + ix
								wi := ((k*c.C+ch)*c.R+u)*c.R + v
								dw[wi] += g * z[zi]
								dz[zi] += g * w[wi]
							}
						}
					}
				}
			}
		}
	}
	return dw, dz
}

// Drop returns the dropout factor of element i: 0 when dropped, 1/(1-p) when kept, 1
// without dropout.
func Drop(seed uint64, i int, p float32) float64 {
	if p == 0 {
		return 1
	}
	if !Keep(seed, i, p) {
		return 0
	}
	return 1 / (1 - float64(p))
}

// Pre returns z = drop(relu(x*scale[c]+shift[c])) for x [n,C,HW].
func Pre(n, C, HW int, x, scale, shift []float64, p float32, seed uint64) []float64 {
	z := make([]float64, len(x))
	for i := 0; i < n; i++ {
		for ch := 0; ch < C; ch++ {
			for j := 0; j < HW; j++ {
				e := (i*C+ch)*HW + j
				z[e] = math.Max(0, x[e]*scale[ch]+shift[ch]) * Drop(seed, e, p)
			}
		}
	}
	return z
}

// BNStats returns the batch mean and biased variance of x [n,C,HW] per channel.
func BNStats(n, C, HW int, x []float64) (mean, vr []float64) {
	mean, vr = make([]float64, C), make([]float64, C)
	cnt := float64(n * HW)
	for ch := 0; ch < C; ch++ {
		for i := 0; i < n; i++ {
			for j := 0; j < HW; j++ {
				mean[ch] += x[(i*C+ch)*HW+j]
			}
		}
		mean[ch] /= cnt
		for i := 0; i < n; i++ {
			for j := 0; j < HW; j++ {
				d := x[(i*C+ch)*HW+j] - mean[ch]
				vr[ch] += d * d
			}
		}
		vr[ch] /= cnt
	}
	return mean, vr
}

// BNAffine returns the scale and shift that training-mode BN applies:
// scale = gamma/sqrt(var+eps), shift = beta - mean*scale.
func BNAffine(gamma, beta, mean, vr []float64) (scale, shift []float64) {
	scale, shift = make([]float64, len(gamma)), make([]float64, len(gamma))
	for ch := range gamma {
		scale[ch] = gamma[ch] / math.Sqrt(vr[ch]+1e-5)
		shift[ch] = beta[ch] - mean[ch]*scale[ch]
	}
	return scale, shift
}

// BNReLUDrop returns z = drop(relu(bn(x))) with BN in training mode.
func BNReLUDrop(n, C, HW int, x, gamma, beta []float64, p float32, seed uint64) []float64 {
	mean, vr := BNStats(n, C, HW, x)
	scale, shift := BNAffine(gamma, beta, mean, vr)
	return Pre(n, C, HW, x, scale, shift, p, seed)
}

// BNReLUDropBackward returns the gradients of BNReLUDrop given dz, through the batch
// statistics.
func BNReLUDropBackward(n, C, HW int, x, gamma, beta []float64, p float32, seed uint64, dz []float64) (dx, dgamma, dbeta []float64) {
	mean, vr := BNStats(n, C, HW, x)
	dx, dgamma, dbeta = make([]float64, len(x)), make([]float64, C), make([]float64, C)
	cnt := float64(n * HW)
	g := make([]float64, len(x))
	for ch := 0; ch < C; ch++ {
		is := 1 / math.Sqrt(vr[ch]+1e-5)
		for i := 0; i < n; i++ {
			for j := 0; j < HW; j++ {
				e := (i*C+ch)*HW + j
				xh := (x[e] - mean[ch]) * is
				if gamma[ch]*xh+beta[ch] > 0 {
					g[e] = dz[e] * Drop(seed, e, p)
				}
				dbeta[ch] += g[e]
				dgamma[ch] += g[e] * xh
			}
		}
		for i := 0; i < n; i++ {
			for j := 0; j < HW; j++ {
				e := (i*C+ch)*HW + j
				xh := (x[e] - mean[ch]) * is
				dx[e] = gamma[ch] * is / cnt * (cnt*g[e] - dbeta[ch] - xh*dgamma[ch])
			}
		}
	}
	return dx, dgamma, dbeta
}

// BNBackward returns the gradients of y = (x-mean)*inv*gamma + beta given dy, for x
// [n,C,HW]: in training mean and inv = 1/sqrt(var+eps) are the batch's (and depend on x),
// in inference the running statistics' (constants).
func BNBackward(n, C, HW int, x, gamma, mean, inv, dy []float64, train bool) (dx, dgamma, dbeta []float64) {
	dx, dgamma, dbeta = make([]float64, len(x)), make([]float64, C), make([]float64, C)
	m := float64(n * HW)
	for c := 0; c < C; c++ {
		for b := 0; b < n; b++ {
			for j := 0; j < HW; j++ {
				i := (b*C+c)*HW + j
				dbeta[c] += dy[i]
				dgamma[c] += dy[i] * (x[i] - mean[c]) * inv[c]
			}
		}
		for b := 0; b < n; b++ {
			for j := 0; j < HW; j++ {
				i := (b*C+c)*HW + j
				if !train {
					dx[i] = dy[i] * gamma[c] * inv[c]
					continue
				}
				xhat := (x[i] - mean[c]) * inv[c]
				dx[i] = gamma[c] * inv[c] / m * (m*dy[i] - dbeta[c] - xhat*dgamma[c])
			}
		}
	}
	return dx, dgamma, dbeta
}

// Running returns PyTorch's running statistics after one training-mode BN of a batch of
// cnt values per channel with the given batch mean and biased variance (momentum 0.1, the
// unbiased variance; runVar unchanged when cnt == 1).
func Running(cnt int, runMean, runVar, mean, vr []float64) (rm, rv []float64) {
	rm, rv = make([]float64, len(mean)), make([]float64, len(mean))
	for ch := range mean {
		rm[ch] = 0.9*runMean[ch] + 0.1*mean[ch]
		rv[ch] = runVar[ch]
		if cnt > 1 {
			rv[ch] = 0.9*runVar[ch] + 0.1*vr[ch]*float64(cnt)/float64(cnt-1)
		}
	}
	return rm, rv
}

// Head returns pooled[n,C] = mean over HW of z [n,C,HW] and logits = pooled*fcW^T + fcB.
func Head(n, C, HW, F int, z, fcW, fcB []float64) (pooled, logits []float64) {
	pooled, logits = make([]float64, n*C), make([]float64, n*F)
	for i := 0; i < n; i++ {
		for ch := 0; ch < C; ch++ {
			for j := 0; j < HW; j++ {
				pooled[i*C+ch] += z[(i*C+ch)*HW+j]
			}
			pooled[i*C+ch] /= float64(HW)
		}
		for f := 0; f < F; f++ {
			logits[i*F+f] = fcB[f]
			for ch := 0; ch < C; ch++ {
				logits[i*F+f] += pooled[i*C+ch] * fcW[f*C+ch]
			}
		}
	}
	return pooled, logits
}

// HeadBackward returns the gradients of Head given dlogits.
func HeadBackward(n, C, HW, F int, pooled, fcW, dlogits []float64) (dz, dfcW, dfcB []float64) {
	dz, dfcW, dfcB = make([]float64, n*C*HW), make([]float64, F*C), make([]float64, F)
	for i := 0; i < n; i++ {
		for f := 0; f < F; f++ {
			d := dlogits[i*F+f]
			dfcB[f] += d
			for ch := 0; ch < C; ch++ {
				dfcW[f*C+ch] += d * pooled[i*C+ch]
				for j := 0; j < HW; j++ {
					dz[(i*C+ch)*HW+j] += d * fcW[f*C+ch] / float64(HW)
				}
			}
		}
	}
	return dz, dfcW, dfcB
}

// SoftmaxCE returns the mean cross-entropy, its gradient and the count of correct
// argmaxes.
func SoftmaxCE(n, F int, logits []float64, labels []int32) (loss float64, dlogits []float64, correct int) {
	dlogits = make([]float64, n*F)
	for i := 0; i < n; i++ {
		row := logits[i*F : (i+1)*F]
		m := math.Inf(-1)
		best := 0
		for f, v := range row {
			if v > m {
				m, best = v, f
			}
		}
		if best == int(labels[i]) {
			correct++
		}
		var s float64
		for _, v := range row {
			s += math.Exp(v - m)
		}
		loss += (m + math.Log(s) - row[labels[i]]) / float64(n)
		for f, v := range row {
			p := math.Exp(v-m) / s
			if f == int(labels[i]) {
				p--
			}
			dlogits[i*F+f] = p / float64(n)
		}
	}
	return loss, dlogits, correct
}

// SGD returns the weights after one torch.optim.SGD step from w with gradient g and
// learning rate lr, and the new momentum buffer: weight decay added to the gradient, the
// buffer a copy of that on the first step (buf nil), else momentum*buf + (1-dampening)*d;
// Nesterov adds momentum*buf to d, plain momentum uses the buffer itself.
func SGD(w, g, buf []float64, lr, momentum, dampening, wd float64, nesterov bool) (next, nbuf []float64) {
	next, nbuf = make([]float64, len(w)), make([]float64, len(w))
	for i := range w {
		d := g[i] + wd*w[i]
		if momentum != 0 {
			b := d
			if buf != nil {
				b = momentum*buf[i] + (1-dampening)*d
			}
			nbuf[i] = b
			if nesterov {
				d += momentum * b
			} else {
				d = b
			}
		}
		next[i] = w[i] - lr*d
	}
	return next, nbuf
}
