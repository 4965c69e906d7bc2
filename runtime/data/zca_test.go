package data

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func TestGramLower(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 14))
	for _, tc := range []struct{ d, b, workers int }{{2, 1, 1}, {6, 5, 1}, {70, 9, 3}, {64, 33, 2}} {
		t.Run(fmt.Sprintf("d=%d b=%d w=%d", tc.d, tc.b, tc.workers), func(t *testing.T) {
			xt := make([]float64, tc.d*tc.b)
			for i := range xt {
				xt[i] = rng.Float64() - 0.5
			}
			c := make([]float64, tc.d*tc.d)
			gramLower(xt, tc.d, tc.b, c, tc.workers)
			for i := range tc.d {
				for j := 0; j <= i; j++ {
					want := 0.0
					for k := range tc.b {
						want += xt[i*tc.b+k] * xt[j*tc.b+k]
					}
					if math.Abs(c[i*tc.d+j]-want) > 1e-12 {
						t.Fatalf("c[%d][%d] = %g, want %g", i, j, c[i*tc.d+j], want)
					}
				}
			}
		})
	}
}

// correlatedSet returns n images of 1 x 4 x 4 whose pixels share a common
// component (a gradient times a random amplitude) plus noise.
func correlatedSet(rng *rand.Rand, n int) *Set {
	s := &Set{N: n, C: 1, H: 4, W: 4, Pixels: make([]uint8, n*16), Labels: make([]int32, n)}
	for i := range n {
		a, b := rng.NormFloat64(), rng.NormFloat64()
		for p := range 16 {
			v := 128 + 30*a*float64(p%4-2) + 20*b*float64(p/4-2) + 25*rng.NormFloat64()
			s.Pixels[i*16+p] = uint8(math.Max(0, math.Min(255, math.Round(v))))
		}
	}
	return s
}

// covariance64 returns the per-pixel mean of all images and the covariance
// of the images idx around it, of x/255, in float64.
func covariance64(s *Set, idx []int) (mean, cov []float64) {
	d := s.ImageSize()
	mean = make([]float64, d)
	for i := range s.N {
		for p, v := range s.Image(i) {
			mean[p] += float64(v) / 255 / float64(s.N)
		}
	}
	cov = make([]float64, d*d)
	for _, i := range idx {
		img := s.Image(i)
		for p := range d {
			for q := range d {
				cov[p*d+q] += (float64(img[p])/255 - mean[p]) * (float64(img[q])/255 - mean[q]) / float64(len(idx))
			}
		}
	}
	return mean, cov
}

func TestZCAWhitensToIdentity(t *testing.T) {
	s := correlatedSet(rand.New(rand.NewPCG(15, 15)), 500)
	n, err := fitZCA(s, 1e-9, 10000, 2)
	if err != nil {
		t.Fatal(err)
	}
	d := s.ImageSize()
	// Whiten every image with Apply and take the covariance of the result.
	ys := make([][]float32, s.N)
	for i := range s.N {
		ys[i] = make([]float32, d)
		n.Apply(s.Image(i), ys[i])
	}
	for p := range d {
		for q := range d {
			c := 0.0
			for _, y := range ys {
				c += float64(y[p]) * float64(y[q])
			}
			c /= float64(s.N)
			want := 0.0
			if p == q {
				want = 1
			}
			if math.Abs(c-want) > 1e-3 {
				t.Fatalf("whitened covariance [%d][%d] = %g, want %g", p, q, c, want)
			}
		}
	}
}

func TestZCAMatrix(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 16))
	s := correlatedSet(rng, 300)
	for _, maxImages := range []int{10000, 70} {
		t.Run(fmt.Sprintf("max %d", maxImages), func(t *testing.T) {
			n, err := fitZCA(s, ZCAEpsilon, maxImages, 1)
			if err != nil {
				t.Fatal(err)
			}
			m := min(maxImages, s.N)
			idx := make([]int, m)
			for k := range idx {
				idx[k] = k * s.N / m
			}
			mean, cov := covariance64(s, idx)
			d := s.ImageSize()
			for p := range d {
				if math.Abs(float64(n.Mean[p])-mean[p]) > 1e-7 {
					t.Fatalf("mean[%d] = %g, want %g", p, n.Mean[p], mean[p])
				}
			}
			// Z (C + eps I) Z = I for Z = (C + eps I)^(-1/2).
			for i := range d {
				cov[i*d+i] += ZCAEpsilon
			}
			z := func(i, j int) float64 { return float64(n.ZCA[i*d+j]) }
			for i := range d {
				for j := range d {
					s := 0.0
					for k := range d {
						for l := range d {
							s += z(i, k) * cov[k*d+l] * z(l, j)
						}
					}
					want := 0.0
					if i == j {
						want = 1
					}
					if math.Abs(s-want) > 1e-5 {
						t.Fatalf("Z (C+eps) Z [%d][%d] = %g, want %g", i, j, s, want)
					}
					if n.ZCA[i*d+j] != n.ZCA[j*d+i] {
						t.Fatalf("Z not symmetric at %d, %d", i, j)
					}
				}
			}
			// Apply against the float64 product Z (x/255 - mean).
			dst := make([]float32, d)
			for i := range 5 {
				img := s.Image(i)
				n.Apply(img, dst)
				for r := range d {
					want, scale := 0.0, 0.0
					for c := range d {
						term := z(r, c) * (float64(img[c])/255 - float64(n.Mean[c]))
						want += term
						scale += math.Abs(term)
					}
					if math.Abs(float64(dst[r])-want) > 1e-5*scale {
						t.Fatalf("image %d value %d: %g, want %g", i, r, dst[r], want)
					}
				}
			}
		})
	}
}

func TestZCATooLarge(t *testing.T) {
	s := &Set{N: 1, C: 3, H: 64, W: 64, Pixels: make([]uint8, 3*64*64), Labels: []int32{0}}
	_, err := FitNorm(NormZCA, s)
	checkErr(t, err, "3x64x64", "12288", "meanstd")
}

func BenchmarkGram(b *testing.B) {
	const d, k = 768, 128
	xt := make([]float64, d*k)
	rng := rand.New(rand.NewPCG(1, 3))
	for i := range xt {
		xt[i] = rng.Float64()
	}
	c := make([]float64, d*d)
	for b.Loop() {
		gramLower(xt, d, k, c, 1)
	}
	b.ReportMetric(float64(d)*float64(d)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkZCAApply(b *testing.B) {
	s := randomSet(rand.New(rand.NewPCG(1, 5)), 16, 3, 16, 16, 10)
	n, err := fitZCA(s, ZCAEpsilon, 16, 1)
	if err != nil {
		b.Fatal(err)
	}
	d := s.ImageSize()
	dst := make([]float32, d)
	for b.Loop() {
		n.Apply(s.Image(0), dst)
	}
	b.ReportMetric(2*float64(d)*float64(d)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
