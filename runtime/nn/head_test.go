package nn

import (
	"fmt"
	"github.com/wrnc/wrnc/testdata/ref"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestHead(t *testing.T) {
	for i, tc := range []struct {
		n, C, HW, F, threads int
	}{
		{1, 3, 35, 10, 2},
		{3, 17, 54, 7, 2},
		{4, 8, 1, 1, 3},
		{3, 1, 9, 5, 1},
	} {
		for _, bnrelu := range []bool{true, false} {
			t.Run(fmt.Sprintf("n=%d,C=%d,HW=%d,F=%d,t=%d/bnrelu=%v", tc.n, tc.C, tc.HW, tc.F, tc.threads, bnrelu), func(t *testing.T) {
				r := newRand(uint64(700 + i))
				x := randF32(r, tc.n*tc.C*tc.HW, -1, 1)
				pre := randPre(r, tc.C, 0, 0)
				if !bnrelu {
					pre = nil // the post-activation head: the mean of x itself
				}
				fcW := randF32(r, tc.F*tc.C, -1, 1)
				fcB := randF32(r, tc.F, -1, 1)
				dlogits := randF32(r, tc.n*tc.F, -1, 1)
				ctx := newTestCtx(t, tc.threads, 0)

				pooled, logits := make([]float32, tc.n*tc.C), make([]float32, tc.n*tc.F)
				var scale, shift []float32
				if pre != nil {
					scale, shift = pre.Scale, pre.Shift
				}
				HeadForward(ctx, tc.n, tc.C, tc.HW, tc.F, x, scale, shift, fcW, fcB, pooled, logits)
				z := refPreOf(tc.n, tc.C, tc.HW, x, pre)
				wp, wl := ref.Head(tc.n, tc.C, tc.HW, tc.F, z, f64(fcW), f64(fcB))
				checkClose(t, "pooled", pooled, wp, tol)
				checkClose(t, "logits", logits, wl, tol)

				dfcW, dfcB := randF32(r, len(fcW), -9, 9), randF32(r, len(fcB), -9, 9)
				dz := randF32(r, len(x), -9, 9)
				HeadBackward(ctx, tc.n, tc.C, tc.HW, tc.F, pooled, fcW, dlogits, dfcW, dfcB, dz)
				wdz, wdw, wdb := ref.HeadBackward(tc.n, tc.C, tc.HW, tc.F, wp, f64(fcW), f64(dlogits))
				checkClose(t, "dz", dz, wdz, tol)
				checkClose(t, "dfcW", dfcW, wdw, tol)
				checkClose(t, "dfcB", dfcB, wdb, tol)
			})
		}
	}
}

func TestSoftmaxCE(t *testing.T) {
	for i, tc := range []struct {
		name   string
		n, F   int
		offset float64 // added to every logit: a naive softmax overflows at 1000
	}{
		{"n=1", 1, 10, 0},
		{"n=5", 5, 7, 0},
		{"large logits", 4, 10, 1000},
		{"very negative logits", 3, 4, -5000},
		{"one class", 2, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRand(uint64(800 + i))
			logits := randF32(r, tc.n*tc.F, tc.offset-4, tc.offset+4)
			labels := make([]int32, tc.n)
			for j := range labels {
				labels[j] = int32(r.IntN(tc.F))
			}
			dlogits := make([]float32, len(logits))
			loss, correct, err := SoftmaxCE(tc.n, tc.F, logits, labels, dlogits)
			if err != nil {
				t.Fatal(err)
			}
			wl, wd, wc := ref.SoftmaxCE(tc.n, tc.F, f64(logits), labels)
			if math.IsNaN(loss) || math.Abs(loss-wl) > tol*math.Max(math.Abs(wl), 1e-3) {
				t.Errorf("loss = %.9g, want %.9g", loss, wl)
			}
			if correct != wc {
				t.Errorf("correct = %d, want %d", correct, wc)
			}
			checkClose(t, "dlogits", dlogits, wd, tol)
		})
	}
}

// TestSoftmaxCECorrect checks the count of correct predictions on hand-made logits,
// including a tie (the first maximum wins).
func TestSoftmaxCECorrect(t *testing.T) {
	logits := []float32{
		0, 5, 1, // argmax 1
		2, 2, 0, // tie: argmax 0
		-1, -3, -0.5, // argmax 2
	}
	type result struct{ Correct []int }
	var got result
	for _, labels := range [][]int32{{1, 0, 2}, {1, 1, 2}, {0, 1, 0}} {
		_, c, err := SoftmaxCE(3, 3, logits, labels, make([]float32, 9))
		if err != nil {
			t.Fatal(err)
		}
		got.Correct = append(got.Correct, c)
	}
	if diff := cmp.Diff(result{[]int{3, 2, 0}}, got); diff != "" {
		t.Errorf("correct counts (-want +got):\n%s", diff)
	}
}

// TestSoftmaxCEErrors checks that a label outside [0, F), and inconsistent sizes, are
// reported as errors with nothing written.
func TestSoftmaxCEErrors(t *testing.T) {
	logits := []float32{0, 1, 2, 3, 4, 5}
	for _, tc := range []struct {
		name   string
		n, F   int
		labels []int32
	}{
		{"label F", 2, 3, []int32{0, 3}},
		{"negative label", 2, 3, []int32{-1, 0}},
		{"no images", 0, 3, nil},
		{"few labels", 2, 3, []int32{0}},
		{"few logits", 3, 3, []int32{0, 1, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := []float32{7, 7, 7, 7, 7, 7}
			if _, _, err := SoftmaxCE(tc.n, tc.F, logits, tc.labels, d); err == nil {
				t.Errorf("nil error")
			}
			for _, v := range d {
				if v != 7 {
					t.Fatalf("dlogits written: %v", d)
				}
			}
		})
	}
}
