package nn

// headCall holds the arguments of the HeadForward or HeadBackward in progress.
type headCall struct {
	n, c, hw, f          int
	x, scale, shift, fcW []float32
	pooled               []float32
	dlogits, dfcW, dz    []float32
}

// HeadForward computes pooled[n,C] = the mean over HW of relu(x*scale+shift) (x is
// [n,C,HW]), accumulated in float64, and logits[n,F] = pooled * fcW^T + fcB (fcW is
// [F,C]) by a float32 GEMM.
// scale and shift nil mean no BN-ReLU on load: pooled is the mean of x itself (the head of
// a post-activation network, whose last block ends in a ReLU). n, C, HW, F >= 1 and every
// other slice holds the values its shape says.
func HeadForward(ctx *Ctx, n, C, HW, F int, x, scale, shift, fcW, fcB, pooled, logits []float32) {
	ctx.head = headCall{n: n, c: C, hw: HW, f: F, x: x, scale: scale, shift: shift, pooled: pooled}
	ctx.pool.For(n, ctx.headFwdBody)
	ctx.head = headCall{}
	// The FC layer: one float32 GEMM (logits = pooled * fcW^T), then the bias. A float64
	// dot product per (image, class) took 15.8 ms of WRN-50-2's batch of 16 on 2 threads
	// (2048 -> 1000, AMD EPYC Zen 5).
	ctx.gemm.Do(false, true, n, F, C, pooled, C, fcW, C, logits, F, false)
	for i := 0; i < n; i++ {
		l := logits[i*F : (i+1)*F]
		for f, b := range fcB[:F] {
			l[f] += b
		}
	}
}

// headForwardImages pools images [lo, hi).
func (ctx *Ctx) headForwardImages(lo, hi int) {
	h := &ctx.head
	for i := lo; i < hi; i++ {
		p := h.pooled[i*h.c : (i+1)*h.c]
		for ch := range p {
			xs := h.x[(i*h.c+ch)*h.hw : (i*h.c+ch+1)*h.hw]
			var s float64
			if h.scale == nil {
				s = ctx.kern.SumF64(xs)
			} else {
				sc, sh := h.scale[ch], h.shift[ch]
				for _, v := range xs {
					s += float64(bnrelu(v, sc, sh))
				}
			}
			p[ch] = float32(s / float64(h.hw))
		}
	}
}

// HeadBackward takes dlogits [n,F] and writes dfcW [F,C] and dfcB [F] (overwritten) and
// dz [n,C,HW] (overwritten), the gradient w.r.t. relu(bn(x)) of HeadForward, which the
// caller passes on to BNReLUBackward of the head's BN (w.r.t. x itself when HeadForward
// had no scale and shift). pooled is HeadForward's. n, C, HW, F >= 1 and every slice
// holds the values its shape says.
func HeadBackward(ctx *Ctx, n, C, HW, F int, pooled, fcW, dlogits, dfcW, dfcB, dz []float32) {
	for f := 0; f < F; f++ {
		var s float64
		for i := 0; i < n; i++ {
			s += float64(dlogits[i*F+f])
		}
		dfcB[f] = float32(s)
	}
	ctx.head = headCall{n: n, c: C, hw: HW, f: F, pooled: pooled, fcW: fcW, dlogits: dlogits, dfcW: dfcW, dz: dz}
	ctx.pool.For(C, ctx.headBwdBody)
	ctx.head = headCall{}
}

// headBackwardChannels computes the gradients of channels [lo, hi).
func (ctx *Ctx) headBackwardChannels(lo, hi int) {
	h := &ctx.head
	for ch := lo; ch < hi; ch++ {
		for f := 0; f < h.f; f++ {
			var s float64
			for i := 0; i < h.n; i++ {
				s += float64(h.dlogits[i*h.f+f]) * float64(h.pooled[i*h.c+ch])
			}
			h.dfcW[f*h.c+ch] = float32(s)
		}
		for i := 0; i < h.n; i++ {
			var s float64
			for f, d := range h.dlogits[i*h.f : (i+1)*h.f] {
				s += float64(d) * float64(h.fcW[f*h.c+ch])
			}
			g := float32(s / float64(h.hw))
			dz := h.dz[(i*h.c+ch)*h.hw : (i*h.c+ch+1)*h.hw]
			for j := range dz {
				dz[j] = g
			}
		}
	}
}
