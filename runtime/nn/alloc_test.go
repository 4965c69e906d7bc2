package nn

import "testing"

// TestNoAllocs checks that every kernel, after a first call, runs without allocating (on
// two threads, with a batch that takes both the image-parallel and the single-image path),
// by each choice of convolution method.
func TestNoAllocs(t *testing.T) {
	for _, algo := range []struct {
		name string
		a    int
	}{{"direct", algoDirect}, {"auto", algoAuto}, {"F2", 2}, {"F4", 4}} {
		t.Run(algo.name, func(t *testing.T) { testNoAllocs(t, algo.a) })
	}
}

func testNoAllocs(t *testing.T, algo int) {
	const n, F = 3, 5
	c := mkConv(8, 9, 6, 6, 3, 2, 1)
	pw := mkConv(8, 9, 6, 6, 1, 1, 0)
	r := newRand(1000)
	// A 3x3 stride-1 conv that the automatic choice gives to Winograd.
	wc := mkConv(16, 8, 8, 16, 3, 1, 1)
	ctx := newAlgoCtx(t, 2, WorkspaceFor(c, pw, wc), algo)
	wx := randF32(r, n*wc.C*wc.H*wc.W, -1, 1)
	ww := randF32(r, wc.K*wc.C*9, -1, 1)
	wpre := randPre(r, wc.C, 0, 0)
	wy := make([]float32, n*wc.K*wc.H*wc.W)
	wdw, wdz := make([]float32, len(ww)), make([]float32, len(wx))
	hw := c.H * c.W
	x := randF32(r, n*c.C*hw, -1, 1)
	w := randF32(r, c.K*c.C*c.R*c.R, -1, 1)
	pre := randPre(r, c.C, 0.3, 5)
	y := make([]float32, n*c.K*c.OH*c.OW)
	dy := randF32(r, len(y), -1, 1)
	dw, dz := make([]float32, len(w)), make([]float32, len(x))
	ypw := make([]float32, n*pw.K*hw)
	p := randBN(1001, c.C)
	mean, invstd := make([]float32, c.C), make([]float32, c.C)
	fcW, fcB := randF32(r, F*c.C, -1, 1), make([]float32, F)
	pooled, logits, dlogits := make([]float32, n*c.C), make([]float32, n*F), make([]float32, n*F)
	labels := []int32{0, 1, 4}
	for _, k := range []struct {
		name string
		run  func()
	}{
		{"ConvForward", func() { ConvForward(ctx, n, &c, x, w, pre, y, y) }},
		{"ConvForward 3x3/1", func() { ConvForward(ctx, n, &wc, wx, ww, wpre, wy, wy) }},
		{"ConvForward 3x3/1 n=1", func() { ConvForward(ctx, 1, &wc, wx, ww, wpre, nil, wy) }},
		{"ConvBackward 3x3/1", func() { ConvBackward(ctx, n, &wc, wx, ww, wpre, wy, wdw, wdz, true) }},
		{"ConvForward pointwise", func() { ConvForward(ctx, n, &pw, x, w[:pw.K*pw.C], nil, nil, ypw) }},
		{"ConvBackward", func() { ConvBackward(ctx, n, &c, x, w, pre, dy, dw, dz, true) }},
		{"ConvBackward pointwise", func() { ConvBackward(ctx, n, &pw, x, w[:pw.K*pw.C], pre, ypw, dw[:pw.K*pw.C], dz, false) }},
		{"BNTrain", func() {
			BNTrain(ctx, n, c.C, hw, x, p.gamma, p.beta, p.runMean, p.runVar, mean, invstd, pre.Scale, pre.Shift)
		}},
		{"BNInfer", func() { BNInfer(c.C, p.gamma, p.beta, p.runMean, p.runVar, pre.Scale, pre.Shift) }},
		{"BNReLUBackward", func() {
			BNReLUBackward(ctx, n, c.C, hw, x, mean, invstd, p.gamma, pre, dz, x, true, p.runMean, p.runVar)
		}},
		{"HeadForward", func() { HeadForward(ctx, n, c.C, hw, F, x, pre.Scale, pre.Shift, fcW, fcB, pooled, logits) }},
		{"HeadBackward", func() { HeadBackward(ctx, n, c.C, hw, F, pooled, fcW, dlogits, fcW, fcB, dz) }},
		{"SoftmaxCE", func() { SoftmaxCE(n, F, logits, labels, dlogits) }},
	} {
		k.run()
		if a := testing.AllocsPerRun(5, k.run); a != 0 {
			t.Errorf("%s: %.1f allocations per call, want 0", k.name, a)
		}
	}
}
