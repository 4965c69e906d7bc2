package nn

import (
	"testing"

	"github.com/wrnc/wrnc/runtime/contract"
)

// TestTimeForward times every candidate of a 3x3 and a 1x1 convolution and checks that
// a method that does not compute the convolution, and bad arguments, are refused.
func TestTimeForward(t *testing.T) {
	for _, c := range []Conv{mkConv(16, 8, 8, 16, 3, 1, 1), mkConv(16, 8, 8, 32, 1, 1, 0), mkConv(16, 8, 8, 32, 1, 2, 0)} {
		ctx := newTestCtx(t, 2, WorkspaceFor(c))
		cands := c.ForwardCandidates()
		if len(cands) < 2 {
			t.Fatalf("conv %+v: candidates %v", c, cands)
		}
		for _, s := range cands {
			for _, pre := range []bool{false, true} {
				d, err := TimeForward(ctx, &c, 2, s, pre, 3, 1<<16)
				if err != nil || d <= 0 {
					t.Errorf("conv %+v by %s: %v, %v", c, s.Label(), d, err)
				}
			}
		}
	}
	c := mkConv(16, 8, 8, 16, 3, 2, 1)
	ctx := newTestCtx(t, 1, WorkspaceFor(c))
	for _, s := range []contract.Selection{{Method: contract.Winograd, Tile: 4}, {Method: contract.Pointwise}, {Method: contract.Winograd, Tile: 3}, {Method: "fft"}} {
		if _, err := TimeForward(ctx, &c, 1, s, false, 1, 0); err == nil {
			t.Errorf("%+v timed on strided conv %+v", s, c)
		}
	}
	if _, err := TimeForward(ctx, &c, 1, contract.Selection{Method: contract.Im2row}, false, 0, 0); err == nil {
		t.Error("0 reps accepted")
	}
}
