package nn

import "github.com/wrnc/wrnc/runtime/cpu"

// Im2colBackward takes dy [n,K,OH,OW], the gradient of the loss w.r.t. the output of
// Im2colForward(x, w, pre), and computes by im2col and GEMM: when dw != nil, dw [K,C,R,R]
// (overwritten), the gradient w.r.t. w, from pre(x) recomputed; when dz != nil, the
// gradient w.r.t. the conv's loaded input z = pre(x) into dz [n,C,H,W], added to dz when
// acc, else overwriting it. Either may be nil, so that it pairs with another method
// (Winograd) for the other pass. The gradient w.r.t. res is dy itself. Preconditions are
// those of Im2colForward (conv.go).
func Im2colBackward(ctx *Ctx, n int, c *Conv, x, w []float32, pre *Pre, dy, dw, dz []float32, acc bool) {
	if dw == nil && dz == nil {
		return
	}
	ctx.im2colBackward(n, c, x, w, pre, dy, dw, dz, acc, dw == nil)
}

// PointwiseBackward is Im2colBackward for a 1x1, stride 1, unpadded convolution
// (c.Pointwise()): the input planes (through pre) are the column matrix, and the input
// gradient is one GEMM per image without col2im.
func PointwiseBackward(ctx *Ctx, n int, c *Conv, x, w []float32, pre *Pre, dy, dw, dz []float32, acc bool) {
	Im2colBackward(ctx, n, c, x, w, pre, dy, dw, dz, acc)
}

// im2colBackward is Im2colBackward, without dw when skipDW.
func (ctx *Ctx) im2colBackward(n int, c *Conv, x, w []float32, pre *Pre, dy, dw, dz []float32, accDz, skipDW bool) {
	cc := &ctx.conv
	*cc = convCall{n: n, c: *c, x: x, w: w, ld: makeLoader(pre), dy: dy, dw: dw, dz: dz, accDz: accDz, skipDW: skipDW}
	nb := n - n%ctx.threads
	if nb > 0 {
		clear(ctx.used)
		ctx.pool.ForChunk(nb, ctx.bwdBody)
		for t := 1; t < ctx.threads && !skipDW; t++ {
			if ctx.used[t] {
				ctx.pool.For(c.WeightLen(), ctx.reduceBody)
				break
			}
		}
	}
	for i := nb; i < n; i++ {
		col, _, _ := ctx.scratch(0)
		b := ctx.loadWide(i, col)
		if !skipDW {
			ctx.weightGrad(ctx.gemm, i, b, cc.dw, i > 0)
		}
		if dz != nil {
			ctx.inputGrad(ctx.gemm, i, col, true)
		}
	}
	*cc = convCall{} // drop references to the caller's slices
}

// backwardImages runs images [lo, hi) on thread t: thread 0 sums its weight gradient into
// dw itself, thread t > 0 into its own partial, added to dw by reduceDW.
func (ctx *Ctx) backwardImages(t, lo, hi int) {
	ctx.used[t] = true
	cc := &ctx.conv
	col, dwp, plane := ctx.scratch(t)
	if t == 0 {
		dwp = cc.dw
	}
	g := ctx.serial[t]
	for i := lo; i < hi; i++ {
		b := ctx.load(i, col, plane)
		if !cc.skipDW {
			ctx.weightGrad(g, i, b, dwp, i > lo)
		}
		if cc.dz != nil {
			ctx.inputGrad(g, i, col, false)
		}
	}
}

// weightGrad computes dw (+)= dy_i * b^T, b the column matrix of image i.
func (ctx *Ctx) weightGrad(g *cpu.Gemm, i int, b, dw []float32, acc bool) {
	cc := &ctx.conv
	c := &cc.c
	n, kk := c.OH*c.OW, c.C*c.R*c.R
	g.Do(false, true, c.K, kk, n, cc.dy[i*c.K*n:(i+1)*c.K*n], n, b, n, dw, kk, acc)
}

// inputGrad computes dz_i (+)= col2im(w^T * dy_i), using col as scratch; wide splits the
// col2im over the pool's threads by channels.
func (ctx *Ctx) inputGrad(g *cpu.Gemm, i int, col []float32, wide bool) {
	cc := &ctx.conv
	c := &cc.c
	n, kk, in := c.OH*c.OW, c.C*c.R*c.R, c.C*c.H*c.W
	dyi := cc.dy[i*c.K*n : (i+1)*c.K*n]
	if c.Pointwise() {
		g.Do(true, false, c.C, n, c.K, cc.w, c.C, dyi, n, cc.dz[i*in:(i+1)*in], n, cc.accDz)
		return
	}
	g.Do(true, false, kk, n, c.K, cc.w, kk, dyi, n, col, n, false)
	if wide {
		cc.img = i
		ctx.pool.ForChunk(c.C, ctx.col2imBody)
		return
	}
	ctx.col2im(i, col, 0, c.C)
}

// col2imChannels adds the column gradient of channels [lo, hi) of image ctx.conv.img,
// held in thread 0's columns, into dz.
func (ctx *Ctx) col2imChannels(_, lo, hi int) {
	col, _, _ := ctx.scratch(0)
	ctx.col2im(ctx.conv.img, col, lo, hi)
}

// col2im folds the column gradient col of image i, channels [c0, c1), into dz.
func (ctx *Ctx) col2im(i int, col []float32, c0, c1 int) {
	cc := &ctx.conv
	c := &cc.c
	hw, rn := c.H*c.W, c.R*c.R*c.OH*c.OW
	dzi := cc.dz[i*c.C*hw : (i+1)*c.C*hw]
	for ch := c0; ch < c1; ch++ {
		plane := dzi[ch*hw : (ch+1)*hw]
		if !cc.accDz {
			clear(plane)
		}
		col2imPlane(c, plane, col[ch*rn:(ch+1)*rn])
	}
}

// reduceDW adds the partial weight gradients of threads 1.. that ran into dw[lo:hi].
func (ctx *Ctx) reduceDW(lo, hi int) {
	dw := ctx.conv.dw[lo:hi]
	for t := 1; t < ctx.threads; t++ {
		if !ctx.used[t] {
			continue
		}
		_, dwp, _ := ctx.scratch(t)
		for j, v := range dwp[lo:hi] {
			dw[j] += v
		}
	}
}
