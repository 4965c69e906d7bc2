package data

import (
	"fmt"
	"math"
	"sync"
)

// ZCA fitting choices (see FitNorm).
const (
	// ZCAEpsilon regularizes the eigenvalues of the covariance of pixels
	// scaled to [0, 1]: directions with variance well under 0.1 are damped
	// instead of blown up (pylearn2's ZCA adds a bias of the same kind).
	ZCAEpsilon = 0.1
	// ZCAMaxImages bounds the images the covariance is estimated from.
	ZCAMaxImages = 10000
	// ZCAMaxDim bounds C*H*W: the whitening matrix holds D*D floats.
	ZCAMaxDim = 4096
)

// fitZCA estimates the per-pixel mean from every training image, the
// covariance from at most maxImages of them spread evenly over the split,
// and returns the whitening matrix U diag(1/sqrt(lambda+eps)) U^T.
func fitZCA(s *Set, eps float64, maxImages, workers int) (*Norm, error) {
	d := s.ImageSize()
	if d > ZCAMaxDim {
		return nil, fmt.Errorf("data: zca whitening of %dx%dx%d images needs a %d x %d matrix; at most %d values per image are supported (use meanstd)",
			s.C, s.H, s.W, d, d, ZCAMaxDim)
	}
	// Per-pixel sums over every image, in raw byte units.
	total := make([]uint64, d)
	for i := range s.N {
		for p, v := range s.Image(i) {
			total[p] += uint64(v)
		}
	}
	mean := make([]float64, d) // raw units
	for p, v := range total {
		mean[p] = float64(v) / float64(s.N)
	}
	// S = sum x x^T and sx = sum x over the subset, exact in float64
	// (integer values below 2^53).
	m := min(s.N, max(maxImages, 1))
	idx := make([]int, m)
	for k := range idx {
		idx[k] = int(int64(k) * int64(s.N) / int64(m))
	}
	dp := d + d%2
	cov := make([]float64, dp*dp)
	sx := make([]float64, d)
	const chunk = 128
	xt := make([]float64, dp*chunk)
	for k0 := 0; k0 < m; k0 += chunk {
		b := min(chunk, m-k0)
		clear(xt)
		for k := range b {
			for p, v := range s.Image(idx[k0+k]) {
				xt[p*chunk+k] = float64(v)
				sx[p] += float64(v)
			}
		}
		gramLower(xt, dp, chunk, cov, workers)
	}
	// Covariance of x/255 centred on the full-split mean:
	// (S/m - (sx/m) mean^T - mean (sx/m)^T + mean mean^T) / 255^2.
	c := make([]float64, d*d)
	fm := float64(m)
	for i := range d {
		for j := 0; j <= i; j++ {
			v := (cov[i*dp+j]/fm - sx[i]/fm*mean[j] - mean[i]*sx[j]/fm + mean[i]*mean[j]) / (255 * 255)
			c[i*d+j], c[j*d+i] = v, v
		}
	}
	vals, vecs, err := symEigen(c, d, workers)
	if err != nil {
		return nil, fmt.Errorf("data: zca: %v", err)
	}
	// Z = sum_k g_k v_k v_k^T = sum_k r_k r_k^T with r_k = sqrt(g_k) v_k,
	// g_k = 1/sqrt(lambda_k + eps): the same Gram product as above, over
	// the d scaled eigenvectors as "samples".
	rt := make([]float64, dp*dp) // rt[p*dp+k] = r_k[p]
	for k := range d {
		sg := math.Sqrt(1 / math.Sqrt(math.Max(vals[k], 0)+eps))
		for p, v := range vecs[k*d : (k+1)*d] {
			rt[p*dp+k] = sg * v
		}
	}
	z64 := make([]float64, dp*dp)
	gramLower(rt, dp, dp, z64, workers)
	n := &Norm{Kind: NormZCA, Mean: make([]float32, d), ZCA: make([]float32, d*d), Eps: eps}
	for p := range d {
		n.Mean[p] = float32(mean[p] / 255)
	}
	for i := range d {
		for j := 0; j <= i; j++ {
			v := float32(z64[i*dp+j])
			n.ZCA[i*d+j], n.ZCA[j*d+i] = v, v
		}
	}
	return n, nil
}

// gramBlock is the number of rows of xt a gramLower block keeps in cache.
const gramBlock = 32

// gramLower adds x x^T to c (d x d, lower triangle and the entry right of
// each even diagonal position only), where xt is x transposed: d rows
// (d even) of b values. Work is split over workers by column blocks.
func gramLower(xt []float64, d, b int, c []float64, workers int) {
	blocks := (d + gramBlock - 1) / gramBlock
	run := func(q int) {
		jb := q * gramBlock
		je := min(jb+gramBlock, d)
		for i := jb; i < d; i += 2 {
			a0, a1 := xt[i*b:(i+1)*b], xt[(i+1)*b:(i+2)*b]
			for j := jb; j < min(je, i+2); j += 2 {
				s00, s01, s10, s11 := dot2x2(a0, a1, xt[j*b:(j+1)*b], xt[(j+1)*b:(j+2)*b])
				c[i*d+j] += s00
				c[i*d+j+1] += s01
				c[(i+1)*d+j] += s10
				c[(i+1)*d+j+1] += s11
			}
		}
	}
	w := min(workers, blocks)
	if w <= 1 {
		for q := range blocks {
			run(q)
		}
		return
	}
	var wg sync.WaitGroup
	for id := range w {
		wg.Go(func() {
			for q := id; q < blocks; q += w {
				run(q)
			}
		})
	}
	wg.Wait()
}

// dot2x2 returns the four dot products of a0, a1 with b0, b1 (one length).
func dot2x2(a0, a1, b0, b1 []float64) (s00, s01, s10, s11 float64) {
	a1, b0, b1 = a1[:len(a0)], b0[:len(a0)], b1[:len(a0)]
	for k, x0 := range a0 {
		x1, y0, y1 := a1[k], b0[k], b1[k]
		s00 += x0 * y0
		s01 += x0 * y1
		s10 += x1 * y0
		s11 += x1 * y1
	}
	return
}

// zcaMatVec sets dst = z x for the symmetric d x d matrix z (d = len(x)).
func zcaMatVec(z, x, dst []float32) {
	d := len(x)
	for i := range d {
		dst[i] = dot32(z[i*d:(i+1)*d], x)
	}
}

// dot32 returns x . y in float32 with four partial sums (len(y) >= len(x)).
func dot32(x, y []float32) float32 {
	y = y[:len(x)]
	var g0, g1, g2, g3 float32
	k := 0
	for ; k+4 <= len(x); k += 4 {
		a, b := x[k:k+4:k+4], y[k:k+4:k+4]
		g0 += a[0] * b[0]
		g1 += a[1] * b[1]
		g2 += a[2] * b[2]
		g3 += a[3] * b[3]
	}
	for ; k < len(x); k++ {
		g0 += x[k] * y[k]
	}
	return (g0 + g1) + (g2 + g3)
}
