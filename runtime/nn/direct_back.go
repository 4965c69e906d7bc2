package nn

// The backward pass of the im2row path (direct.go), one image at a time per thread:
//
//	ap   the im2row matrix of the image in micro-panels (d16/16 x P x 16, d16 = d
//	     rounded up to 16, zero past d): the weight gradient's B
//	dwt  per thread: dW in the im2row order, K x d16, summed over the thread's images
//	da   P x d16: dy^T W, the gradient of the im2row matrix
//	dzc  the gradient of the c8 input with its padding (cp/8 x (H+2P) x (W+2P)), to
//	     which da is added back (the adjoint of the im2row copies), then unpacked to dz
//
// dy itself is both GEMMs' other operand in place: row-major K x P for dW, and stored
// transposed for da.

// rowBack holds the state of the im2row backward pass in progress.
type rowBack struct {
	dy, dw, dz []float32
	accDz      bool
	wk         []float32 // W as K x d16 in micro-panels (da's B)
	groups     int       // the groups of images the weight gradient is summed in (sumGroups)
}

// rowBackWS is one thread's workspace of the backward pass.
type rowBackWS struct {
	ap, da, dzc []float32
}

// rowD16 is the im2row depth rounded up to a whole micro-panel.
func (s *rowShape) rowD16() int { return (s.d + 15) &^ 15 }

// RowWeightsT writes wk, the weights w [K,C,R,R] of c as Im2rowBackward's input-gradient
// GEMM reads them (K x depth in micro-panels): len(wk) == contract.RowWeightsLen(c, true),
// padding entries zeroed (wk need not be). Depth panels are split over the pool's
// threads. The caller makes wk again whenever w changes.
func RowWeightsT(ctx *Ctx, c *Conv, w, wk []float32) {
	ctx.rc = rowCall{s: rowDepths(c), c: *c}
	ctx.wt = winoWT{w: w, u: wk}
	ctx.pool.For(ctx.rc.s.rowD16()/16, ctx.rowWeightsTBody)
	ctx.rc, ctx.wt = rowCall{}, winoWT{}
}

// Im2rowBackward takes dy [n,K,OH,OW], the gradient of the loss w.r.t. the output of
// Im2rowForward(x, w, pre), and writes by the im2row method dw [K,C,R,R] (overwritten)
// and, when dz != nil, dz [n,C,H,W], the gradient w.r.t. the loaded input pre(x) (written,
// or added to when acc), with wk the weights RowWeightsT made from w (wk may be nil when
// dz is nil). Preconditions are those of Im2colBackward (conv.go).
func Im2rowBackward(ctx *Ctx, n int, c *Conv, x, wk []float32, pre *Pre, dy, dw, dz []float32, acc bool) {
	rc := &ctx.rc
	*rc = rowCall{s: newRowShape(c, n, ctx.threads), c: *c, n: n, x: x, ld: makeLoader(pre)}
	s := &rc.s
	s.rows, s.p = c.OH, c.OH*c.OW // whole images
	d16 := s.rowD16()
	rb := &ctx.rb
	*rb = rowBack{dy: dy, dw: dw, dz: dz, accDz: acc, groups: sumGroups(n)}
	if dz != nil {
		rb.wk = wk
	}
	zLen := s.cp * s.zRows(c) * s.wz
	for t := 0; t < ctx.threads; t++ {
		ws, bw := &ctx.rws[t], &ctx.rbws[t]
		growF32(&ws.z, zLen)
		if rc.ld.drop {
			growF32(&ws.drop, 8*c.H*c.W)
		}
		growF32(&bw.ap, d16*s.p)
		if dz != nil {
			growF32(&bw.da, s.p*d16)
			growF32(&bw.dzc, s.cp*(c.H+2*c.P)*s.wz)
		}
	}
	// Each group of images sums its weight gradient in a partial of its own (K x d16),
	// added up in group order by rowDW: the result does not depend on the thread count.
	for j := range rb.groups {
		growF32(&ctx.rowParts[j], c.K*d16)
	}
	ctx.pool.ForChunk(rb.groups, ctx.rowBackBody)
	ctx.pool.For(c.K, ctx.rowDWBody)
	*rc, *rb = rowCall{}, rowBack{}
}

// rowWeightsT packs the weights for da of depth panels [lo, hi): wk[j][k][q] =
// w[k][c][i][jj] for im2row depth 16*j + q = (i*R + jj)*cp + c, zero past C or d.
func (ctx *Ctx) rowWeightsT(lo, hi int) {
	rc := &ctx.rc
	s, c := &rc.s, &rc.c
	w, wk := ctx.wt.w, ctx.wt.u
	rr := c.R * c.R
	for j := lo; j < hi; j++ {
		for k := 0; k < c.K; k++ {
			out := wk[(j*c.K+k)*16 : (j*c.K+k+1)*16]
			for q := range out {
				d := j*16 + q
				ij, ch := d/s.cp, d%s.cp
				v := float32(0)
				if d < s.d && ch < c.C {
					v = w[(k*c.C+ch)*rr+ij]
				}
				out[q] = v
			}
		}
	}
}

// rowBackImages runs the image groups [lo, hi) on thread t.
func (ctx *Ctx) rowBackImages(t, lo, hi int) {
	rc, rb := &ctx.rc, &ctx.rb
	s, c := &rc.s, &rc.c
	ws, bw := &ctx.rws[t], &ctx.rbws[t]
	d16, np, ohw := s.rowD16(), c.OH*c.OW, c.OH*c.OW
	zRows, zRow := s.zRows(c), s.wz*8
	src := zSrc{x: rc.x, ld: &rc.ld, c: c.C, h: c.H, w: c.W}
	for j := lo; j < hi; j++ {
		dwt := ctx.rowParts[j]
		i0, i1 := groupBounds(j, rb.groups, rc.n)
		for i := i0; i < i1; i++ {
			for cb := 0; cb < s.cp/8; cb++ {
				ctx.packZ(src, ws.z[cb*zRows*zRow:], ws.drop, i, cb, -c.P, zRows, c.P, zRow)
			}
			buildRowPanels(s, c, ws.z, bw.ap)
			dyi := rb.dy[i*c.K*ohw : (i+1)*c.K*ohw]
			ctx.kern.MulPanels(false, c.K, d16, np, dyi, ohw, bw.ap, np*16, dwt, d16, i > i0)
			if rb.dz == nil {
				continue
			}
			ctx.kern.MulPanels(true, np, d16, c.K, dyi, ohw, rb.wk, c.K*16, bw.da, d16, false)
			ctx.rowDZ(bw, i)
		}
	}
}

// buildRowPanels writes ap, the im2row matrix of a whole image in micro-panels.
func buildRowPanels(s *rowShape, c *Conv, z, ap []float32) {
	zRows, zRow := s.zRows(c), s.wz*8
	nb := s.cp / 8
	np := c.OH * c.OW
	if s.d%16 != 0 {
		// The last panel's upper half is past d: zeros.
		last := ap[s.d/16*np*16:]
		for p := 0; p < np; p++ {
			clear(last[p*16+8 : p*16+16])
		}
	}
	p := 0
	for oy := 0; oy < c.OH; oy++ {
		for ox := 0; ox < c.OW; ox++ {
			for i := 0; i < c.R; i++ {
				for j := 0; j < c.R; j++ {
					src := (oy*c.S+i)*zRow + (ox*c.S+j)*8
					d0 := (i*c.R + j) * s.cp
					for cb := 0; cb < nb; cb++ {
						d := d0 + cb*8
						*(*[8]float32)(ap[(d/16*np+p)*16+d%16:]) = *(*[8]float32)(z[cb*zRows*zRow+src:])
					}
				}
			}
			p++
		}
	}
}

// rowDZ adds da of image i back into the padded c8 gradient and writes (or adds) its
// interior to dz.
func (ctx *Ctx) rowDZ(bw *rowBackWS, i int) {
	rc, rb := &ctx.rc, &ctx.rb
	s, c := &rc.s, &rc.c
	d16 := s.rowD16()
	hz := c.H + 2*c.P
	zRow, plane := s.wz*8, hz*s.wz*8
	nb := s.cp / 8
	clear(bw.dzc[:nb*plane])
	p := 0
	for oy := 0; oy < c.OH; oy++ {
		for ox := 0; ox < c.OW; ox++ {
			row := bw.da[p*d16 : p*d16+s.d]
			for ii := 0; ii < c.R; ii++ {
				for jj := 0; jj < c.R; jj++ {
					dst := (oy*c.S+ii)*zRow + (ox*c.S+jj)*8
					d0 := (ii*c.R + jj) * s.cp
					for cb := 0; cb < nb; cb++ {
						o := (*[8]float32)(bw.dzc[cb*plane+dst:])
						v := (*[8]float32)(row[d0+cb*8:])
						for l := range o {
							o[l] += v[l]
						}
					}
				}
			}
			p++
		}
	}
	hw := c.H * c.W
	for cb := 0; cb < nb; cb++ {
		off := (i*c.C + cb*8) * hw
		var res []float32
		if rb.accDz {
			res = rb.dz[off:]
		}
		ctx.kern.UnpackC8(bw.dzc[cb*plane+c.P*zRow+c.P*8:], zRow, 8, min(8, c.C-cb*8), c.W, c.H, rb.dz[off:], c.W, hw, res)
	}
}

// rowDW writes dw of output channels [lo, hi): the threads' sums, from the im2row order
// back to [K, C, R, R].
func (ctx *Ctx) rowDW(lo, hi int) {
	rc, rb := &ctx.rc, &ctx.rb
	s, c := &rc.s, &rc.c
	d16, rr := s.rowD16(), c.R*c.R
	for k := lo; k < hi; k++ {
		out := rb.dw[k*c.C*rr : (k+1)*c.C*rr]
		clear(out)
		for j := range rb.groups {
			row := ctx.rowParts[j][k*d16 : k*d16+s.d]
			for ij := 0; ij < rr; ij++ {
				for ch := 0; ch < c.C; ch++ {
					out[ch*rr+ij] += row[ij*s.cp+ch]
				}
			}
		}
	}
}
