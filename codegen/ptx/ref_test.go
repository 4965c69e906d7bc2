package ptx

import "github.com/wrnc/wrnc/runtime/nn"

// Float64 references of the convolutions, from the loaded input z = pre(x) (rounded in float32
// as nn rounds it), for measuring how far the fp32 kernels are from the exact result.

// loaded returns z = pre(x) of an [n,C,H,W] tensor.
func loaded(x []float32, n int, c nn.Conv, pre *nn.Pre) []float32 {
	if pre == nil {
		return x
	}
	z := make([]float32, len(x))
	hw := c.H * c.W
	inv := float32(1)
	if pre.Drop > 0 {
		inv = float32(1 / (1 - float64(pre.Drop)))
	}
	for i, v := range x {
		ch := i / hw % c.C
		r := max(0, float32(v*pre.Scale[ch])+pre.Shift[ch])
		if pre.Drop > 0 {
			if !nn.Keep(pre.Seed, i, pre.Drop) {
				r = 0
			} else {
				r *= inv
			}
		}
		z[i] = r
	}
	return z
}

// taps calls f for every (image, k, c, r, s, oy, ox) with its input and output indices.
func taps(n int, c nn.Conv, f func(in, out, wi int)) {
	for i := 0; i < n; i++ {
		for k := 0; k < c.K; k++ {
			for ch := 0; ch < c.C; ch++ {
				for r := 0; r < c.R; r++ {
					for s := 0; s < c.R; s++ {
						for oy := 0; oy < c.OH; oy++ {
							iy := oy*c.S - c.P + r
							if iy < 0 || iy >= c.H {
								continue
							}
							for ox := 0; ox < c.OW; ox++ {
								ix := ox*c.S - c.P + s
								if ix < 0 || ix >= c.W {
									continue
								}
								f(((i*c.C+ch)*c.H+iy)*c.W+ix, ((i*c.K+k)*c.OH+oy)*c.OW+ox, ((k*c.C+ch)*c.R+r)*c.R+s)
							}
						}
					}
				}
			}
		}
	}
}

func round32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// refConv returns the forward output (plus res), dz (plus dz0) and dw in float64, rounded.
func refConv(n int, c nn.Conv, x, w []float32, pre *nn.Pre, res, dy, dz0 []float32) (y, dz, dw []float32) {
	z := loaded(x, n, c, pre)
	yf := make([]float64, n*c.K*c.OH*c.OW)
	dzf := make([]float64, len(x))
	dwf := make([]float64, len(w))
	for i := range yf {
		if res != nil {
			yf[i] = float64(res[i])
		}
	}
	for i := range dzf {
		if dz0 != nil {
			dzf[i] = float64(dz0[i])
		}
	}
	taps(n, c, func(in, out, wi int) {
		yf[out] += float64(z[in]) * float64(w[wi])
		if dy != nil {
			dzf[in] += float64(w[wi]) * float64(dy[out])
			dwf[wi] += float64(dy[out]) * float64(z[in])
		}
	})
	return round32(yf), round32(dzf), round32(dwf)
}
