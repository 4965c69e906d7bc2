package nn

// BNReLUBackward takes dz [n, C, HW], the gradient w.r.t. z = drop(relu(bn(x))) where bn
// normalized x with its batch statistics (mean, invstd as BNTrain saved them) and pre is
// the Pre that BNTrain's scale and shift (and the dropout) made for the conv that loaded z.
// It writes dgamma and dbeta (overwritten) and dx, the gradient w.r.t. x through the batch
// statistics: added to dx when accDx, else overwriting it (then dx may be dz itself, for an
// in-place update). Sums are in float64. n, C, HW >= 1; pre is not nil and has C scales
// and shifts; x, dz, dx hold n*C*HW values, the other slices C each.
func BNReLUBackward(ctx *Ctx, n, C, HW int, x, mean, invstd, gamma []float32, pre *Pre, dz, dx []float32, accDx bool, dgamma, dbeta []float32) {
	ctx.bnBackward(bnCall{n: n, c: C, hw: HW, x: x, mean: mean, invstd: invstd, gamma: gamma, ld: makeLoader(pre),
		dz: dz, dx: dx, accDx: accDx, dgamma: dgamma, dbeta: dbeta})
}

// BNBackward is BNReLUBackward for a BN with no ReLU after it (the last BN of a
// post-activation residual block, or of its downsampling shortcut, whose gradient
// AddReLUBackward gives): dz is the gradient w.r.t. bn(x) itself. It writes dgamma and
// dbeta (overwritten) and dx through the batch statistics (mean, invstd as BNTrain saved
// them): added to dx when accDx, else overwriting it (then dx may be dz itself). Under
// SetBNSum the sums for dx are over all processes, as BNReLUBackward's. n, C, HW >= 1; x,
// dz, dx hold n*C*HW values, the other slices C each.
func BNBackward(ctx *Ctx, n, C, HW int, x, mean, invstd, gamma, dz, dx []float32, accDx bool, dgamma, dbeta []float32) {
	ctx.bnBackward(bnCall{n: n, c: C, hw: HW, x: x, mean: mean, invstd: invstd, gamma: gamma,
		dz: dz, dx: dx, accDx: accDx, dgamma: dgamma, dbeta: dbeta}) // the zero loader: no ReLU
}

// bnBackward runs the BN backward pass b, over the channels or, under SetBNSum, with the
// sums over all processes.
func (ctx *Ctx) bnBackward(b bnCall) {
	ctx.bn = b
	if ctx.bnSum != nil {
		ctx.bnBackSync()
	} else {
		ctx.pool.For(b.c, ctx.bnBackBody)
	}
	ctx.bn = bnCall{}
}

// mask returns the scale and shift whose BN-ReLU decides which g of channel ch pass: the
// Pre's, or, when the call has none (BNBackward), 0 and 1, which let every finite x
// through (float32(x*0)+1 = 1 > 0), so that the ReLU kernels of package cpu sum and apply
// g = dz unmasked. (An infinite or NaN x would be masked; its batch statistics, and so
// every gradient of its channel, are not finite anyway.)
func (b *bnCall) mask(ch int) (sc, sh float32) {
	if !b.ld.on {
		return 0, 1
	}
	return b.ld.scale[ch], b.ld.shift[ch]
}

// bnBackChannels computes the gradients of channels [lo, hi).
//
// With g = dz * drop mask/(1-p) * [bn(x) > 0] (g = dz for BNBackward) and
// xhat = (x-mean)*invstd over the N = n*HW values of a channel: dbeta = sum g,
// dgamma = sum g*xhat,
// dx = gamma*invstd/N * (N*g - dbeta - xhat*dgamma), evaluated per element as
// float32(a*g + b + c*x) in float64 with a, b, c constants of the channel.
func (ctx *Ctx) bnBackChannels(lo, hi int) {
	b := &ctx.bn
	cnt := float64(b.n * b.hw)
	for ch := lo; ch < hi; ch++ {
		sg, sgx := ctx.bnGradSums(ch) // sum g, sum g*x
		b.dbeta[ch], b.dgamma[ch] = float32(sg), float32(b.gxhat(ch, sg, sgx))
		ctx.bnDx(ch, sg, sgx, cnt)
	}
}

// bnGradSums returns sum g and sum g*x of channel ch over this call's images.
func (ctx *Ctx) bnGradSums(ch int) (sg, sgx float64) {
	b := &ctx.bn
	for i := 0; i < b.n; i++ {
		off := (i*b.c + ch) * b.hw
		var s1, s2 float64
		if b.ld.drop {
			s1, s2 = b.sums(ch, off)
		} else {
			sc, sh := b.mask(ch)
			s1, s2 = ctx.kern.ReLUGradSums(b.x[off:off+b.hw], b.dz[off:off+b.hw], sc, sh)
		}
		sg += s1
		sgx += s2
	}
	return sg, sgx
}

// gxhat is sum g*xhat of channel ch from sum g and sum g*x.
func (b *bnCall) gxhat(ch int, sg, sgx float64) float64 {
	return (sgx - float64(b.mean[ch])*sg) * float64(b.invstd[ch])
}

// bnDx writes dx of channel ch from sum g and sum g*x over cnt values.
func (ctx *Ctx) bnDx(ch int, sg, sgx, cnt float64) {
	b := &ctx.bn
	m, is := float64(b.mean[ch]), float64(b.invstd[ch])
	k := float64(b.gamma[ch]) * is / cnt
	ca, cc := k*cnt, -k*is*b.gxhat(ch, sg, sgx)
	cb := -k*sg - cc*m
	sc, sh := b.mask(ch)
	for i := 0; i < b.n; i++ {
		off := (i*b.c + ch) * b.hw
		if b.ld.drop {
			b.dxPlane(ch, off, ca, cb, cc)
			continue
		}
		ctx.kern.ReLUGradDx(b.x[off:off+b.hw], b.dz[off:off+b.hw], b.dx[off:off+b.hw],
			sc, sh, ca, cb, cc, b.accDx)
	}
}

// sums returns sum g and sum g*x over the plane at off (channel ch), with dropout.
func (b *bnCall) sums(ch, off int) (sg, sgx float64) {
	xs := b.x[off : off+b.hw]
	dz := b.dz[off : off+b.hw]
	dz = dz[:len(xs)]
	for j, v := range xs {
		g := b.grad(ch, off+j, v, dz[j])
		sg += g
		sgx += g * float64(v)
	}
	return sg, sgx
}

// dxPlane writes (or adds) dx = a*g + b + c*x over the plane at off (channel ch), with
// dropout.
func (b *bnCall) dxPlane(ch, off int, ca, cb, cc float64) {
	xs := b.x[off : off+b.hw]
	dz := b.dz[off : off+b.hw]
	dx := b.dx[off : off+b.hw]
	dz, dx = dz[:len(xs)], dx[:len(xs)]
	for j, v := range xs {
		d := float32(ca*b.grad(ch, off+j, v, dz[j]) + cb + cc*float64(v))
		if b.accDx {
			d += dx[j]
		}
		dx[j] = d
	}
}

// grad returns the gradient w.r.t. bn(x) of element idx (value v, channel ch) given dz:
// dz through the dropout mask and the ReLU.
func (b *bnCall) grad(ch, idx int, v, dz float32) float64 {
	l := &b.ld
	if bnrelu(v, l.scale[ch], l.shift[ch]) <= 0 {
		return 0
	}
	if !l.drop {
		return float64(dz)
	}
	if keepBits(l.seed, uint64(idx)) < l.thr {
		return 0
	}
	return float64(dz) * float64(l.inv)
}
