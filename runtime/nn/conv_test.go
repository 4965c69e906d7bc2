package nn

import (
	"fmt"
	"github.com/wrnc/wrnc/testdata/ref"
	"math"
	"testing"

	"github.com/wrnc/wrnc/runtime/contract"
)

// convCase is one convolution test: a shape, a batch, the pool's threads and
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
		// The pointwise forward pass (pointwise.go): a column split with a partial panel
		// (K < OH*OW), a row split (K > OH*OW) with a K block past 320 and a separate
		// residual, several column blocks of one image, several row blocks of one item,
		// and images over threads with packed weights (pwPackACols) and a partial panel.
		convCase{c: mkConv(40, 7, 7, 48, 1, 1, 0), n: 1, threads: 2, pre: 1, res: true, inplace: true},
		convCase{c: mkConv(340, 5, 5, 40, 1, 1, 0), n: 1, threads: 2, pre: 1, res: true},
		convCase{c: mkConv(1200, 16, 16, 16, 1, 1, 0), n: 1, threads: 2, pre: 1},
		convCase{c: mkConv(20, 5, 5, 300, 1, 1, 0), n: 1, threads: 2, pre: 1, res: true},
		convCase{c: mkConv(8, 25, 25, 20, 1, 1, 0), n: 3, threads: 2, pre: 1, res: true},
		convCase{c: mkConv(24, 20, 20, 16, 1, 1, 0), n: 3, threads: 2, pre: 1, res: true},
		// The im2row forward pass (direct.go): a depth that is a multiple of 512 (a's rows
		// padded, rowLda), and two chunks of one image split into three blocks of output
		// panels on three threads (a thread's items cross a chunk boundary).
		convCase{c: mkConv(512, 6, 6, 24, 3, 2, 1), n: 1, threads: 2, pre: 1, res: true},
		convCase{c: mkConv(512, 6, 6, 24, 1, 2, 0), n: 3, threads: 2, pre: 2},
		convCase{c: mkConv(320, 24, 24, 40, 3, 2, 1), n: 1, threads: 3, pre: 1, res: true},
		// im2col without a Pre, into packed panels (colpanels.go): a stem-like 7x7/2 whose
		// panels cross output rows and end in a partial panel, in place and over threads.
		convCase{c: mkConv(3, 23, 21, 20, 7, 2, 3), n: 1, threads: 2, pre: 0, res: true},
		convCase{c: mkConv(3, 23, 21, 20, 7, 2, 3), n: 3, threads: 3, pre: 0, res: true, inplace: true},
		convCase{c: mkConv(5, 40, 36, 17, 3, 1, 1), n: 2, threads: 2, pre: 0},
	)
	// WRN-like shapes for the im2row method: strided 3x3, 1x1/2, 1x1/1, 5x5/2, and a 3x3/1.
	for _, c := range []Conv{
		mkConv(64, 16, 16, 128, 3, 2, 1), mkConv(64, 16, 16, 128, 1, 2, 0), mkConv(16, 12, 12, 64, 1, 1, 0),
		mkConv(24, 9, 7, 20, 3, 1, 1), mkConv(12, 7, 9, 5, 5, 2, 2), mkConv(9, 8, 8, 24, 3, 2, 1),
	} {
		for _, n := range []int{1, 3} {
			cases = append(cases, convCase{c: c, n: n, threads: n%2 + 1, pre: 1 + n%2, res: n == 1, inplace: n == 1, dz: n % 3})
		}
	}
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
	d.y = ref.Conv(tc.n, c, z, f64(d.w))
	if tc.res {
		d.res = randF32(r, out, -1, 1)
		d.y = addF64(d.y, f64(d.res))
	}
	d.dw, d.dz = ref.ConvBackward(tc.n, c, z, f64(d.w), f64(d.dy))
	if tc.dz == 2 {
		d.dz0 = randF32(r, in, -1, 1)
		d.dz = addF64(d.dz, f64(d.dz0))
	}
	return d
}

// Method kinds of the tests.
const (
	kIm2col = iota
	kPointwise
	kIm2row
	kWinograd
)

// method is one convolution method under test (m: the Winograd tile).
type method struct {
	kind, m int
}

func (m method) String() string {
	return [...]string{"im2col", "pointwise", "im2row", fmt.Sprintf("winograd%d", m.m)}[m.kind]
}

// tol returns the bound on the method's relative error against the float64 reference.
func (m method) tol() float64 {
	if m.kind == kWinograd {
		return winoTol[m.m]
	}
	return tol
}

// methodsFor returns the methods that take c.
func methodsFor(c Conv) []method {
	ms := []method{{kind: kIm2col}}
	if c.Pointwise() {
		ms = append(ms, method{kind: kPointwise})
	}
	if c.C >= rowMinC {
		ms = append(ms, method{kind: kIm2row})
	}
	if c.Winograd3() {
		ms = append(ms, method{kind: kWinograd, m: 2}, method{kind: kWinograd, m: 4})
	}
	return ms
}

// poisoned returns n NaNs: a derived-weights buffer that the transform must fill whole,
// padding included (a NaN left in it would reach the outputs).
func poisoned(n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(math.NaN())
	}
	return s
}

// derived holds the derived weights of a method (those it needs).
type derived struct{ u, ud, wp, wk []float32 }

// derive makes m's derived weights of w into NaN-poisoned buffers of the contract's sizes
// (as the compiled step does after each update); dgrad also makes those of the input
// gradient.
func (m method) derive(ctx *Ctx, c *Conv, w []float32, dgrad bool) derived {
	var dv derived
	switch m.kind {
	case kIm2row:
		dv.wp = poisoned(contract.RowWeightsLen(c, false))
		if dgrad {
			dv.wk = poisoned(contract.RowWeightsLen(c, true))
		}
	case kWinograd:
		dv.u = poisoned(contract.WinogradWeightsLen(c, m.m, false))
		if dgrad {
			dv.ud = poisoned(contract.WinogradWeightsLen(c, m.m, true))
		}
	}
	m.rederive(ctx, c, w, &dv)
	return dv
}

// rederive writes m's derived weights of w into the buffers of dv that derive made.
func (m method) rederive(ctx *Ctx, c *Conv, w []float32, dv *derived) {
	switch m.kind {
	case kIm2row:
		RowWeights(ctx, c, w, dv.wp)
		if dv.wk != nil {
			RowWeightsT(ctx, c, w, dv.wk)
		}
	case kWinograd:
		WinogradWeights(ctx, c, m.m, false, w, dv.u)
		if dv.ud != nil {
			WinogradWeights(ctx, c, m.m, true, w, dv.ud)
		}
	}
}

// fwd runs m's forward pass of c with the derived weights dv.
func (m method) fwd(ctx *Ctx, n int, c *Conv, x, w []float32, dv derived, pre *Pre, res, y []float32) {
	switch m.kind {
	case kIm2col:
		Im2colForward(ctx, n, c, x, w, pre, res, y)
	case kPointwise:
		PointwiseForward(ctx, n, c, x, w, pre, res, y)
	case kIm2row:
		Im2rowForward(ctx, n, c, x, dv.wp, pre, res, y)
	case kWinograd:
		WinogradForward(ctx, n, c, m.m, x, dv.u, pre, res, y)
	}
}

// bwd runs m's weight gradient and, when dz != nil, its input gradient, with the derived
// weights dv.
func (m method) bwd(ctx *Ctx, n int, c *Conv, x, w []float32, dv derived, pre *Pre, dy, dw, dz []float32, acc bool) {
	switch m.kind {
	case kIm2col:
		Im2colBackward(ctx, n, c, x, w, pre, dy, dw, dz, acc)
	case kPointwise:
		PointwiseBackward(ctx, n, c, x, w, pre, dy, dw, dz, acc)
	case kIm2row:
		Im2rowBackward(ctx, n, c, x, dv.wk, pre, dy, dw, dz, acc)
	case kWinograd:
		WinogradWgrad(ctx, n, c, m.m, x, pre, dy, dw)
		if dz != nil {
			WinogradDgrad(ctx, n, c, m.m, dv.ud, dy, dz, acc)
		}
	}
}

// forward runs m's forward pass of c, making its derived weights first.
func (m method) forward(ctx *Ctx, n int, c *Conv, x, w []float32, pre *Pre, res, y []float32) {
	m.fwd(ctx, n, c, x, w, m.derive(ctx, c, w, false), pre, res, y)
}

// backward runs m's backward pass of c, making its derived weights first (none for the
// input gradient when dz is nil).
func (m method) backward(ctx *Ctx, n int, c *Conv, x, w []float32, pre *Pre, dy, dw, dz []float32, acc bool) {
	dv := m.derive(ctx, c, w, dz != nil)
	m.bwd(ctx, n, c, x, w, dv, pre, dy, dw, dz, acc)
}

// checkForward runs m's forward pass of tc on d and compares it with the reference.
func checkForward(t *testing.T, ctx *Ctx, m method, tc convCase, d convData) float64 {
	t.Helper()
	y := randF32(newRand(4), len(d.y), -9, 9) // overwritten
	res := d.res
	if tc.inplace && res != nil {
		copy(y, res)
		res = y
	}
	m.forward(ctx, tc.n, &tc.c, d.x, d.w, d.pre, res, y)
	checkClose(t, "y", y, d.y, m.tol())
	return relErr(y, d.y)
}

// checkBackward runs m's backward pass of tc on d (dz as tc.dz says) and compares it
// with the reference.
func checkBackward(t *testing.T, ctx *Ctx, m method, tc convCase, d convData) (edw, edz float64) {
	t.Helper()
	dw := randF32(newRand(1), len(d.dw), -9, 9) // overwritten
	var dz []float32
	switch tc.dz {
	case 1:
		dz = randF32(newRand(2), len(d.dz), -9, 9) // overwritten
	case 2:
		dz = append([]float32(nil), d.dz0...)
	}
	m.backward(ctx, tc.n, &tc.c, d.x, d.w, d.pre, d.dy, dw, dz, tc.dz == 2)
	checkClose(t, "dw", dw, d.dw, m.tol())
	if dz != nil {
		checkClose(t, "dz", dz, d.dz, m.tol())
		edz = relErr(dz, d.dz)
	}
	return relErr(dw, d.dw), edz
}

// TestConvMethods runs every method that takes each case, forward and backward, against
// the float64 reference.
func TestConvMethods(t *testing.T) {
	for i, tc := range convCases() {
		d := makeConvData(tc, uint64(100+i))
		for _, m := range methodsFor(tc.c) {
			t.Run(tc.String()+"/"+m.String(), func(t *testing.T) {
				ctx := newTestCtx(t, tc.threads, WorkspaceFor(tc.c))
				checkForward(t, ctx, m, tc, d)
				checkBackward(t, ctx, m, tc, d)
			})
		}
	}
}

// TestIm2colBackwardPartial runs Im2colBackward with only one of dw and dz (the pairing
// with a Winograd pass): the other must be left alone.
func TestIm2colBackwardPartial(t *testing.T) {
	for i, tc := range []convCase{
		{c: mkConv(3, 7, 5, 4, 3, 1, 1), n: 3, threads: 2, pre: 2, dz: 2},
		{c: mkConv(20, 7, 9, 24, 3, 1, 1), n: 1, threads: 2, pre: 1, dz: 1},
		{c: mkConv(17, 9, 6, 8, 1, 1, 0), n: 4, threads: 3, pre: 0, dz: 1},
	} {
		t.Run(tc.String(), func(t *testing.T) {
			d := makeConvData(tc, uint64(200+i))
			ctx := newTestCtx(t, tc.threads, WorkspaceFor(tc.c))
			dw := randF32(newRand(1), len(d.dw), -9, 9)
			Im2colBackward(ctx, tc.n, &tc.c, d.x, d.w, d.pre, d.dy, dw, nil, false)
			checkClose(t, "dw alone", dw, d.dw, tol)
			dz := randF32(newRand(2), len(d.dz), -9, 9)
			if tc.dz == 2 {
				copy(dz, d.dz0)
			}
			dw2 := append([]float32(nil), dw...)
			Im2colBackward(ctx, tc.n, &tc.c, d.x, d.w, d.pre, d.dy, nil, dz, tc.dz == 2)
			checkClose(t, "dz alone", dz, d.dz, tol)
			if !equalBits(dw, dw2) {
				t.Errorf("dw changed by a call without dw")
			}
			Im2colBackward(ctx, tc.n, &tc.c, d.x, d.w, d.pre, d.dy, nil, nil, false) // nothing to do
		})
	}
}

// equalBits reports whether a and b hold the same bits.
func equalBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// TestConvBackwardBusyPool runs Im2colBackward while its pool is busy with another loop,
// so that the image loop runs whole on the caller as chunk 0: the weight-gradient partials
// of the other threads, left from an earlier call, must not be added in.
func TestConvBackwardBusyPool(t *testing.T) {
	tc := convCase{c: mkConv(3, 7, 5, 4, 3, 1, 1), n: 4, threads: 2, pre: 1, dz: 1}
	d := makeConvData(tc, 5)
	ctx := newTestCtx(t, tc.threads, WorkspaceFor(tc.c))
	dw := make([]float32, len(d.dw))
	dz := make([]float32, len(d.dz))
	Im2colBackward(ctx, tc.n, &tc.c, d.x, d.w, d.pre, d.dy, dw, dz, false) // fills thread 1's partial
	clear(dw)
	ctx.pool.For(2, func(lo, _ int) {
		if lo == 0 {
			Im2colBackward(ctx, tc.n, &tc.c, d.x, d.w, d.pre, d.dy, dw, dz, false)
		}
	})
	checkClose(t, "dw", dw, d.dw, tol)
	checkClose(t, "dz", dz, d.dz, tol)
}

// TestContractSizes checks that the contract's sizes of the derived weights are those the
// kernels use.
func TestContractSizes(t *testing.T) {
	for _, c := range []Conv{
		mkConv(16, 32, 32, 64, 3, 1, 1), mkConv(20, 7, 9, 24, 3, 1, 1), mkConv(3, 5, 6, 17, 3, 1, 1),
		mkConv(64, 16, 16, 128, 3, 2, 1), mkConv(64, 16, 16, 128, 1, 2, 0), mkConv(12, 7, 9, 5, 5, 2, 2),
		mkConv(9, 8, 8, 24, 3, 2, 1), mkConv(1, 4, 4, 1, 3, 1, 1),
	} {
		if c.Winograd3() {
			for _, m := range []int{2, 4} {
				s := newWinoShape(&c, m)
				if got, want := contract.WinogradWeightsLen(&c, m, false), s.uLen(); got != want {
					t.Errorf("%v F%d: WinogradWeightsLen forward %d, kernels use %d", c, m, got, want)
				}
				d := dgradConv(&c)
				sd := newWinoShape(&d, m)
				if got, want := contract.WinogradWeightsLen(&c, m, true), sd.uLen(); got != want {
					t.Errorf("%v F%d: WinogradWeightsLen dgrad %d, kernels use %d", c, m, got, want)
				}
			}
		}
		s := newRowShape(&c, 3, 2)
		if got := contract.RowDepth(&c); got != s.d {
			t.Errorf("%v: RowDepth %d, kernels use %d", c, got, s.d)
		}
		if got, want := contract.RowWeightsLen(&c, false), s.kp*s.d; got != want {
			t.Errorf("%v: RowWeightsLen forward %d, kernels use %d", c, got, want)
		}
		if got, want := contract.RowWeightsLen(&c, true), s.rowD16()*c.K; got != want {
			t.Errorf("%v: RowWeightsLen dgrad %d, kernels use %d", c, got, want)
		}
	}
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
	c := mkConv(3, 7, 5, 4, 3, 1, 1)
	if err := CheckConv(&c, 1); err != nil {
		t.Errorf("CheckConv(n=1): %v", err)
	}
	if err := CheckConv(&c, 0); err == nil {
		t.Errorf("CheckConv(n=0): nil error")
	}
	if err := CheckConv(&Conv{C: 1, H: 4, W: 4, K: 1, R: 3, S: 1, P: 1, OH: 4, OW: 3}, 2); err == nil {
		t.Errorf("CheckConv of a wrong output size: nil error")
	}
}

// TestPointwiseStrided runs the pointwise forward pass on the strided 1x1 convolutions
// of convCases (the backward passes of those take im2row) and on a few more, odd sizes
// and in-place residuals among them, against the float64 reference.
func TestPointwiseStrided(t *testing.T) {
	cases := []convCase{
		{c: mkConv(24, 9, 11, 40, 1, 2, 0), n: 3, threads: 2, pre: 1, res: true},
		{c: mkConv(24, 9, 11, 40, 1, 2, 0), n: 1, threads: 2, pre: 0, res: true, inplace: true},
		{c: mkConv(64, 14, 14, 48, 1, 2, 0), n: 2, threads: 3, pre: 1},
		{c: mkConv(16, 12, 12, 32, 1, 3, 0), n: 2, threads: 1, pre: 2},
		{c: mkConv(600, 14, 14, 32, 1, 2, 0), n: 1, threads: 2, pre: 1, res: true},
	}
	for _, tc := range convCases() {
		if tc.c.OneByOne() && tc.c.S > 1 {
			cases = append(cases, tc)
		}
	}
	for i, tc := range cases {
		d := makeConvData(tc, uint64(900+i))
		t.Run(tc.String(), func(t *testing.T) {
			ctx := newTestCtx(t, tc.threads, WorkspaceFor(tc.c))
			checkForward(t, ctx, method{kind: kPointwise}, tc, d)
			if err := ctx.Err(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
