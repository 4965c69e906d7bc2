package nn

import "github.com/wrnc/wrnc/runtime/contract"

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
	lda       int // a's row length: d, or d+16 where d is a multiple of 512 (see rowLda)
	kb, pb    int // the forward pass's blocks of output panels per chunk, pb panels each
	imgs, oh  int // images per chunk (more than one only where rows == OH), and OH
}

// rowLda returns the leading dimension of an im2row matrix of depth d: d, padded by one
// line where d is a multiple of 512 floats, whose rows would alias in L1 and cost the
// micro-kernel half its rows (cpu kernelSet.tileRows).
func rowLda(d int) int {
	if d%512 == 0 {
		return d + 16
	}
	return d
}

// rowMinC is the fewest input channels the im2row path takes (fewer would waste
// most of a c8 vector).
const rowMinC = contract.RowMinChannels

// rowDepths returns the shape's channel and depth sizes, which the packed weights depend
// on (the chunking does not).
func rowDepths(c *Conv) rowShape {
	s := rowShape{cp: (c.C + 7) &^ 7, kp: (c.K + 15) &^ 15, wz: c.W + 2*c.P, imgs: 1, oh: c.OH}
	s.d = c.R * c.R * s.cp
	return s
}

func newRowShape(c *Conv, n, threads int) rowShape {
	s := rowDepths(c)
	s.lda = rowLda(s.d)
	s.imgs = 1
	// Aim for an a of about rowTarget floats, at least rowMinPixels pixels: the packed
	// weights are streamed once per chunk (from L3 or memory where they outgrow L2), so a
	// chunk must be wide to reuse them (measured at 14x14 and 7x7: 1.2-1.5x faster than
	// chunks of 24 pixels); small images are taken several to a chunk. Then make enough
	// chunks for the threads.
	target := max(min(rowTarget/s.d, rowMaxPixels), rowMinPixels)
	s.rows = min(max(target/c.OW, 1), c.OH)
	s.rows = (c.OH + (c.OH+s.rows-1)/s.rows - 1) / ((c.OH + s.rows - 1) / s.rows) // chunks of one size
	if s.rows == c.OH {
		// The fewest images that make target pixels and divide a thread's share of the
		// batch, so that the threads' chunks are of one size.
		share := (n + threads - 1) / threads
		s.imgs = share
		for g := max(1, target/(c.OH*c.OW)); g < share; g++ {
			if share%g == 0 {
				s.imgs = g
				break
			}
		}
	}
	s.kb, s.pb = 1, s.kp/16
	if s.chunks(n) >= 4*threads || threads == 1 {
		// Enough chunks.
	} else if c.K > c.OH*c.OW {
		// Few chunks, and weights that outweigh an image's rows: each chunk is split into
		// threads blocks of output channels, so that every thread streams only its share
		// of the weights.
		s.kb = min(threads, s.kp/16)
		s.pb = (s.kp/16 + s.kb - 1) / s.kb
		s.kb = (s.kp/16 + s.pb - 1) / s.pb
	} else if s.imgs == 1 {
		// Few chunks otherwise: as many per image as makes their number a multiple of
		// the threads, of one size, when the rows allow.
		per := (c.OH + s.rows - 1) / s.rows
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
	s.p = s.imgs * s.rows * c.OW
	return s
}

// chunks returns the forward pass's chunks of n images: imgs whole images each, or rows
// output rows of one image.
func (s *rowShape) chunks(n int) int {
	if s.imgs > 1 {
		return (n + s.imgs - 1) / s.imgs
	}
	return n * ((s.oh + s.rows - 1) / s.rows)
}

// chunk returns chunk q's images [i0, i1) and output rows [oy0, oy1) of each.
func (s *rowShape) chunk(q, n int) (i0, i1, oy0, oy1 int) {
	if s.imgs > 1 {
		return q * s.imgs, min(n, (q+1)*s.imgs), 0, s.oh
	}
	per := (s.oh + s.rows - 1) / s.rows
	i0, oy0 = q/per, q%per*s.rows
	return i0, i0 + 1, oy0, min(oy0+s.rows, s.oh)
}

// rowTarget, rowMinPixels and rowMaxPixels size the chunks of the forward pass (newRowShape).
const (
	rowTarget    = 256 << 10
	rowMinPixels = 192
	rowMaxPixels = 256
)

// zRows is the input rows of a chunk of the shape's rows output rows.
func (s *rowShape) zRows(c *Conv) int { return (s.rows-1)*c.S + c.R }

// rowWeights writes wp, the weights of output panels [p0, p1) (16 channels each) packed
// as the GEMM's B (d x K): wp[k/16][(i*R+j)*cp + c][k%16] = w[k][c][i][j], zero for
// padding channels.
func rowWeights(s *rowShape, c *Conv, w, wp []float32, p0, p1 int, gamma, runVar []float32) {
	rr := c.R * c.R
	for p := p0; p < p1; p++ {
		panel := wp[p*s.d*16 : (p+1)*s.d*16]
		clear(panel)
		for q := range min(16, c.K-p*16) {
			k := p*16 + q
			sc := 1.0
			if gamma != nil {
				sc = foldScale(gamma, runVar, k)
			}
			for ch := 0; ch < c.C; ch++ {
				for ij := 0; ij < rr; ij++ {
					v := w[(k*c.C+ch)*rr+ij]
					if gamma != nil {
						v = float32(float64(v) * sc)
					}
					panel[(ij*s.cp+ch)*16+q] = v
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
type rowWS struct {
	z, a, out, drop []float32
	built           int // the chunk whose rows a holds, plus one (0: none)
}

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

// RowWeightsFolded is RowWeights of the weights with a BN folded in (FoldBN's wf, without
// writing it): output channel k of w scaled by gamma[k]/sqrt(runVar[k]+eps), rounded as
// FoldBN rounds it, then packed.
func RowWeightsFolded(ctx *Ctx, c *Conv, gamma, runVar, w, wp []float32) {
	ctx.rc = rowCall{s: rowDepths(c), c: *c}
	ctx.wt = winoWT{w: w, u: wp, gamma: gamma, runVar: runVar}
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
		growF32(&ws.a, s.p*s.lda)
		ws.built = 0
		growF32(&ws.out, s.p*rowLda(s.kp))
		if rc.ld.drop {
			growF32(&ws.drop, 8*c.H*c.W)
		}
	}
	ctx.pool.ForChunk(s.chunks(n)*s.kb, ctx.rowChunksBody)
	*rc = rowCall{}
}

// rowWeightsChannels packs the weights of output panels [lo, hi) for RowWeights.
func (ctx *Ctx) rowWeightsChannels(lo, hi int) {
	rc := &ctx.rc
	rowWeights(&rc.s, &rc.c, ctx.wt.w, ctx.wt.u, lo, hi, ctx.wt.gamma, ctx.wt.runVar)
}

// rowChunks runs items [lo, hi) on thread t: item q is block q%kb of output panels of
// chunk q/kb. The thread builds a chunk's rows once for its consecutive items.
func (ctx *Ctx) rowChunks(t, lo, hi int) {
	rc := &ctx.rc
	s, c := &rc.s, &rc.c
	ws := &ctx.rws[t]
	zRows, zRow := s.zRows(c), s.wz*8
	src := zSrc{x: rc.x, ld: &rc.ld, c: c.C, h: c.H, w: c.W}
	for it := lo; it < hi; it++ {
		q, b := it/s.kb, it%s.kb
		i0, i1, oy0, oy1 := s.chunk(q, rc.n)
		per := (oy1 - oy0) * c.OW // pixels per image
		if ws.built != q+1 {
			for i := i0; i < i1; i++ {
				for cb := 0; cb < s.cp/8; cb++ {
					ctx.packZ(src, ws.z[cb*zRows*zRow:], ws.drop, i, cb, oy0*c.S-c.P, zRows, c.P, zRow)
				}
				ctx.buildRows(s, c, ws.z, ws.a[(i-i0)*per*s.lda:], oy0, oy1)
			}
			ws.built = q + 1
		}
		p0, p1 := b*s.pb, min((b+1)*s.pb, s.kp/16)
		ldo := rowLda(s.kp) // out's rows, padded as a's are (they alias in L1 alike)
		ctx.kern.MulPanels(false, (i1-i0)*per, (p1-p0)*16, s.d, ws.a, s.lda, rc.wp[p0*s.d*16:], s.d*16, ws.out[p0*16:], ldo, false)
		for i := i0; i < i1; i++ {
			out := ws.out[(i-i0)*per*ldo:]
			for kb := p0 * 2; kb < min((c.K+7)/8, p1*2); kb++ {
				off := ((i*c.K+kb*8)*c.OH + oy0) * c.OW
				var res []float32
				if rc.res != nil {
					res = rc.res[off:]
				}
				ctx.kern.UnpackC8(out[kb*8:], c.OW*ldo, ldo, min(8, c.K-kb*8), c.OW, oy1-oy0, rc.y[off:], c.OW, c.OH*c.OW, res)
			}
		}
	}
}

// buildRows writes a, the im2row rows of output rows [oy0, oy1) from z: per output row,
// its OW pixels' windows, S vectors apart in z's rows (cpu.Kernels.GatherRowsC8).
func (ctx *Ctx) buildRows(s *rowShape, c *Conv, z, a []float32, oy0, oy1 int) {
	zRows, zRow := s.zRows(c), s.wz*8
	for oy := oy0; oy < oy1; oy++ {
		p := (oy - oy0) * c.OW
		ctx.kern.GatherRowsC8(a[p*s.lda:], s.lda, z[(oy-oy0)*c.S*zRow:], c.S*8, c.OW, c.R, s.cp/8, s.cp, zRow, zRows*zRow)
	}
}

// growF32 makes *b at least n long (only the first call of a larger shape allocates).
func growF32(b *[]float32, n int) {
	if len(*b) < n {
		*b = make([]float32, n)
	}
}
