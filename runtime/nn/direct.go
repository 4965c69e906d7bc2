package nn

// The im2row method, for convolutions that Winograd does not take (strided, 1x1) with at
// least 8 input channels: one GEMM per chunk of output pixels, with the im2row matrix built from
// a channel-blocked copy of the input instead of an im2col of the NCHW planes:
//
//	z    the input rows a chunk reads, loaded through the Pre, c8 (cpu.PackC8), all
//	     channel blocks: cp/8 x zRows x wz vectors, zero padding included
//	a    P x d: row p holds the receptive field of output pixel p, depth
//	     d = (i*R + j)*cp + c (one c8 vector copy per (i, j, channel block))
//	out  P x kp: a times the packed weights (d x K), unpacked to NCHW (with the residual)
//
// cp is C rounded up to 8, kp is K rounded up to 16.

// rowShape is the geometry of the im2row convolution of one Conv.
type rowShape struct {
	cp, d, kp int
	wz        int // z row length in vectors: W + 2P
	rows, p   int // output rows of a chunk, and its most pixels
}

// rowMinC is the fewest input channels the im2row path takes (fewer would waste
// most of a c8 vector).
const rowMinC = 8

// rowDepths returns the shape's channel and depth sizes, which the packed weights depend
// on (the chunking does not).
func rowDepths(c *Conv) rowShape {
	s := rowShape{cp: (c.C + 7) &^ 7, kp: (c.K + 15) &^ 15, wz: c.W + 2*c.P}
	s.d = c.R * c.R * s.cp
	return s
}

func newRowShape(c *Conv, n, threads int) rowShape {
	s := rowDepths(c)
	// Aim for an a of about 48K floats (L2), at least 24 pixels; then make enough
	// chunks for the threads.
	target := max(48<<10/s.d, 24)
	s.rows = min(max(target/c.OW, 1), c.OH)
	// Few chunks: as many per image as makes their number a multiple of the threads, of
	// one size, when the rows allow.
	if per := (c.OH + s.rows - 1) / s.rows; n*per < 4*threads && threads > 1 {
		for want := (n*per + threads - 1) / threads * threads; want <= n*c.OH; want += threads {
			if want%n != 0 {
				continue
			}
			if rows := (c.OH + want/n - 1) / (want / n); (c.OH+rows-1)/rows == want/n {
				s.rows = rows
				break
			}
		}
	}
	s.p = s.rows * c.OW
	return s
}

// zRows is the input rows of a chunk of the shape's rows output rows.
func (s *rowShape) zRows(c *Conv) int { return (s.rows-1)*c.S + c.R }

// rowWeights writes wp, the weights of output panels [p0, p1) (16 channels each) packed
// as the GEMM's B (d x K): wp[k/16][(i*R+j)*cp + c][k%16] = w[k][c][i][j], zero for
// padding channels.
func rowWeights(s *rowShape, c *Conv, w, wp []float32, p0, p1 int) {
	rr := c.R * c.R
	for p := p0; p < p1; p++ {
		panel := wp[p*s.d*16 : (p+1)*s.d*16]
		clear(panel)
		for ch := 0; ch < c.C; ch++ {
			for ij := 0; ij < rr; ij++ {
				out := panel[(ij*s.cp+ch)*16 : (ij*s.cp+ch+1)*16]
				for q := range min(16, c.K-p*16) {
					out[q] = w[((p*16+q)*c.C+ch)*rr+ij]
				}
			}
		}
	}
}

// rowCall holds the arguments of the im2row convolution in progress.
type rowCall struct {
	s      rowShape
	c      Conv
	n      int
	x      []float32
	ld     loader
	wp     []float32
	res, y []float32
}

// rowWS is one thread's workspace of the im2row path.
type rowWS struct{ z, a, out, drop []float32 }

// RowWeights writes wp, the weights w [K,C,R,R] of c packed as Im2rowForward's GEMM
// operand: len(wp) == contract.RowWeightsLen(c, false), padding entries zeroed (wp need not
// be). Output panels are split over the pool's threads. The caller makes wp again
// whenever w changes.
func RowWeights(ctx *Ctx, c *Conv, w, wp []float32) {
	ctx.rc = rowCall{s: rowDepths(c), c: *c}
	ctx.wt = winoWT{w: w, u: wp}
	ctx.pool.For(ctx.rc.s.kp/16, ctx.rowWeightsBody)
	ctx.rc, ctx.wt = rowCall{}, winoWT{}
}

// Im2rowForward computes y[n,K,OH,OW] = conv(pre(x), w), plus res when res != nil, by
// im2row on channel-blocked input and GEMM, with wp the packed weights RowWeights made
// from w. For convolutions with at least 8 input channels (fewer waste most of each
// 8-channel vector). Preconditions are those of Im2colForward (conv.go).
func Im2rowForward(ctx *Ctx, n int, c *Conv, x, wp []float32, pre *Pre, res, y []float32) {
	rc := &ctx.rc
	*rc = rowCall{s: newRowShape(c, n, ctx.threads), c: *c, n: n, x: x, ld: makeLoader(pre), res: res, y: y, wp: wp}
	s := &rc.s
	zLen := s.cp * s.zRows(c) * s.wz
	for t := 0; t < ctx.threads; t++ {
		ws := &ctx.rws[t]
		growF32(&ws.z, zLen)
		growF32(&ws.a, s.p*s.d)
		growF32(&ws.out, s.p*s.kp)
		if rc.ld.drop {
			growF32(&ws.drop, 8*c.H*c.W)
		}
	}
	ctx.pool.ForChunk(n*((c.OH+s.rows-1)/s.rows), ctx.rowChunksBody)
	*rc = rowCall{}
}

// rowWeightsChannels packs the weights of output panels [lo, hi) for RowWeights.
func (ctx *Ctx) rowWeightsChannels(lo, hi int) {
	rc := &ctx.rc
	rowWeights(&rc.s, &rc.c, ctx.wt.w, ctx.wt.u, lo, hi)
}

// rowChunks runs chunks [lo, hi) on thread t.
func (ctx *Ctx) rowChunks(t, lo, hi int) {
	rc := &ctx.rc
	s, c := &rc.s, &rc.c
	ws := &ctx.rws[t]
	per := (c.OH + s.rows - 1) / s.rows
	zRows, zRow := s.zRows(c), s.wz*8
	src := zSrc{x: rc.x, ld: &rc.ld, c: c.C, h: c.H, w: c.W}
	for q := lo; q < hi; q++ {
		i, oy0 := q/per, q%per*s.rows
		oy1 := min(oy0+s.rows, c.OH)
		np := (oy1 - oy0) * c.OW
		for cb := 0; cb < s.cp/8; cb++ {
			ctx.packZ(src, ws.z[cb*zRows*zRow:], ws.drop, i, cb, oy0*c.S-c.P, zRows, c.P, zRow)
		}
		buildRows(s, c, ws.z, ws.a, oy0, oy1)
		ctx.kern.MulPacked(np, s.kp, s.d, ws.a, s.d, rc.wp, ws.out, s.kp, false)
		for kb := 0; kb < (c.K+7)/8; kb++ {
			off := ((i*c.K+kb*8)*c.OH + oy0) * c.OW
			var res []float32
			if rc.res != nil {
				res = rc.res[off:]
			}
			ctx.kern.UnpackC8(ws.out[kb*8:], c.OW*s.kp, s.kp, min(8, c.K-kb*8), c.OW, oy1-oy0, rc.y[off:], c.OW, c.OH*c.OW, res)
		}
	}
}

// buildRows writes a, the im2row rows of output rows [oy0, oy1) from z.
func buildRows(s *rowShape, c *Conv, z, a []float32, oy0, oy1 int) {
	zRows, zRow := s.zRows(c), s.wz*8
	nb := s.cp / 8
	p := 0
	for oy := oy0; oy < oy1; oy++ {
		zr := (oy - oy0) * c.S
		for ox := 0; ox < c.OW; ox++ {
			row := a[p*s.d : (p+1)*s.d]
			for i := 0; i < c.R; i++ {
				for j := 0; j < c.R; j++ {
					src := (zr+i)*zRow + (ox*c.S+j)*8
					dst := row[(i*c.R+j)*s.cp:]
					for cb := 0; cb < nb; cb++ {
						*(*[8]float32)(dst[cb*8:]) = *(*[8]float32)(z[cb*zRows*zRow+src:])
					}
				}
			}
			p++
		}
	}
}

// growF32 makes *b at least n long (only the first call of a larger shape allocates).
func growF32(b *[]float32, n int) {
	if len(*b) < n {
		*b = make([]float32, n)
	}
}
