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

// im2colBackward is Im2colBackward, without dw when skipDW. The images are cut into
// sumGroups(n) groups that the threads take whole: each group's weight gradient is summed
// over its images in order (the first group's into dw itself, the others' into partials of
// their own) and the partials are added to dw in group order, so that dw does not depend
// on the thread count.
func (ctx *Ctx) im2colBackward(n int, c *Conv, x, w []float32, pre *Pre, dy, dw, dz []float32, accDz, skipDW bool) {
	cc := &ctx.conv
	*cc = convCall{n: n, c: *c, x: x, w: w, ld: makeLoader(pre), dy: dy, dw: dw, dz: dz, accDz: accDz, skipDW: skipDW, groups: sumGroups(n)}
	if !skipDW {
		ctx.growParts(cc.groups, c.WeightLen())
	}
	ctx.pool.ForChunk(cc.groups, ctx.bwdBody)
	if !skipDW && cc.groups > 1 {
		ctx.pool.For(c.WeightLen(), ctx.reduceBody)
	}
	*cc = convCall{} // drop references to the caller's slices
}

// backwardImages runs the image groups [lo, hi) on thread t.
func (ctx *Ctx) backwardImages(t, lo, hi int) {
	cc := &ctx.conv
	col, plane := ctx.scratch(t)
	g := ctx.serial[t]
	for j := lo; j < hi; j++ {
		dwp := cc.dw
		if j > 0 && !cc.skipDW {
			dwp = ctx.parts[j][:cc.c.WeightLen()]
		}
		i0, i1 := groupBounds(j, cc.groups, cc.n)
		for i := i0; i < i1; i++ {
			b := ctx.load(i, col, plane)
			if !cc.skipDW {
				ctx.weightGrad(g, i, b, dwp, i > i0)
			}
			if cc.dz != nil {
				ctx.inputGrad(g, i, col)
			}
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

// inputGrad computes dz_i (+)= col2im(w^T * dy_i) with GEMM g, using col as scratch.
func (ctx *Ctx) inputGrad(g *cpu.Gemm, i int, col []float32) {
	cc := &ctx.conv
	c := &cc.c
	n, kk, in := c.OH*c.OW, c.C*c.R*c.R, c.C*c.H*c.W
	dyi := cc.dy[i*c.K*n : (i+1)*c.K*n]
	if c.Pointwise() {
		g.Do(true, false, c.C, n, c.K, cc.w, c.C, dyi, n, cc.dz[i*in:(i+1)*in], n, cc.accDz)
		return
	}
	g.Do(true, false, kk, n, c.K, cc.w, kk, dyi, n, col, n, false)
	ctx.col2im(i, col, 0, c.C)
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

// reduceDW adds the partial weight gradients of groups 1.. into dw[lo:hi], in order.
func (ctx *Ctx) reduceDW(lo, hi int) {
	dw := ctx.conv.dw[lo:hi]
	for j := 1; j < ctx.conv.groups; j++ {
		for k, v := range ctx.parts[j][lo:hi] {
			dw[k] += v
		}
	}
}

// maxSumGroups bounds the groups of images a weight gradient is summed in (sumGroups):
// a fixed number, not the thread count, so that the sums do not depend on it. Threads
// past it still share the other passes.
const maxSumGroups = 4

// sumGroups is how many groups the n images of a weight gradient are summed in.
func sumGroups(n int) int { return max(min(n, maxSumGroups), 1) }

// groupBounds returns the images [lo, hi) of group j of n images in groups groups.
func groupBounds(j, groups, n int) (lo, hi int) { return j * n / groups, (j + 1) * n / groups }

// growParts makes ctx.parts[1:groups] hold at least size floats each (parts[0] is never
// used: the first group sums into the result itself).
func (ctx *Ctx) growParts(groups, size int) {
	for j := 1; j < groups; j++ {
		growF32(&ctx.parts[j], size)
	}
}
