package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// winoBT and winoAT are B^T and A^T of F(m x m, 3 x 3) (see wino.go), for the float64
// reference.
var (
	winoBT = map[int][][]float64{
		2: {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}},
		4: {{4, 0, -5, 0, 1, 0}, {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0}, {0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}},
	}
	winoAT = map[int][][]float64{
		2: {{1, 1, 1, 0}, {0, 1, -1, -1}},
		4: {{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}},
	}
)

// sandwich returns P X P^T and the same with |P| and |X| (the magnitude that bounds its
// rounding error), X square.
func sandwich(p [][]float64, x [][]float64) (out, mag [][]float64) {
	rows, n := len(p), len(x)
	out, mag = make([][]float64, rows), make([][]float64, rows)
	for i := range out {
		out[i], mag[i] = make([]float64, rows), make([]float64, rows)
		for j := 0; j < rows; j++ {
			for a := 0; a < n; a++ {
				for b := 0; b < n; b++ {
					out[i][j] += p[i][a] * x[a][b] * p[j][b]
					mag[i][j] += math.Abs(p[i][a] * x[a][b] * p[j][b])
				}
			}
		}
	}
	return out, mag
}

// winoTol bounds the transforms' error relative to the sum of the magnitudes of the
// terms (a few roundings of sums of at most 36 terms).
const winoTol = 1e-6

func TestWinoInput(t *testing.T) {
	for _, k := range kernelFamilies(t) {
		for _, m := range []int{2, 4} {
			for _, tiles := range []int{1, 3, 8} {
				t.Run(fmt.Sprintf("%s/F%d/tiles=%d", k.Name(), m, tiles), func(t *testing.T) {
					a := m + 2
					r := rand.New(rand.NewPCG(uint64(m), uint64(tiles)))
					w := tiles*m + 2
					srcRow := w*lanes + 8
					src := randSlice(r, a*srcRow)
					dstT, dstTile := tiles*lanes+lanes, lanes
					dst := make([]float32, a*a*dstT)
					k.WinoInput(m, src, srcRow, dst, dstT, dstTile, tiles)
					for i := 0; i < tiles; i++ {
						for l := 0; l < lanes; l++ {
							d := make([][]float64, a)
							for y := range d {
								d[y] = make([]float64, a)
								for x := range d[y] {
									d[y][x] = float64(src[y*srcRow+(i*m+x)*lanes+l])
								}
							}
							want, mag := sandwich(winoBT[m], d)
							for ti := 0; ti < a*a; ti++ {
								got := float64(dst[i*dstTile+ti*dstT+l])
								if e := math.Abs(got - want[ti/a][ti%a]); e > winoTol*mag[ti/a][ti%a] {
									t.Fatalf("tile %d lane %d t %d: %v, want %v", i, l, ti, got, want[ti/a][ti%a])
								}
							}
						}
					}
				})
			}
		}
	}
}

func TestWinoOutput(t *testing.T) {
	for _, k := range kernelFamilies(t) {
		for _, m := range []int{2, 4} {
			for _, tiles := range []int{1, 3, 8} {
				t.Run(fmt.Sprintf("%s/F%d/tiles=%d", k.Name(), m, tiles), func(t *testing.T) {
					a := m + 2
					r := rand.New(rand.NewPCG(uint64(m+10), uint64(tiles)))
					srcT, srcTile := tiles*lanes*2, 2*lanes
					src := randSlice(r, a*a*srcT)
					dstRow := tiles*m*lanes + 16
					dst := make([]float32, m*dstRow)
					k.WinoOutput(m, src, srcT, srcTile, dst, dstRow, tiles)
					for i := 0; i < tiles; i++ {
						for l := 0; l < lanes; l++ {
							mm := make([][]float64, a)
							for y := range mm {
								mm[y] = make([]float64, a)
								for x := range mm[y] {
									mm[y][x] = float64(src[i*srcTile+(y*a+x)*srcT+l])
								}
							}
							want, mag := sandwich(winoAT[m], mm)
							for y := 0; y < m; y++ {
								for x := 0; x < m; x++ {
									got := float64(dst[y*dstRow+(i*m+x)*lanes+l])
									if e := math.Abs(got - want[y][x]); e > winoTol*mag[y][x] {
										t.Fatalf("tile %d lane %d (%d,%d): %v, want %v", i, l, y, x, got, want[y][x])
									}
								}
							}
						}
					}
				})
			}
		}
	}
}

func TestPackUnpackC8(t *testing.T) {
	for _, k := range kernelFamilies(t) {
		for _, cn := range []int{8, 5} {
			for _, w := range []int{8, 16, 13, 3, 24, 40, 32, 56, 61} {
				for _, bn := range []bool{false, true} {
					t.Run(fmt.Sprintf("%s/cn=%d/w=%d/bn=%v", k.Name(), cn, w, bn), func(t *testing.T) {
						r := rand.New(rand.NewPCG(uint64(cn*w), 7))
						const rows = 3
						srcRow, srcC := w+2, rows*(w+2)+5
						src := randSlice(r, cn*srcC)
						var scale, shift []float32
						if bn {
							scale, shift = randSlice(r, cn), randSlice(r, cn)
						}
						dstRow := w*lanes + 8
						dst := randSlice(r, rows*dstRow)
						k.PackC8(src, srcRow, srcC, cn, w, rows, scale, shift, dst, dstRow)
						for y := 0; y < rows; y++ {
							for x := 0; x < w; x++ {
								for l := 0; l < lanes; l++ {
									var want float32
									if l < cn {
										want = src[l*srcC+y*srcRow+x]
										if bn {
											want = max(0, float32(want*scale[l])+shift[l])
										}
									}
									if got := dst[y*dstRow+x*lanes+l]; got != want {
										t.Fatalf("pack (%d,%d) lane %d: %v, want %v", y, x, l, got, want)
									}
								}
							}
						}
						// Back, with and without a residual; in place (res = out).
						for _, mode := range []string{"plain", "res", "inplace"} {
							out := randSlice(r, cn*srcC)
							res := randSlice(r, cn*srcC)
							before := append([]float32(nil), out...)
							switch mode {
							case "plain":
								res = nil
							case "inplace":
								res = out
								before = append([]float32(nil), out...)
							}
							k.UnpackC8(dst, dstRow, lanes, cn, w, rows, out, srcRow, srcC, res)
							for l := 0; l < cn; l++ {
								for y := 0; y < rows; y++ {
									for x := 0; x < w; x++ {
										o := l*srcC + y*srcRow + x
										want := dst[y*dstRow+x*lanes+l]
										switch mode {
										case "res":
											want += res[o]
										case "inplace":
											want += before[o]
										}
										if got := out[o]; got != want {
											t.Fatalf("%s unpack (%d,%d) lane %d: %v, want %v", mode, y, x, l, got, want)
										}
									}
								}
							}
						}
					})
				}
			}
		}
	}
}

// transpose returns the transpose of p.
func transpose(p [][]float64) [][]float64 {
	out := make([][]float64, len(p[0]))
	for i := range out {
		out[i] = make([]float64, len(p))
		for j := range p {
			out[i][j] = p[j][i]
		}
	}
	return out
}

func TestWinoDY(t *testing.T) {
	for _, k := range kernelFamilies(t) {
		for _, m := range []int{2, 4} {
			for _, tiles := range []int{1, 3, 8} {
				t.Run(fmt.Sprintf("%s/F%d/tiles=%d", k.Name(), m, tiles), func(t *testing.T) {
					a := m + 2
					r := rand.New(rand.NewPCG(uint64(m+20), uint64(tiles)))
					srcRow := tiles*m*lanes + 8
					src := randSlice(r, m*srcRow)
					dstT, dstTile := tiles*lanes+lanes, lanes
					dst := make([]float32, a*a*dstT)
					k.WinoDY(m, src, srcRow, dst, dstT, dstTile, tiles)
					for i := 0; i < tiles; i++ {
						for l := 0; l < lanes; l++ {
							d := make([][]float64, m)
							for y := range d {
								d[y] = make([]float64, m)
								for x := range d[y] {
									d[y][x] = float64(src[y*srcRow+(i*m+x)*lanes+l])
								}
							}
							want, mag := sandwich(transpose(winoAT[m]), d)
							for ti := 0; ti < a*a; ti++ {
								got := float64(dst[i*dstTile+ti*dstT+l])
								if e := math.Abs(got - want[ti/a][ti%a]); e > winoTol*mag[ti/a][ti%a] {
									t.Fatalf("tile %d lane %d t %d: %v, want %v", i, l, ti, got, want[ti/a][ti%a])
								}
							}
						}
					}
				})
			}
		}
	}
}

// TestUnpackWide unpacks 8-channel vectors from the rows of a wider matrix (a GEMM's
// [pixel][channel] output).
func TestUnpackWide(t *testing.T) {
	for _, k := range kernelFamilies(t) {
		for _, w := range []int{8, 16, 13, 24, 40} {
			for _, kn := range []int{8, 3} {
				t.Run(fmt.Sprintf("%s/w=%d/kn=%d", k.Name(), w, kn), func(t *testing.T) {
					r := rand.New(rand.NewPCG(uint64(w), uint64(kn)))
					const rows, pix = 3, 24
					srcRow := w*pix + 5
					src := randSlice(r, rows*srcRow)
					dstRow, dstC := w+1, rows*(w+1)+2
					dst := randSlice(r, kn*dstC)
					res := randSlice(r, kn*dstC)
					k.UnpackC8(src, srcRow, pix, kn, w, rows, dst, dstRow, dstC, res)
					for l := 0; l < kn; l++ {
						for y := 0; y < rows; y++ {
							for x := 0; x < w; x++ {
								o := l*dstC + y*dstRow + x
								if want := src[y*srcRow+x*pix+l] + res[o]; dst[o] != want {
									t.Fatalf("(%d,%d) lane %d: %v, want %v", y, x, l, dst[o], want)
								}
							}
						}
					}
				})
			}
		}
	}
}

// TestUnpackC8Strided runs UnpackC8 of every family on c8 vectors more than 8 floats
// apart (as im2row's GEMM output is read) against the plain loop, with a residual.
func TestUnpackC8Strided(t *testing.T) {
	for _, k := range kernelFamilies(t) {
		for _, w := range []int{16, 40, 48, 7} {
			for _, pix := range []int{8, 24} {
				r := rand.New(rand.NewPCG(uint64(w), uint64(pix)))
				const rows, cn = 2, 8
				srcRow := w*pix + 8
				src := randSlice(r, rows*srcRow)
				dstRow, dstC := w+3, rows*(w+3)+1
				dst, res := randSlice(r, cn*dstC), randSlice(r, cn*dstC)
				k.UnpackC8(src, srcRow, pix, cn, w, rows, dst, dstRow, dstC, res)
				for l := 0; l < cn; l++ {
					for y := 0; y < rows; y++ {
						for x := 0; x < w; x++ {
							o := l*dstC + y*dstRow + x
							if want := src[y*srcRow+x*pix+l] + res[o]; dst[o] != want {
								t.Fatalf("%s w=%d pix=%d: (%d,%d) lane %d = %v, want %v", k.Name(), w, pix, y, x, l, dst[o], want)
							}
						}
					}
				}
			}
		}
		if err := k.Err(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestGatherRowsC8 runs GatherRowsC8 of every family on random c8 planes, 1x1 and 3x3
// windows, strided and not, against the definition.
func TestGatherRowsC8(t *testing.T) {
	for _, k := range kernelFamilies(t) {
		for _, tc := range []struct{ n, r, nb, s int }{{1, 1, 1, 1}, {5, 3, 2, 1}, {7, 3, 8, 2}, {4, 1, 3, 2}, {3, 3, 1, 1}} {
			t.Run(fmt.Sprintf("%s/n=%d/r=%d/nb=%d/s=%d", k.Name(), tc.n, tc.r, tc.nb, tc.s), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(tc.n*tc.r), uint64(tc.nb)))
				wz := (tc.n-1)*tc.s + tc.r + 2
				zRow, zRows := wz*lanes, tc.r+1
				cStride := zRows*zRow + 8
				cp := tc.nb*lanes + 8
				lda := (tc.r*tc.r-1)*cp + tc.nb*lanes + 16
				src := randSlice(rng, tc.nb*cStride)
				dst := randSlice(rng, tc.n*lda)
				want := append([]float32(nil), dst...) // untouched outside the rows' blocks
				step := tc.s * lanes
				k.GatherRowsC8(dst, lda, src, step, tc.n, tc.r, tc.nb, cp, zRow, cStride)
				for p := 0; p < tc.n; p++ {
					for i := 0; i < tc.r; i++ {
						for j := 0; j < tc.r; j++ {
							for b := 0; b < tc.nb; b++ {
								for l := 0; l < lanes; l++ {
									want[p*lda+(i*tc.r+j)*cp+b*lanes+l] = src[p*step+b*cStride+i*zRow+j*lanes+l]
								}
							}
						}
					}
				}
				for i := range want {
					if math.Float32bits(dst[i]) != math.Float32bits(want[i]) {
						t.Fatalf("dst[%d] = %v, want %v", i, dst[i], want[i])
					}
				}
			})
		}
	}
}
