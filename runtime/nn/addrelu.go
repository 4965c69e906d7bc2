package nn

// addCall holds the arguments of the AddReLUForward or AddReLUBackward in progress.
type addCall struct {
	c, hw               int
	y, scale, shift     []float32
	res, rscale, rshift []float32
	z, dz, g            []float32
}

// AddReLUForward computes the end of a post-activation residual block,
// z = max(0, (y*scale[c] + shift[c]) + r), where r = res*rscale[c] + rshift[c] when rscale
// is not nil (the BN of a downsampling shortcut) and r = res otherwise (an identity
// shortcut). Each product and each sum is rounded to float32, in that order, so that the
// ReLU mask is the one AddReLUBackward reads back from z. y, res and z are [n, C, HW]
// (z may be y or res itself); scale, shift and, when rscale is not nil, rscale and rshift
// hold C values. n, C, HW >= 1.
func AddReLUForward(ctx *Ctx, n, C, HW int, y, scale, shift, res, rscale, rshift, z []float32) {
	ctx.add = addCall{c: C, hw: HW, y: y, scale: scale, shift: shift, res: res, rscale: rscale, rshift: rshift, z: z}
	ctx.pool.For(n*C, ctx.addFwdBody)
	ctx.add = addCall{}
}

// AddReLUBackward writes g = dz where z > 0, else 0, z being AddReLUForward's output: the
// gradient w.r.t. the sum inside its ReLU, and so w.r.t. both the block's BN output and
// the shortcut. z, dz and g are [n, C, HW]; g is overwritten and may
// be dz itself. n, C, HW >= 1.
func AddReLUBackward(ctx *Ctx, n, C, HW int, z, dz, g []float32) {
	ctx.add = addCall{c: C, hw: HW, z: z, dz: dz, g: g}
	ctx.pool.For(n*C, ctx.addBwdBody)
	ctx.add = addCall{}
}

// addForwardPlanes runs planes [lo, hi) (plane q: image q/C, channel q%C).
func (ctx *Ctx) addForwardPlanes(lo, hi int) {
	a := &ctx.add
	for q := lo; q < hi; q++ {
		ch := q % a.c
		ys := a.y[q*a.hw : (q+1)*a.hw]
		rs := a.res[q*a.hw : (q+1)*a.hw]
		zs := a.z[q*a.hw : (q+1)*a.hw]
		if a.rscale == nil {
			ctx.kern.AddReLU(zs, ys, rs, a.scale[ch], a.shift[ch])
		} else {
			ctx.kern.AddReLUBN(zs, ys, rs, a.scale[ch], a.shift[ch], a.rscale[ch], a.rshift[ch])
		}
	}
}

// addBackwardPlanes runs planes [lo, hi).
func (ctx *Ctx) addBackwardPlanes(lo, hi int) {
	a := &ctx.add
	ctx.kern.ReLUMask(a.g[lo*a.hw:hi*a.hw], a.z[lo*a.hw:hi*a.hw], a.dz[lo*a.hw:hi*a.hw])
}
