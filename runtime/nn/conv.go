package nn

import "github.com/wrnc/wrnc/runtime/cpu"

// convCall holds the arguments of the ConvForward or ConvBackward in progress.
type convCall struct {
	n          int
	c          Conv
	x, w       []float32
	ld         loader
	res, y     []float32 // forward
	dy, dw, dz []float32 // backward
	accDz      bool
	skipDW     bool // backward: dw is done elsewhere (Winograd)
	img        int  // the image of a one-image step (loadChannels, col2imChannels)
}

// mustConv checks the arguments common to ConvForward and ConvBackward.
func (ctx *Ctx) mustConv(op string, n int, c *Conv, x, w []float32, pre *Pre) {
	if err := ctx.Check(c); err != nil {
		panic("nn." + op + ": " + err.Error())
	}
	mustPositive(op, n)
	mustLen(op, "x", x, n*c.C*c.H*c.W)
	mustLen(op, "w", w, c.K*c.C*c.R*c.R)
	mustPre(op, pre, c.C)
}

// ConvForward computes y[n,K,OH,OW] = conv(pre(x), w), plus res when res != nil (same
// shape as y; res may be y itself, for an in-place residual add). x is [n,C,H,W], w is
// [K, C, R, R]; the convolution has no bias.
func ConvForward(ctx *Ctx, n int, c *Conv, x, w []float32, pre *Pre, res, y []float32) {
	ctx.mustConv("ConvForward", n, c, x, w, pre)
	out := n * c.K * c.OH * c.OW
	mustLen("ConvForward", "y", y, out)
	if res != nil {
		mustLen("ConvForward", "res", res, out)
	}
	if m := ctx.winoTile(c, n, dirForward); m > 0 {
		ctx.winoForward(n, c, x, w, pre, res, y, m)
		return
	}
	if ctx.useRows(c) {
		ctx.rowForward(n, c, x, w, pre, res, y)
		return
	}
	cc := &ctx.conv
	*cc = convCall{n: n, c: *c, x: x, w: w, ld: makeLoader(pre), res: res, y: y}
	nb := n - n%ctx.threads
	if nb > 0 {
		ctx.pool.ForChunk(nb, ctx.fwdBody)
	}
	for i := nb; i < n; i++ {
		col, _, _ := ctx.scratch(0)
		ctx.forwardImage(ctx.gemm, i, ctx.loadWide(i, col))
	}
	*cc = convCall{} // drop references to the caller's slices
}

// forwardImages runs images [lo, hi) on thread t.
func (ctx *Ctx) forwardImages(t, lo, hi int) {
	col, _, plane := ctx.scratch(t)
	for i := lo; i < hi; i++ {
		ctx.forwardImage(ctx.serial[t], i, ctx.load(i, col, plane))
	}
}

// forwardImage computes output image i from its column matrix b with GEMM g.
func (ctx *Ctx) forwardImage(g *cpu.Gemm, i int, b []float32) {
	cc := &ctx.conv
	c := &cc.c
	n, kk := c.OH*c.OW, c.C*c.R*c.R
	yi := cc.y[i*c.K*n : (i+1)*c.K*n]
	acc := cc.res != nil
	if acc {
		if ri := cc.res[i*c.K*n : (i+1)*c.K*n]; &ri[0] != &yi[0] {
			copy(yi, ri)
		}
	}
	g.Do(false, false, c.K, n, kk, cc.w, kk, b, n, yi, n, acc)
}

// image returns the C*H*W input values of image i.
func (cc *convCall) image(i int) []float32 {
	in := cc.c.C * cc.c.H * cc.c.W
	return cc.x[i*in : (i+1)*in]
}

// load returns the column matrix of image i, built on the calling thread into col (with
// plane as scratch), or the image itself for a pointwise conv without Pre.
func (ctx *Ctx) load(i int, col, plane []float32) []float32 {
	cc := &ctx.conv
	if cc.c.Pointwise() && !cc.ld.on {
		return cc.image(i)
	}
	cc.ld.cols(&cc.c, i, cc.image(i), col, plane, 0, cc.c.C)
	return col
}

// loadWide is load with the channels split over the pool's threads.
func (ctx *Ctx) loadWide(i int, col []float32) []float32 {
	cc := &ctx.conv
	if cc.c.Pointwise() && !cc.ld.on {
		return cc.image(i)
	}
	cc.img = i
	ctx.pool.ForChunk(cc.c.C, ctx.loadBody)
	return col
}

// loadChannels builds the column rows of channels [lo, hi) of image ctx.conv.img into
// thread 0's columns, with thread t's plane as scratch.
func (ctx *Ctx) loadChannels(t, lo, hi int) {
	cc := &ctx.conv
	col, _, _ := ctx.scratch(0)
	_, _, plane := ctx.scratch(t)
	cc.ld.cols(&cc.c, cc.img, cc.image(cc.img), col, plane, lo, hi)
}
