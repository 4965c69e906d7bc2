package nn

import "math"

// The float64 reference of every op, forward and backward, written as direct loops (no
// im2col, no GEMM, no fusion). The kernels are compared with it; it is itself checked by
// central finite differences in reference_grad_test.go.

// refConv returns y[n,K,OH,OW] = conv(z, w) for z [n,C,H,W], w [K,C,R,R].
func refConv(n int, c Conv, z, w []float64) []float64 {
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

// refConvBackward returns dL/dw and dL/dz of L given dy = dL/dy for y = refConv(z, w).
func refConvBackward(n int, c Conv, z, w, dy []float64) (dw, dz []float64) {
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

// refDrop returns the dropout factor of element i: 0 when dropped, 1/(1-p) when kept, 1
// without dropout.
func refDrop(seed uint64, i int, p float32) float64 {
	if p == 0 {
		return 1
	}
	if !Keep(seed, i, p) {
		return 0
	}
	return 1 / (1 - float64(p))
}

// refPre returns z = drop(relu(x*scale[c]+shift[c])) for x [n,C,HW].
func refPre(n, C, HW int, x, scale, shift []float64, p float32, seed uint64) []float64 {
	z := make([]float64, len(x))
	for i := 0; i < n; i++ {
		for ch := 0; ch < C; ch++ {
			for j := 0; j < HW; j++ {
				e := (i*C+ch)*HW + j
				z[e] = math.Max(0, x[e]*scale[ch]+shift[ch]) * refDrop(seed, e, p)
			}
		}
	}
	return z
}

// refBNStats returns the batch mean and biased variance of x [n,C,HW] per channel.
func refBNStats(n, C, HW int, x []float64) (mean, vr []float64) {
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

// refBNAffine returns the scale and shift that training-mode BN applies:
// scale = gamma/sqrt(var+eps), shift = beta - mean*scale.
func refBNAffine(gamma, beta, mean, vr []float64) (scale, shift []float64) {
	scale, shift = make([]float64, len(gamma)), make([]float64, len(gamma))
	for ch := range gamma {
		scale[ch] = gamma[ch] / math.Sqrt(vr[ch]+1e-5)
		shift[ch] = beta[ch] - mean[ch]*scale[ch]
	}
	return scale, shift
}

// refBNReLUDrop returns z = drop(relu(bn(x))) with BN in training mode.
func refBNReLUDrop(n, C, HW int, x, gamma, beta []float64, p float32, seed uint64) []float64 {
	mean, vr := refBNStats(n, C, HW, x)
	scale, shift := refBNAffine(gamma, beta, mean, vr)
	return refPre(n, C, HW, x, scale, shift, p, seed)
}

// refBNReLUDropBackward returns the gradients of refBNReLUDrop given dz, through the batch
// statistics.
func refBNReLUDropBackward(n, C, HW int, x, gamma, beta []float64, p float32, seed uint64, dz []float64) (dx, dgamma, dbeta []float64) {
	mean, vr := refBNStats(n, C, HW, x)
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
					g[e] = dz[e] * refDrop(seed, e, p)
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

// refRunning returns PyTorch's running statistics after one training-mode BN of a batch of
// cnt values per channel with the given batch mean and biased variance (momentum 0.1, the
// unbiased variance; runVar unchanged when cnt == 1).
func refRunning(cnt int, runMean, runVar, mean, vr []float64) (rm, rv []float64) {
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

// refHead returns pooled[n,C] = mean over HW of z [n,C,HW] and logits = pooled*fcW^T + fcB.
func refHead(n, C, HW, F int, z, fcW, fcB []float64) (pooled, logits []float64) {
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

// refHeadBackward returns the gradients of refHead given dlogits.
func refHeadBackward(n, C, HW, F int, pooled, fcW, dlogits []float64) (dz, dfcW, dfcB []float64) {
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

// refSoftmaxCE returns the mean cross-entropy, its gradient and the count of correct
// argmaxes.
func refSoftmaxCE(n, F int, logits []float64, labels []int32) (loss float64, dlogits []float64, correct int) {
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
