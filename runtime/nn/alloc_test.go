package nn

import (
	"testing"

	"github.com/wrnc/wrnc/runtime/contract"
)

// TestNoAllocs checks that every kernel, after a first call, runs without allocating (on
// two threads, with a batch that takes both the image-parallel and the single-image path).
func TestNoAllocs(t *testing.T) {
	const n, F = 3, 5
	c := mkConv(8, 9, 6, 6, 3, 2, 1)
	pw := mkConv(8, 9, 6, 6, 1, 1, 0)
	wc := mkConv(16, 8, 8, 16, 3, 1, 1) // a Winograd shape
	r := newRand(1000)
	ctx := newTestCtx(t, 2, WorkspaceFor(c, pw, wc))
	wx := randF32(r, n*wc.C*wc.H*wc.W, -1, 1)
	ww := randF32(r, wc.K*wc.C*9, -1, 1)
	wpre := randPre(r, wc.C, 0, 0)
	wy := make([]float32, n*wc.K*wc.H*wc.W)
	wdw, wdz := make([]float32, len(ww)), make([]float32, len(wx))
	u2 := make([]float32, contract.WinogradWeightsLen(&wc, 2, false))
	u4 := make([]float32, contract.WinogradWeightsLen(&wc, 4, false))
	u4d := make([]float32, contract.WinogradWeightsLen(&wc, 4, true))
	hw := c.H * c.W
	x := randF32(r, n*c.C*hw, -1, 1)
	w := randF32(r, c.K*c.C*c.R*c.R, -1, 1)
	wp := make([]float32, contract.RowWeightsLen(&c, false))
	wk := make([]float32, contract.RowWeightsLen(&c, true))
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
	params, grads := randF32(r, 3*sgdGrain, -1, 1), randF32(r, 3*sgdGrain, -1, 1)
	buf := make([]float32, len(params))
	sgd := SGDArgs{LR: 1e-3, Momentum: 0.9, WeightDecay: 5e-4, Nesterov: true}
	mp := Pool{C: c.C, H: c.H, W: c.W, R: 3, S: 2, P: 1, OH: c.OH, OW: c.OW}
	ppre := &Pre{Scale: pre.Scale, Shift: pre.Shift}
	fg, fv := randF32(r, 32, 0.5, 1.5), randF32(r, 32, 0.5, 2) // a BN folded into the weights
	my, mdy := make([]float32, n*mp.C*mp.OH*mp.OW), randF32(r, n*mp.C*mp.OH*mp.OW, -1, 1)
	az := make([]float32, len(x))
	for _, k := range []struct {
		name string
		run  func()
	}{
		{"Im2colForward", func() { Im2colForward(ctx, n, &c, x, w, pre, y, y) }},
		{"Im2colForward without a Pre", func() { Im2colForward(ctx, n, &c, x, w, nil, nil, y) }},
		{"Im2colBackward", func() { Im2colBackward(ctx, n, &c, x, w, pre, dy, dw, dz, true) }},
		{"Im2colBackward dz", func() { Im2colBackward(ctx, n, &c, x, w, pre, dy, nil, dz, true) }},
		{"RowWeights", func() { RowWeights(ctx, &c, w, wp) }},
		{"RowWeightsT", func() { RowWeightsT(ctx, &c, w, wk) }},
		{"RowWeightsFolded", func() { RowWeightsFolded(ctx, &c, fg[:c.K], fv[:c.K], w, wp) }},
		{"Im2rowForward", func() { Im2rowForward(ctx, n, &c, x, wp, pre, y, y) }},
		{"Im2rowBackward", func() { Im2rowBackward(ctx, n, &c, x, wk, pre, dy, dw, dz, true) }},
		{"PointwiseForward", func() { PointwiseForward(ctx, n, &pw, x, w[:pw.K*pw.C], nil, nil, ypw) }},
		{"PointwiseForward pre", func() { PointwiseForward(ctx, 1, &pw, x, w[:pw.K*pw.C], pre, nil, ypw) }},
		{"PointwiseBackward", func() { PointwiseBackward(ctx, n, &pw, x, w[:pw.K*pw.C], pre, ypw, dw[:pw.K*pw.C], dz, false) }},
		{"WinogradWeights F2", func() { WinogradWeights(ctx, &wc, 2, false, ww, u2) }},
		{"WinogradWeights F4", func() { WinogradWeights(ctx, &wc, 4, false, ww, u4) }},
		{"WinogradWeights F4 dgrad", func() { WinogradWeights(ctx, &wc, 4, true, ww, u4d) }},
		{"WinogradWeightsFolded F4", func() { WinogradWeightsFolded(ctx, &wc, 4, fg[:wc.K], fv[:wc.K], ww, u4) }},
		{"WinogradForward F2", func() { WinogradForward(ctx, n, &wc, 2, wx, u2, wpre, wy, wy) }},
		{"WinogradForward F4", func() { WinogradForward(ctx, n, &wc, 4, wx, u4, wpre, wy, wy) }},
		{"WinogradForward F4 n=1", func() { WinogradForward(ctx, 1, &wc, 4, wx, u4, wpre, nil, wy) }},
		{"WinogradDgrad F4", func() { WinogradDgrad(ctx, n, &wc, 4, u4d, wy, wdz, true) }},
		{"WinogradWgrad F2", func() { WinogradWgrad(ctx, n, &wc, 2, wx, wpre, wy, wdw) }},
		{"WinogradWgrad F4", func() { WinogradWgrad(ctx, 1, &wc, 4, wx, wpre, wy, wdw) }},
		{"BNTrain", func() {
			BNTrain(ctx, n, c.C, hw, x, p.gamma, p.beta, p.runMean, p.runVar, mean, invstd, pre.Scale, pre.Shift)
		}},
		{"BNInfer", func() { BNInfer(c.C, p.gamma, p.beta, p.runMean, p.runVar, pre.Scale, pre.Shift) }},
		{"BNReLUBackward", func() {
			BNReLUBackward(ctx, n, c.C, hw, x, mean, invstd, p.gamma, pre, dz, x, true, p.runMean, p.runVar)
		}},
		{"BNBackward", func() {
			BNBackward(ctx, n, c.C, hw, x, mean, invstd, p.gamma, dz, az, true, p.runMean, p.runVar)
		}},
		{"MaxPoolForward", func() { MaxPoolForward(ctx, n, &mp, x, nil, my) }},
		{"MaxPoolForward pre", func() { MaxPoolForward(ctx, n, &mp, x, ppre, my) }},
		{"MaxPoolBackward", func() { MaxPoolBackward(ctx, n, &mp, x, ppre, mdy, dz) }},
		{"AddReLUForward", func() { AddReLUForward(ctx, n, c.C, hw, x, pre.Scale, pre.Shift, dz, nil, nil, az) }},
		{"AddReLUForward bn", func() {
			AddReLUForward(ctx, n, c.C, hw, x, pre.Scale, pre.Shift, dz, p.gamma, p.beta, az)
		}},
		{"AddReLUBackward", func() { AddReLUBackward(ctx, n, c.C, hw, az, dz, dz) }},
		{"HeadForward nil", func() { HeadForward(ctx, n, c.C, hw, F, x, nil, nil, fcW, fcB, pooled, logits) }},
		{"HeadForward", func() { HeadForward(ctx, n, c.C, hw, F, x, pre.Scale, pre.Shift, fcW, fcB, pooled, logits) }},
		{"HeadBackward", func() { HeadBackward(ctx, n, c.C, hw, F, pooled, fcW, dlogits, fcW, fcB, dz) }},
		{"SoftmaxCE", func() { SoftmaxCE(n, F, logits, labels, dlogits) }},
		{"SGDStep", func() { SGDStep(ctx, params, grads, buf, sgd, false) }},
	} {
		k.run()
		if a := testing.AllocsPerRun(5, k.run); a != 0 {
			t.Errorf("%s: %.1f allocations per call, want 0", k.name, a)
		}
	}
}
