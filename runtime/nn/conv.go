package nn

import "github.com/wrnc/wrnc/runtime/cpu"

// convCall holds the arguments of the im2col or pointwise convolution in progress.
type convCall struct {
	n          int
	c          Conv
	x, w       []float32
	ld         loader
	res, y     []float32 // forward
	dy, dw, dz []float32 // backward
	accDz      bool
	skipDW     bool // backward: no weight gradient (dw == nil)
	img        int  // the image of a one-image step (loadChannels)
	groups     int  // backward: the groups of images the weight gradient is summed in
}

// Preconditions shared by the convolution methods (the caller, generated code, checks its
// whole plan once, up front; the kernels do not check and do not panic): CheckConv(c, n)
// is nil and c fits the workspace of ctx (Ctx.Check); x holds n*C*H*W values, the weights
// w K*C*R*R, y and res (when not nil) n*K*OH*OW, dy n*K*OH*OW, dw K*C*R*R and dz (when
// not nil) n*C*H*W; a non-nil pre has C scales and shifts. Derived weights (u, wp, wk)
// are those that WinogradWeights, RowWeights and RowWeightsT made from the current
// weights, of the contract's sizes. res may be y itself (an in-place residual add); no
// other output may alias an input.

// Im2colForward computes y[n,K,OH,OW] = conv(pre(x), w), plus res when res != nil, by
// im2col of the NCHW planes and one GEMM per image: the method for convolutions with few
// input channels. The convolution has no bias. Without a pre the columns are written
// straight into the GEMM's packed panels, in blocks of pixels over the threads
// (colpanels.go).
func Im2colForward(ctx *Ctx, n int, c *Conv, x, w []float32, pre *Pre, res, y []float32) {
	if pre == nil {
		ctx.colPanelsForward(n, c, x, w, res, y)
		return
	}
	ctx.im2colForward(n, c, x, w, pre, res, y)
}

// PointwiseForward is Im2colForward for a 1x1 unpadded convolution (c.OneByOne()): the
// input planes are the GEMM's column matrix (every S-th pixel of every S-th row when
// strided, gathered first), packed into micro-panels through pre (without dropout) as the
// GEMM consumes them (pointwise.go); with dropout they are loaded through pre into the
// workspace first.
func PointwiseForward(ctx *Ctx, n int, c *Conv, x, w []float32, pre *Pre, res, y []float32) {
	if pre != nil && pre.Drop > 0 {
		ctx.im2colForward(n, c, x, w, pre, res, y)
		return
	}
	ctx.pointwiseForward(n, c, x, w, pre, res, y)
}

// im2colForward is Im2colForward and PointwiseForward: images split over the threads,
// the rest one at a time on all threads.
func (ctx *Ctx) im2colForward(n int, c *Conv, x, w []float32, pre *Pre, res, y []float32) {
	cc := &ctx.conv
	*cc = convCall{n: n, c: *c, x: x, w: w, ld: makeLoader(pre), res: res, y: y}
	nb := n - n%ctx.threads
	if nb > 0 {
		ctx.pool.ForChunk(nb, ctx.fwdBody)
	}
	for i := nb; i < n; i++ {
		col, _ := ctx.scratch(0)
		ctx.forwardImage(ctx.gemm, i, ctx.loadWide(i, col))
	}
	*cc = convCall{} // drop references to the caller's slices
}

// forwardImages runs images [lo, hi) on thread t.
func (ctx *Ctx) forwardImages(t, lo, hi int) {
	col, plane := ctx.scratch(t)
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
	col, _ := ctx.scratch(0)
	_, plane := ctx.scratch(t)
	cc.ld.cols(&cc.c, cc.img, cc.image(cc.img), col, plane, lo, hi)
}
