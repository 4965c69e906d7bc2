package cpu

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestConvViaGemm runs a convolution as the package documents it (Im2col,
// then Gemm; a 1x1 stride-1 conv passes the image as B directly) and compares
// it with the direct float64 formula, with the same bound as the GEMM tests.
func TestConvViaGemm(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	g := NewGemm(p)
	r := rand.New(rand.NewPCG(16, 17))
	for _, cs := range []convShape{{5, 9, 7, 3, 3, 1, 1}, {4, 9, 8, 3, 3, 2, 1}, {6, 5, 7, 1, 1, 1, 0}, {3, 8, 6, 1, 1, 2, 0}} {
		t.Run(cs.String(), func(t *testing.T) {
			const cout = 7
			oh, ow := cs.out()
			k, n := cs.c*cs.kh*cs.kw, oh*ow
			x, w := randSlice(r, cs.c*cs.h*cs.w), randSlice(r, cout*k)
			scale, shift := randSlice(r, cs.c), randSlice(r, cs.c)
			y := make([]float32, cout*n)
			bnrelu := func(c int, v float32) float64 {
				return math.Max(0, float64(v)*float64(scale[c])+float64(shift[c]))
			}
			direct := cs.kh == 1 && cs.kw == 1 && cs.s == 1 && cs.pad == 0
			if direct {
				// The caller applies the BN-ReLU itself when it skips Im2col.
				xa := make([]float32, len(x))
				for q := range x {
					xa[q] = float32(bnrelu(q/(cs.h*cs.w), x[q]))
				}
				g.Do(false, false, cout, n, k, w, k, xa, n, y, n, false)
			} else {
				col := make([]float32, k*n)
				Im2col(x, cs.c, cs.h, cs.w, cs.kh, cs.kw, cs.s, cs.pad, oh, ow, scale, shift, col)
				g.Do(false, false, cout, n, k, w, k, col, n, y, n, false)
			}
			for o := 0; o < cout; o++ {
				for oy := 0; oy < oh; oy++ {
					for ox := 0; ox < ow; ox++ {
						want, mag := 0.0, 0.0
						for c := 0; c < cs.c; c++ {
							for i := 0; i < cs.kh; i++ {
								for j := 0; j < cs.kw; j++ {
									iy, ix := oy*cs.s-cs.pad+i, ox*cs.s-cs.pad+j
									if iy < 0 || iy >= cs.h || ix < 0 || ix >= cs.w {
										continue
									}
									v := bnrelu(c, x[(c*cs.h+iy)*cs.w+ix]) * float64(w[o*k+(c*cs.kh+i)*cs.kw+j])
									want += v
									mag += math.Abs(v)
								}
							}
						}
						got := float64(y[o*n+oy*ow+ox])
						if math.Abs(got-want) > gemmTol*mag {
							t.Fatalf("y[%d,%d,%d] = %v, want %v", o, oy, ox, got, want)
						}
					}
				}
			}
		})
	}
}
