package nn

import (
	"fmt"
	"testing"
)

// convCase is one ConvForward/ConvBackward test: a shape, a batch, the pool's threads and
// the optional parts (Pre, dropout, residual, dz and its accumulation).
type convCase struct {
	c       Conv
	n       int
	threads int
	pre     int // 0: nil, 1: BN-ReLU, 2: BN-ReLU-dropout
	res     bool
	inplace bool // res is y itself
	dz      int  // 0: no dz, 1: overwrite, 2: accumulate
}

func (tc convCase) String() string {
	return fmt.Sprintf("C%dx%dx%d-K%d-R%d-S%d-P%d/n=%d/t=%d/pre=%d/res=%v/inplace=%v/dz=%d",
		tc.c.C, tc.c.H, tc.c.W, tc.c.K, tc.c.R, tc.c.S, tc.c.P, tc.n, tc.threads, tc.pre, tc.res, tc.inplace, tc.dz)
}

// convCases covers kernel sizes 1, 3, 5, 7 at strides 1 and 2 (padding R/2), every kind of
// Pre, batches of 1, 3 and 4 on 1, 2 and 3 threads (so both the image-parallel and the
// single-image paths, and their mix, run), channel counts 1, 3, 8, 17, non-square inputs,
// and a column depth (C*R*R = 360) above the GEMM's K block.
func convCases() []convCase {
	var cases []convCase
	chans := []int{1, 3, 8, 17}
	sizes := [][2]int{{7, 5}, {9, 6}, {6, 9}, {5, 7}}
	i := 0
	for _, R := range []int{1, 3, 5, 7} {
		for _, S := range []int{1, 2} {
			for pre := 0; pre < 3; pre++ {
				for _, n := range []int{1, 3} {
					hw := sizes[(i/2+i/5)%len(sizes)]
					c := mkConv(chans[i%4], hw[0], hw[1], chans[(i/4+i)%4], R, S, R/2)
					res := (i+i/2)%2 == 0
					cases = append(cases, convCase{c: c, n: n, threads: 1 + i%3, pre: pre,
						res: res, inplace: res && (i/3)%2 == 0, dz: (i + i/3) % 3})
					i++
				}
			}
		}
	}
	cases = append(cases,
		convCase{c: mkConv(40, 8, 8, 24, 3, 1, 1), n: 4, threads: 2, pre: 2, res: true, dz: 2},
		convCase{c: mkConv(40, 8, 8, 24, 3, 1, 1), n: 3, threads: 2, pre: 1, dz: 1},
		convCase{c: mkConv(17, 9, 6, 8, 1, 1, 0), n: 4, threads: 2, pre: 0, res: true, dz: 1},
		convCase{c: mkConv(17, 9, 6, 8, 1, 1, 0), n: 3, threads: 3, pre: 2, dz: 2},
		convCase{c: mkConv(8, 9, 6, 17, 1, 2, 0), n: 3, threads: 2, pre: 1, res: true, dz: 2},
	)
	return cases
}

// convData is the random input of one convCase, and what the reference makes of it.
type convData struct {
	x, w, res, dy, dz0 []float32
	pre                *Pre
	y, dw, dz          []float64 // reference results
}

func makeConvData(tc convCase, seed uint64) convData {
	r := newRand(seed)
	c := tc.c
	in, out := tc.n*c.C*c.H*c.W, tc.n*c.K*c.OH*c.OW
	d := convData{
		x:  randF32(r, in, -1, 1),
		w:  randF32(r, c.K*c.C*c.R*c.R, -1, 1),
		dy: randF32(r, out, -1, 1),
	}
	if tc.pre > 0 {
		drop := float32(0)
		if tc.pre == 2 {
			drop = 0.3
		}
		d.pre = randPre(r, c.C, drop, seed*31+7)
	}
	z := refPreOf(tc.n, c.C, c.H*c.W, d.x, d.pre)
	d.y = refConv(tc.n, c, z, f64(d.w))
	if tc.res {
		d.res = randF32(r, out, -1, 1)
		d.y = addF64(d.y, f64(d.res))
	}
	d.dw, d.dz = refConvBackward(tc.n, c, z, f64(d.w), f64(d.dy))
	if tc.dz == 2 {
		d.dz0 = randF32(r, in, -1, 1)
		d.dz = addF64(d.dz, f64(d.dz0))
	}
	return d
}

func TestConvForward(t *testing.T) {
	for i, tc := range convCases() {
		t.Run(tc.String(), func(t *testing.T) {
			d := makeConvData(tc, uint64(100+i))
			ctx := newTestCtx(t, tc.threads, WorkspaceFor(tc.c))
			y := make([]float32, len(d.y))
			res := d.res
			if tc.inplace && res != nil {
				copy(y, res)
				res = y
			}
			ConvForward(ctx, tc.n, &tc.c, d.x, d.w, d.pre, res, y)
			checkClose(t, "y", y, d.y, tol)
		})
	}
}

func TestConvBackward(t *testing.T) {
	for i, tc := range convCases() {
		t.Run(tc.String(), func(t *testing.T) {
			d := makeConvData(tc, uint64(100+i))
			ctx := newTestCtx(t, tc.threads, WorkspaceFor(tc.c))
			dw := randF32(newRand(1), len(d.dw), -9, 9) // overwritten
			var dz []float32
			switch tc.dz {
			case 1:
				dz = randF32(newRand(2), len(d.dz), -9, 9) // overwritten
			case 2:
				dz = append([]float32(nil), d.dz0...)
			}
			ConvBackward(ctx, tc.n, &tc.c, d.x, d.w, d.pre, d.dy, dw, dz, tc.dz == 2)
			checkClose(t, "dw", dw, d.dw, tol)
			if dz != nil {
				checkClose(t, "dz", dz, d.dz, tol)
			}
		})
	}
}

// TestConvBackwardBusyPool runs ConvBackward while its pool is busy with another loop, so
// that the image loop runs whole on the caller as chunk 0: the weight-gradient partials of
// the other threads, left from an earlier call, must not be added in.
func TestConvBackwardBusyPool(t *testing.T) {
	tc := convCase{c: mkConv(3, 7, 5, 4, 3, 1, 1), n: 4, threads: 2, pre: 1, dz: 1}
	d := makeConvData(tc, 5)
	ctx := newTestCtx(t, tc.threads, WorkspaceFor(tc.c))
	dw := make([]float32, len(d.dw))
	dz := make([]float32, len(d.dz))
	ConvBackward(ctx, tc.n, &tc.c, d.x, d.w, d.pre, d.dy, dw, dz, false) // fills thread 1's partial
	clear(dw)
	ctx.pool.For(2, func(lo, _ int) {
		if lo == 0 {
			ConvBackward(ctx, tc.n, &tc.c, d.x, d.w, d.pre, d.dy, dw, dz, false)
		}
	})
	checkClose(t, "dw", dw, d.dw, tol)
	checkClose(t, "dz", dz, d.dz, tol)
}

func TestConvValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    Conv
		ok   bool
	}{
		{"3x3", mkConv(3, 7, 5, 4, 3, 1, 1), true},
		{"7x7 stride 2", mkConv(3, 7, 5, 4, 7, 2, 3), true},
		{"zero channels", Conv{C: 0, H: 4, W: 4, K: 1, R: 1, S: 1, OH: 4, OW: 4}, false},
		{"negative pad", Conv{C: 1, H: 4, W: 4, K: 1, R: 1, S: 1, P: -1, OH: 2, OW: 2}, false},
		{"wrong output", Conv{C: 1, H: 4, W: 4, K: 1, R: 3, S: 1, P: 1, OH: 4, OW: 3}, false},
		{"kernel too big", Conv{C: 1, H: 2, W: 2, K: 1, R: 5, S: 1, P: 0, OH: 0, OW: 0}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.c.Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
	ctx := newTestCtx(t, 2, WorkspaceFor(mkConv(3, 7, 5, 4, 3, 1, 1)))
	if err := ctx.Check(&Conv{C: 3, H: 7, W: 5, K: 4, R: 3, S: 1, P: 1, OH: 7, OW: 5}); err != nil {
		t.Errorf("Check of the conv the Ctx was sized for: %v", err)
	}
	if err := ctx.Check(new(mkConv(8, 7, 5, 4, 3, 1, 1))); err == nil {
		t.Errorf("Check of a conv larger than the workspace: nil error")
	}
}
