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
