package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestPackB compares packB, with every kernel family's packers, against the
// packed layout written out element by element.
func TestPackB(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 13))
	for _, ks := range kernelCases(t) {
		for _, transB := range []bool{false, true} {
			for _, sh := range [][4]int{{1, 1, 0, 0}, {16, 8, 0, 0}, {33, 17, 3, 2}, {64, 24, 5, 1}, {50, 31, 0, 7}, {7, 5, 2, 2}} {
				n, kc, j0, k0 := sh[0], sh[1], sh[2], sh[3]
				t.Run(fmt.Sprintf("%v/transB=%v/n=%d,kc=%d,j0=%d,k0=%d", ks.kind, transB, n, kc, j0, k0), func(t *testing.T) {
					rows, cols := k0+kc, j0+n
					if transB {
						rows, cols = cols, rows
					}
					ldb := cols + 3
					b := randSlice(r, rows*ldb)
					panels := (n + nr - 1) / nr
					got := randSlice(r, panels*kc*nr) // garbage to overwrite
					packB(&ks, got, b, ldb, transB, k0, kc, j0, n)
					want := make([]float32, panels*kc*nr)
					for p := 0; p < panels; p++ {
						for k := 0; k < kc; k++ {
							for c := 0; c < nr && p*nr+c < n; c++ {
								j := j0 + p*nr + c
								idx := (k0+k)*ldb + j
								if transB {
									idx = j*ldb + k0 + k
								}
								v := b[idx]
								want[(p*kc+k)*nr+c] = v
							}
						}
					}
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("packed B (-want +got):\n%s", diff)
					}
				})
			}
		}
	}
}

// TestPackBPre compares Kernels.PackBPre, with every kernel family, against the packed
// layout of max(0, b*scale+shift) written out element by element (the product rounded
// before the sum), on values of both signs so that the ReLU cuts some of them.
func TestPackBPre(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 15))
	for _, k := range kernelFamilies(t) {
		for _, sh := range [][2]int{{1, 1}, {16, 8}, {33, 17}, {64, 24}, {50, 31}, {7, 5}, {49, 300}} {
			n, kk := sh[0], sh[1]
			t.Run(fmt.Sprintf("%s/n=%d,k=%d", k.Name(), n, kk), func(t *testing.T) {
				ldb := n + 3
				b := randSlice(r, kk*ldb)
				scale, shift := randSlice(r, kk), randSlice(r, kk)
				got := randSlice(r, PackedLen(kk, n)) // garbage to overwrite
				k.PackBPre(got, b, ldb, kk, n, scale, shift)
				if err := k.Err(); err != nil {
					t.Fatal(err)
				}
				want := make([]float32, PackedLen(kk, n))
				for p := 0; p*nr < n; p++ {
					for d := 0; d < kk; d++ {
						for c := 0; c < nr && p*nr+c < n; c++ {
							v := b[d*ldb+p*nr+c]
							want[(p*kk+d)*nr+c] = max(0, float32(v*scale[d])+shift[d])
						}
					}
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("packed B (-want +got):\n%s", diff)
				}
			})
		}
	}
}
