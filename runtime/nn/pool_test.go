package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/wrnc/wrnc/testdata/ref"
)

var nan = float32(math.NaN())

func isNaN32(v float32) bool { return v != v }

// mkPool returns the Pool of the given sizes with its output size filled in.
func mkPool(C, H, W, R, S, P int) Pool {
	return Pool{C: C, H: H, W: W, R: R, S: S, P: P, OH: (H+2*P-R)/S + 1, OW: (W+2*P-R)/S + 1}
}

var poolCases = []struct {
	p          Pool
	n, threads int
}{
	{mkPool(2, 112, 112, 3, 2, 1), 1, 2}, // the stem: 112x112 -> 56x56
	{mkPool(1, 112, 112, 3, 2, 1), 3, 3},
	{mkPool(3, 8, 8, 3, 2, 1), 3, 2}, // even
	{mkPool(3, 7, 9, 3, 2, 1), 3, 3}, // odd: 4x5
	{mkPool(4, 1, 1, 3, 2, 1), 3, 2}, // 1x1: one window, all but its centre padding
	{mkPool(2, 2, 3, 3, 2, 1), 1, 1},
	{mkPool(2, 7, 7, 3, 2, 0), 3, 2},
	{mkPool(2, 5, 4, 3, 1, 1), 1, 2}, // every input in up to 9 windows
	{mkPool(3, 8, 6, 2, 2, 0), 3, 2},
	{mkPool(2, 4, 5, 2, 1, 1), 3, 1},
}

// randGrid returns n random multiples of 1/den in [lo, hi).
func randGrid(r *rand.Rand, n int, lo, hi int, den float64) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(float64(lo+r.IntN(hi-lo)) / den)
	}
	return s
}

// gridData returns an input of multiples of 1/64 in [-2, 2) and a Pre of scales m/16, m in
// [-24, 24] but 0 (both signs), and shifts of multiples of 1/1024 in [-0.5, 0.5): every
// x*scale+shift is exact in float32, so that the float64 reference sees the very values
// the kernel compares, ties included (which the coarse grid and the ReLU make common).
func gridData(r *rand.Rand, len, C int) ([]float32, *Pre) {
	x := randGrid(r, len, -128, 128, 64)
	sc := randGrid(r, C, -24, 24, 16)
	for i := range sc {
		if sc[i] == 0 {
			sc[i] = 1.5
		}
	}
	return x, &Pre{Scale: sc, Shift: randGrid(r, C, -512, 512, 1024)}
}

// TestMaxPool compares MaxPoolForward and MaxPoolBackward, on the raw input and through
// a BN-ReLU, with the float64 reference.
func TestMaxPool(t *testing.T) {
	for i, tc := range poolCases {
		p := tc.p
		if err := p.Validate(); err != nil {
			t.Fatal(err)
		}
		for _, withPre := range []bool{false, true} {
			t.Run(fmt.Sprintf("%+v/n=%d/t=%d/pre=%v", p, tc.n, tc.threads, withPre), func(t *testing.T) {
				r := newRand(uint64(1100 + i))
				hw := p.H * p.W
				x, pre := gridData(r, tc.n*p.C*hw, p.C)
				if !withPre {
					pre = nil
				}
				ctx := newTestCtx(t, tc.threads, 0)
				y := randF32(r, tc.n*p.C*p.OH*p.OW, -9, 9)
				MaxPoolForward(ctx, tc.n, &p, x, pre, y)
				z := refPreOf(tc.n, p.C, hw, x, pre)
				checkClose(t, "y", y, ref.MaxPool(tc.n, p, z), tol)

				dy := randF32(r, len(y), -1, 1)
				dz := randF32(r, len(x), -9, 9) // overwritten
				MaxPoolBackward(ctx, tc.n, &p, x, pre, dy, dz)
				checkClose(t, "dz", dz, ref.MaxPoolBackward(tc.n, p, z, f64(dy)), tol)
				if err := ctx.Err(); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// TestMaxPoolRule checks the choice of the maximum on hand-made planes: the first of
// equal maxima in row-major window order wins (also where a negative scale makes the
// whole window 0 after the ReLU), and padding never wins over negative values.
func TestMaxPoolRule(t *testing.T) {
	for _, tc := range []struct {
		name       string
		p          Pool
		x          []float32
		pre        *Pre
		dy         []float32
		wantY, wdz []float32
	}{
		{
			name: "first of equal maxima",
			p:    mkPool(1, 2, 4, 2, 2, 0),
			x:    []float32{1, 3, 2, 2, 3, 0, 2, 2},
			dy:   []float32{10, 20}, wantY: []float32{3, 2},
			wdz: []float32{0, 10, 20, 0, 0, 0, 0, 0},
		},
		{
			name: "all zero after the ReLU",
			p:    mkPool(1, 2, 4, 2, 2, 0),
			x:    []float32{1, 3, 2, 2, 3, 0, 2, 2},
			pre:  &Pre{Scale: []float32{-1}, Shift: []float32{-0.5}},
			dy:   []float32{10, 20}, wantY: []float32{0, 0},
			wdz: []float32{10, 0, 20, 0, 0, 0, 0, 0},
		},
		{
			name: "padding never wins",
			p:    mkPool(1, 2, 2, 3, 2, 1),
			x:    []float32{-3, -1, -2, -4},
			dy:   []float32{5}, wantY: []float32{-1},
			wdz: []float32{0, 5, 0, 0},
		},
		{
			name: "a NaN never wins, nor is beaten when first, and makes the maximum NaN",
			p:    mkPool(1, 2, 3, 2, 1, 0),
			x:    []float32{1, nan, 0, 2, 5, 9},
			dy:   []float32{10, 20}, wantY: []float32{nan, nan},
			wdz: []float32{0, 20, 0, 0, 10, 0},
		},
		{
			name: "overlapping windows add up",
			p:    mkPool(1, 1, 5, 3, 1, 1),
			x:    []float32{0, 1, 9, 2, -1},
			dy:   []float32{1, 2, 4, 8, 16}, wantY: []float32{1, 9, 9, 9, 2},
			wdz: []float32{0, 1, 14, 16, 0},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.p.Validate(); err != nil {
				t.Fatal(err)
			}
			ctx := newTestCtx(t, 1, 0)
			y := make([]float32, len(tc.wantY))
			MaxPoolForward(ctx, 1, &tc.p, tc.x, tc.pre, y)
			dz := make([]float32, len(tc.x))
			MaxPoolBackward(ctx, 1, &tc.p, tc.x, tc.pre, tc.dy, dz)
			for j := range y {
				if y[j] != tc.wantY[j] && !(isNaN32(y[j]) && isNaN32(tc.wantY[j])) {
					t.Errorf("y = %v, want %v", y, tc.wantY)
					break
				}
			}
			if j := firstDiff(dz, tc.wdz); j >= 0 {
				t.Errorf("dz = %v, want %v", dz, tc.wdz)
			}
		})
	}
}
