package ref

import (
	"math"

	"github.com/wrnc/wrnc/runtime/contract"
)

// The ops of post-activation networks (torchvision's ResNet and WRN, the imagenet family):
// the stem's max pool and the add-ReLU that ends a residual block.

// MaxPool returns y[n,C,OH,OW], the maximum of z [n,C,H,W] over each R x R window of p
// (stride S, padding P; padded positions never win).
func MaxPool(n int, p contract.Pool, z []float64) []float64 {
	y := make([]float64, n*p.C*p.OH*p.OW)
	for q := 0; q < n*p.C; q++ {
		for oy := 0; oy < p.OH; oy++ {
			for ox := 0; ox < p.OW; ox++ {
				_, y[(q*p.OH+oy)*p.OW+ox] = poolArgmax(p, z[q*p.H*p.W:(q+1)*p.H*p.W], oy, ox)
			}
		}
	}
	return y
}

// MaxPoolBackward returns dz, the gradient of MaxPool w.r.t. z given dy: each dy goes to
// the first position of its window, in row-major order, whose value is greater than every
// earlier one's (PyTorch's CPU rule), added up where windows overlap.
func MaxPoolBackward(n int, p contract.Pool, z, dy []float64) []float64 {
	dz := make([]float64, len(z))
	for q := 0; q < n*p.C; q++ {
		for oy := 0; oy < p.OH; oy++ {
			for ox := 0; ox < p.OW; ox++ {
				i, _ := poolArgmax(p, z[q*p.H*p.W:(q+1)*p.H*p.W], oy, ox)
				dz[q*p.H*p.W+i] += dy[(q*p.OH+oy)*p.OW+ox]
			}
		}
	}
	return dz
}

// poolArgmax returns the index in the plane z of the maximum of output (oy, ox) and its
// value.
func poolArgmax(p contract.Pool, z []float64, oy, ox int) (int, float64) {
	best, bv := -1, math.Inf(-1)
	for u := 0; u < p.R; u++ {
		for v := 0; v < p.R; v++ {
			iy, ix := oy*p.S-p.P+u, ox*p.S-p.P+v
			if iy < 0 || iy >= p.H || ix < 0 || ix >= p.W {
				continue
			}
			if i := iy*p.W + ix; best < 0 || z[i] > bv {
				best, bv = i, z[i]
			}
		}
	}
	return best, bv
}

// AddReLU returns z = max(0, y*scale[c]+shift[c] + r) for y, res [n,C,HW], with
// r = res*rscale[c]+rshift[c] when rscale is not nil, else r = res.
func AddReLU(n, C, HW int, y, scale, shift, res, rscale, rshift []float64) []float64 {
	z := make([]float64, len(y))
	for i := 0; i < n; i++ {
		for ch := 0; ch < C; ch++ {
			for j := 0; j < HW; j++ {
				e := (i*C+ch)*HW + j
				r := res[e]
				if rscale != nil {
					r = res[e]*rscale[ch] + rshift[ch]
				}
				z[e] = math.Max(0, y[e]*scale[ch]+shift[ch]+r)
			}
		}
	}
	return z
}

// AddReLUBackward returns the gradient w.r.t. the sum inside AddReLU's ReLU given dz and
// AddReLU's output z: dz where z > 0, else 0.
func AddReLUBackward(z, dz []float64) []float64 {
	g := make([]float64, len(z))
	for i := range z {
		if z[i] > 0 {
			g[i] = dz[i]
		}
	}
	return g
}
