package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

type convShape struct{ c, h, w, kh, kw, s, pad int }

func (cs convShape) out() (int, int) {
	return (cs.h+2*cs.pad-cs.kh)/cs.s + 1, (cs.w+2*cs.pad-cs.kw)/cs.s + 1
}

func (cs convShape) String() string {
	return fmt.Sprintf("C%d_%dx%d_k%dx%d_s%d_p%d", cs.c, cs.h, cs.w, cs.kh, cs.kw, cs.s, cs.pad)
}

var convShapes = []convShape{
	{1, 1, 1, 1, 1, 1, 0},
	{3, 5, 7, 1, 1, 1, 0},
	{2, 7, 5, 1, 1, 2, 0},
	{3, 6, 9, 3, 3, 1, 1},
	{2, 9, 6, 3, 3, 2, 1},
	{2, 8, 8, 3, 3, 2, 0},
	{1, 5, 11, 5, 5, 1, 2},
	{2, 11, 5, 5, 3, 2, 3},
	{1, 9, 10, 7, 7, 2, 3},
	{2, 4, 6, 7, 5, 1, 3}, // kernel larger than the image
	{1, 3, 3, 3, 3, 3, 2},
	{2, 4, 1, 3, 3, 1, 1},   // one column: both edges wrap
	{1, 1, 5, 5, 5, 1, 2},   // one row
	{1, 65, 70, 3, 3, 1, 1}, // plane too large for the BN buffer: BN on load
	{1, 70, 65, 3, 3, 2, 1},
}

// TestIm2col compares every column entry with the direct formula, computed in
// float64, with and without the fused BN-ReLU.
func TestIm2col(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	for _, cs := range convShapes {
		for _, bn := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v/bn=%v", cs, bn), func(t *testing.T) {
				oh, ow := cs.out()
				x := randSlice(r, cs.c*cs.h*cs.w)
				var scale, shift []float32
				if bn {
					scale, shift = randSlice(r, cs.c), randSlice(r, cs.c)
				}
				k := cs.c * cs.kh * cs.kw
				col := randSlice(r, k*oh*ow) // garbage that Im2col must overwrite
				Im2col(x, cs.c, cs.h, cs.w, cs.kh, cs.kw, cs.s, cs.pad, oh, ow, scale, shift, col)
				for c := 0; c < cs.c; c++ {
					for i := 0; i < cs.kh; i++ {
						for j := 0; j < cs.kw; j++ {
							for oy := 0; oy < oh; oy++ {
								for ox := 0; ox < ow; ox++ {
									iy, ix := oy*cs.s-cs.pad+i, ox*cs.s-cs.pad+j
									want := 0.0
									if iy >= 0 && iy < cs.h && ix >= 0 && ix < cs.w {
										want = float64(x[(c*cs.h+iy)*cs.w+ix])
										if bn {
											want = math.Max(0, want*float64(scale[c])+float64(shift[c]))
										}
									}
									got := float64(col[((c*cs.kh+i)*cs.kw+j)*oh*ow+oy*ow+ox])
									if math.Abs(got-want) > 1e-6*math.Max(1, math.Abs(want)) {
										t.Fatalf("col[c=%d i=%d j=%d oy=%d ox=%d] = %v, want %v", c, i, j, oy, ox, got, want)
									}
								}
							}
						}
					}
				}
			})
		}
	}
}

// TestCol2im compares Col2im with the direct scatter formula in float64 and
// checks the adjoint identity <Im2col(x), y> = <x, Col2im(y)>.
func TestCol2im(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 11))
	for _, cs := range convShapes {
		t.Run(cs.String(), func(t *testing.T) {
			oh, ow := cs.out()
			n, k := oh*ow, cs.c*cs.kh*cs.kw
			y := randSlice(r, k*n)
			dx0 := randSlice(r, cs.c*cs.h*cs.w)
			dx := append([]float32(nil), dx0...)
			Col2im(y, cs.c, cs.h, cs.w, cs.kh, cs.kw, cs.s, cs.pad, oh, ow, dx)
			want := make([]float64, len(dx0))
			for q, v := range dx0 {
				want[q] = float64(v)
			}
			for c := 0; c < cs.c; c++ {
				for i := 0; i < cs.kh; i++ {
					for j := 0; j < cs.kw; j++ {
						for oy := 0; oy < oh; oy++ {
							for ox := 0; ox < ow; ox++ {
								iy, ix := oy*cs.s-cs.pad+i, ox*cs.s-cs.pad+j
								if iy >= 0 && iy < cs.h && ix >= 0 && ix < cs.w {
									want[(c*cs.h+iy)*cs.w+ix] += float64(y[((c*cs.kh+i)*cs.kw+j)*n+oy*ow+ox])
								}
							}
						}
					}
				}
			}
			for q := range want {
				if math.Abs(float64(dx[q])-want[q]) > 1e-5*math.Max(1, math.Abs(want[q])) {
					t.Fatalf("dx[%d] = %v, want %v", q, dx[q], want[q])
				}
			}

			x := randSlice(r, cs.c*cs.h*cs.w)
			col := make([]float32, k*n)
			Im2col(x, cs.c, cs.h, cs.w, cs.kh, cs.kw, cs.s, cs.pad, oh, ow, nil, nil, col)
			back := make([]float32, len(x))
			Col2im(y, cs.c, cs.h, cs.w, cs.kh, cs.kw, cs.s, cs.pad, oh, ow, back)
			lhs, rhs, mag := 0.0, 0.0, 0.0
			for q := range col {
				lhs += float64(col[q]) * float64(y[q])
				mag += math.Abs(float64(col[q]) * float64(y[q]))
			}
			for q := range x {
				rhs += float64(x[q]) * float64(back[q])
			}
			if math.Abs(lhs-rhs) > 1e-5*mag {
				t.Errorf("<Im2col(x), y> = %v, <x, Col2im(y)> = %v", lhs, rhs)
			}
		})
	}
}

func TestCheckIm2col(t *testing.T) {
	img, col, cvec := make([]float32, 2*5*5), make([]float32, 2*9*25), make([]float32, 2)
	tests := []struct {
		name                            string
		c, h, w, kh, kw, s, pad, oh, ow int
		img, scale, shift, col          []float32
		want                            string
	}{
		{"ok", 2, 5, 5, 3, 3, 1, 1, 5, 5, img, nil, nil, col, ""},
		{"ok bn", 2, 5, 5, 3, 3, 1, 1, 5, 5, img, cvec, cvec, col, ""},
		{"zero stride", 2, 5, 5, 3, 3, 0, 1, 5, 5, img, nil, nil, col, "stride >= 1"},
		{"wrong output", 2, 5, 5, 3, 3, 1, 1, 4, 5, img, nil, nil, col, "output 4x5, want 5x5"},
		{"kernel too big", 2, 5, 5, 9, 3, 1, 1, 0, 5, img, nil, nil, col, "output 0x5"},
		{"short image", 2, 5, 5, 3, 3, 1, 1, 5, 5, img[:49], nil, nil, col, "image has 49 values, want >= 50"},
		{"short col", 2, 5, 5, 3, 3, 1, 1, 5, 5, img, nil, nil, col[:449], "column matrix has 449 values, want >= 450"},
		{"scale only", 2, 5, 5, 3, 3, 1, 1, 5, 5, img, cvec, nil, col, "both be set"},
		{"short scale", 2, 5, 5, 3, 3, 1, 1, 5, 5, img, cvec[:1], cvec[:1], col, "scale/shift have 1/1 values"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckIm2col(tt.c, tt.h, tt.w, tt.kh, tt.kw, tt.s, tt.pad, tt.oh, tt.ow, tt.img, tt.scale, tt.shift, tt.col)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("CheckIm2col: %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("CheckIm2col: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
