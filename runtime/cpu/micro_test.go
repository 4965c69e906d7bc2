package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// kernelFamilies returns Kernels for every family this machine runs, each forced
// whatever NewKernels picks (which must be the last, the fastest).
func kernelFamilies(t testing.TB) []*Kernels {
	t.Helper()
	fams := []*Kernels{PortableKernels()}
	for _, kind := range kernelKinds[1:] {
		if ks, ok := kernelsFor(kind); ok {
			fams = append(fams, &Kernels{ks: ks, wt: winoFor(kind), st: statsFor(kind)})
		}
	}
	if got, want := NewKernels().Name(), fams[len(fams)-1].Name(); got != want && kernelCap == kernelKinds[len(kernelKinds)-1] {
		t.Fatalf("NewKernels() = %s, want the fastest family here, %s", got, want)
	}
	return fams
}

func TestMulPacked(t *testing.T) {
	shapes := [][3]int{{1, 1, 1}, {6, 16, 1}, {7, 17, 3}, {5, 15, 4}, {13, 33, 5}, {64, 64, 64}, {4, 256, 256}, {50, 48, 700}, {19, 40, 321}, {15, 17, 9}, {17, 33, 6}, {33, 32, 330}, {32, 16, 4}, {33, 17, 509}}
	for _, k := range kernelFamilies(t) {
		for _, s := range shapes {
			for _, acc := range []bool{false, true} {
				m, n, d := s[0], s[1], s[2]
				t.Run(fmt.Sprintf("%s/%dx%dx%d/acc=%v", k.Name(), m, n, d, acc), func(t *testing.T) {
					r := rand.New(rand.NewPCG(uint64(m*n), uint64(d)))
					lda, ldb, ldc := d+3, n+1, n+2
					a, b, c := randSlice(r, m*lda), randSlice(r, d*ldb), randSlice(r, m*ldc)
					c0 := append([]float32(nil), c...)
					bp := make([]float32, PackedLen(d, n))
					k.PackB(bp, b, ldb, d, n)
					k.MulPacked(m, n, d, a, lda, bp, c, ldc, acc)
					for i := 0; i < m; i++ {
						for j := 0; j < ldc; j++ {
							got := c[i*ldc+j]
							if j >= n {
								if got != c0[i*ldc+j] {
									t.Fatalf("C[%d,%d] past N changed", i, j)
								}
								continue
							}
							want, mag := 0.0, 0.0
							for p := 0; p < d; p++ {
								v := float64(a[i*lda+p]) * float64(b[p*ldb+j])
								want += v
								mag += math.Abs(v)
							}
							if acc {
								want += float64(c0[i*ldc+j])
								mag += math.Abs(float64(c0[i*ldc+j]))
							}
							if math.Abs(float64(got)-want) > gemmTol*mag {
								t.Fatalf("C[%d,%d] = %v, want %v", i, j, got, want)
							}
						}
					}
				})
			}
		}
	}
}

// TestMulPanels checks the transposed-A form with spaced panels.
func TestMulPanels(t *testing.T) {
	shapes := [][3]int{{1, 1, 1}, {7, 17, 3}, {64, 64, 130}, {20, 48, 700}, {33, 17, 5}}
	for _, k := range kernelFamilies(t) {
		for _, s := range shapes {
			for _, acc := range []bool{false, true} {
				m, n, d := s[0], s[1], s[2]
				t.Run(fmt.Sprintf("%s/%dx%dx%d/acc=%v", k.Name(), m, n, d, acc), func(t *testing.T) {
					r := rand.New(rand.NewPCG(uint64(m*n+1), uint64(d)))
					lda, ldc := m+2, n+1
					a, c := randSlice(r, d*lda), randSlice(r, m*ldc)
					c0 := append([]float32(nil), c...)
					np := (n + 15) / 16
					pstride := d*16 + 5
					bp := randSlice(r, np*pstride)
					k.MulPanels(true, m, n, d, a, lda, bp, pstride, c, ldc, acc)
					for i := 0; i < m; i++ {
						for j := 0; j < n; j++ {
							want, mag := 0.0, 0.0
							for p := 0; p < d; p++ {
								v := float64(a[p*lda+i]) * float64(bp[j/16*pstride+p*16+j%16])
								want += v
								mag += math.Abs(v)
							}
							if acc {
								want += float64(c0[i*ldc+j])
								mag += math.Abs(float64(c0[i*ldc+j]))
							}
							if got := c[i*ldc+j]; math.Abs(float64(got)-want) > gemmTol*mag {
								t.Fatalf("C[%d,%d] = %v, want %v", i, j, got, want)
							}
						}
					}
				})
			}
		}
	}
}

func TestMulPackedNoAllocs(t *testing.T) {
	k := NewKernels()
	r := rand.New(rand.NewPCG(1, 1))
	const m, n, d = 13, 32, 40
	a, b, c := randSlice(r, m*d), randSlice(r, d*n), make([]float32, m*n)
	bp := make([]float32, PackedLen(d, n))
	k.PackB(bp, b, n, d, n)
	if got := testing.AllocsPerRun(5, func() { k.MulPacked(m, n, d, a, d, bp, c, n, false) }); got != 0 {
		t.Errorf("MulPacked: %.1f allocations per call, want 0", got)
	}
}

// TestKernelFaults checks that a kernel called with slices too short for its sizes writes
// nothing and records an error for Err, without a panic; the first error stays.
func TestKernelFaults(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func(k *Kernels, c []float32)
	}{
		{"short a", func(k *Kernels, c []float32) {
			k.MulPacked(2, 16, 3, make([]float32, 5), 3, make([]float32, 48), c, 16, false)
		}},
		{"short bp", func(k *Kernels, c []float32) {
			k.MulPacked(2, 16, 3, make([]float32, 6), 3, make([]float32, 47), c, 16, false)
		}},
		{"short c", func(k *Kernels, c []float32) {
			k.MulPacked(2, 16, 3, make([]float32, 6), 3, make([]float32, 48), c[:31], 16, false)
		}},
		{"short dst", func(k *Kernels, c []float32) { k.PackB(c[:31], make([]float32, 48), 16, 3, 16) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := NewKernels()
			c := make([]float32, 32)
			for i := range c {
				c[i] = 7
			}
			tc.f(k, c)
			err := k.Err()
			if err == nil || !strings.HasPrefix(err.Error(), "cpu.Kernels.") {
				t.Fatalf("Err() = %v, want the broken precondition", err)
			}
			for i, v := range c {
				if v != 7 {
					t.Fatalf("c[%d] = %v: the kernel wrote despite the error", i, v)
				}
			}
			k.PackB(c[:1], nil, 1, 1, 1)
			if k.Err() != err {
				t.Errorf("a second fault replaced the first: %v", k.Err())
			}
		})
	}
	var g Gemm
	g.Do(false, false, 2, 2, 2, make([]float32, 3), 2, make([]float32, 4), 2, make([]float32, 4), 2, false)
	if g.Err() == nil {
		t.Error("Gemm.Do with a short A: no error")
	}
	if err := Im2col(make([]float32, 3), 1, 2, 2, 3, 3, 1, 1, 2, 2, nil, nil, make([]float32, 36)); err == nil {
		t.Error("Im2col with a short image: no error")
	}
}

// TestMulPackedA checks PackA's layout and that MulPackedA on it agrees bit for bit with
// MulPanels on the unpacked A (which TestMulPanels checks against float64), for row
// counts that leave partial 16-row panels and partial tiles of every family, and depths
// past the K block.
func TestMulPackedA(t *testing.T) {
	shapes := [][3]int{{1, 16, 1}, {7, 32, 3}, {33, 48, 330}, {20, 16, 700}, {64, 64, 130}}
	for _, k := range kernelFamilies(t) {
		for _, s := range shapes {
			for _, acc := range []bool{false, true} {
				m, n, d := s[0], s[1], s[2]
				t.Run(fmt.Sprintf("%s/%dx%dx%d/acc=%v", k.Name(), m, n, d, acc), func(t *testing.T) {
					r := rand.New(rand.NewPCG(uint64(m*n+2), uint64(d)))
					lda, ldc := d+3, n+1
					a, c := randSlice(r, m*lda), randSlice(r, m*ldc)
					c0 := append([]float32(nil), c...)
					ap := randSlice(r, PackedALen(m, d)) // garbage to overwrite
					k.PackA(ap, a, lda, m, d)
					for p := 0; p*16 < m; p++ {
						for q := 0; q < d; q++ {
							for i := 0; i < 16; i++ {
								want := float32(0)
								if p*16+i < m {
									want = a[(p*16+i)*lda+q]
								}
								if got := ap[(p*d+q)*16+i]; got != want {
									t.Fatalf("packed A panel %d depth %d row %d = %v, want %v", p, q, i, got, want)
								}
							}
						}
					}
					pstride := d*16 + 5
					bp := randSlice(r, n/16*pstride)
					want := append([]float32(nil), c0...)
					k.MulPanels(false, m, n, d, a, lda, bp, pstride, want, ldc, acc)
					k.MulPackedA(m, n, d, ap, bp, pstride, c, ldc, acc)
					if err := k.Err(); err != nil {
						t.Fatal(err)
					}
					for i, w := range want {
						if c[i] != w {
							t.Fatalf("C[%d,%d] = %v, MulPanels %v", i/ldc, i%ldc, c[i], w)
						}
					}
				})
			}
		}
	}
}

// TestWideKernels checks every two-panel kernel of every family that has them against
// the family's one-panel kernel run on each panel (the same bits: the same FMAs in the
// same order) and against float64, for depths around the unrolling, with and without
// acc, an aliasing lda among them.
func TestWideKernels(t *testing.T) {
	tested := false
	for _, k := range kernelFamilies(t) {
		ks := &k.ks
		if ks.wideA[1] == nil {
			continue
		}
		tested = true
		if ks.wideMR < 1 || ks.wideMR > maxWideMR || ks.wideAliasMR < 1 || ks.wideAliasMR > ks.wideMR {
			t.Fatalf("%s: wideMR=%d wideAliasMR=%d", k.Name(), ks.wideMR, ks.wideAliasMR)
		}
		for rows := 1; rows <= ks.wideMR; rows++ {
			for _, depth := range []int{1, 3, 4, 5, 17, 64} {
				for _, lda := range []int{depth + 3, 512} {
					for _, transA := range []bool{false, true} {
						if lda < depth || transA && lda < rows {
							continue
						}
						for _, acc := range []bool{false, true} {
							r := rand.New(rand.NewPCG(uint64(rows*1000+depth), uint64(lda)))
							a := randSlice(r, (rows-1)*lda+depth)
							at := func(i, p int) float32 { return a[i*lda+p] }
							if transA {
								a = randSlice(r, (depth-1)*lda+rows)
								at = func(i, p int) float32 { return a[p*lda+i] }
							}
							pstride := depth*nr + 48
							b := randSlice(r, pstride+depth*nr)
							const ldc = 2*nr + 5
							c0 := randSlice(r, (rows-1)*ldc+2*nr)
							wide := append([]float32(nil), c0...)
							narrow := append([]float32(nil), c0...)
							wk, nk := &ks.wideA, &ks.rowA
							if transA {
								wk, nk = &ks.wideT, &ks.colA
							}
							wk[rows](depth, &a[0], lda, &b[0], pstride, &wide[0], ldc, acc)
							nk[rows](depth, &a[0], lda, &b[0], &narrow[0], ldc, acc)
							nk[rows](depth, &a[0], lda, &b[pstride], &narrow[nr], ldc, acc)
							for i := 0; i < rows; i++ {
								for j := 0; j < 2*nr; j++ {
									got, want := wide[i*ldc+j], narrow[i*ldc+j]
									if math.Float32bits(got) != math.Float32bits(want) {
										t.Fatalf("%s Wx%d transA=%v depth=%d lda=%d acc=%v: C[%d,%d] = %v, one-panel kernel %v", k.Name(), rows, transA, depth, lda, acc, i, j, got, want)
									}
									var ref float64
									if acc {
										ref = float64(c0[i*ldc+j])
									}
									for p := 0; p < depth; p++ {
										ref += float64(at(i, p)) * float64(b[j/nr*pstride+p*nr+j%nr])
									}
									if math.Abs(float64(got)-ref) > 1e-5*float64(depth+1) {
										t.Fatalf("%s Wx%d depth=%d: C[%d,%d] = %v, float64 %v", k.Name(), rows, depth, i, j, got, ref)
									}
								}
							}
							// The columns past the tile (ldc > 32) are left alone.
							for i := 0; i+1 < rows; i++ {
								for j := 2 * nr; j < ldc; j++ {
									if wide[i*ldc+j] != c0[i*ldc+j] {
										t.Fatalf("%s Wx%d: wrote C[%d,%d] outside its tile", k.Name(), rows, i, j)
									}
								}
							}
						}
					}
				}
			}
		}
	}
	if _, ok := kernelsFor(kernelAVX512); ok && !tested {
		t.Fatal("this CPU has AVX-512F but no family has two-panel kernels")
	}
}

// TestMulPanelsTransposedTight runs MulPanels on a transposed A with more rows than
// depths in a slice of exactly its size (a row-major address of its tiles would lie past
// the end), against float64, in every family.
func TestMulPanelsTransposedTight(t *testing.T) {
	const M, N, K = 40, 48, 8
	r := rand.New(rand.NewPCG(11, 12))
	a := randSlice(r, (K-1)*M+M) // element (i, k) at a[k*M+i]
	b := randSlice(r, K*N)
	for _, k := range kernelFamilies(t) {
		bp := make([]float32, PackedLen(K, N))
		k.PackB(bp, b, N, K, N)
		c := make([]float32, M*N)
		k.MulPanels(true, M, N, K, a, M, bp, K*nr, c, N, false)
		for i := 0; i < M; i++ {
			for j := 0; j < N; j++ {
				var ref float64
				for p := 0; p < K; p++ {
					ref += float64(a[p*M+i]) * float64(b[p*N+j])
				}
				if math.Abs(float64(c[i*N+j])-ref) > 1e-5 {
					t.Fatalf("%s: C[%d,%d] = %v, float64 %v", k.Name(), i, j, c[i*N+j], ref)
				}
			}
		}
		if err := k.Err(); err != nil {
			t.Fatal(err)
		}
	}
}
