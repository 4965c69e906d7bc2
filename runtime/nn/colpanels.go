package nn

import "github.com/wrnc/wrnc/runtime/cpu"

// The forward pass of a convolution without a Pre by im2col into packed panels (the stem
// of an ImageNet network: 7x7 stride 2 on 3 channels): each work item is a block of
// column panels (16 output pixels each) of one image; its thread writes the im2col
// columns of those pixels straight into micro-panels (no column matrix, no second
// packing by the GEMM) and multiplies the weights in place with them. Every output
// element is computed the same way whatever the split, so the result does not depend
// on the thread count.

// colBlockFloats bounds the packed columns of one work item (512 KiB, a quarter of L2).
const colBlockFloats = 128 << 10

// colCall is the packed im2col forward pass in progress: cb blocks of panels panels per
// image.
type colCall struct {
	n, cb, panels int
	c             Conv
	x, w, res, y  []float32
}

// colSplit returns the column blocks of one image and their panels: as many panels as
// fit colBlockFloats, and at batches smaller than the threads a number of blocks that
// is a multiple of the threads.
func colSplit(c *Conv, n, threads int) (cb, panels int) {
	np := (c.OH*c.OW + cpu.PanelCols - 1) / cpu.PanelCols
	kk := c.C * c.R * c.R
	per := max(1, min(np, colBlockFloats/(kk*cpu.PanelCols)))
	cb = (np + per - 1) / per
	if n < threads {
		cb = min(np, (cb+threads-1)/threads*threads)
	}
	panels = (np + cb - 1) / cb
	return (np + panels - 1) / panels, panels
}

// colPanelsForward is Im2colForward for pre == nil.
func (ctx *Ctx) colPanelsForward(n int, c *Conv, x, w, res, y []float32) {
	p := &ctx.cc
	*p = colCall{n: n, c: *c, x: x, w: w, res: res, y: y}
	p.cb, p.panels = colSplit(c, n, ctx.threads)
	kk := c.C * c.R * c.R
	for t := range ctx.cws {
		growF32(&ctx.cws[t], p.panels*kk*cpu.PanelCols+c.K*cpu.PanelCols)
	}
	ctx.pool.ForChunk(n*p.cb, ctx.colBody)
	*p = colCall{} // drop references to the caller's slices
}

// colItems runs work items [lo, hi) of the packed im2col forward pass on thread t.
func (ctx *Ctx) colItems(t, lo, hi int) {
	p := &ctx.cc
	c := &p.c
	const nr = cpu.PanelCols
	hw, kk := c.OH*c.OW, c.C*c.R*c.R
	s := ctx.cws[t]
	bp, edge := s[:p.panels*kk*nr], s[p.panels*kk*nr:p.panels*kk*nr+c.K*nr]
	for it := lo; it < hi; it++ {
		img, b := it/p.cb, it%p.cb
		j0, j1 := b*p.panels*nr, min(hw, (b+1)*p.panels*nr)
		xi := p.x[img*c.C*c.H*c.W : (img+1)*c.C*c.H*c.W]
		yi := p.y[img*c.K*hw : (img+1)*c.K*hw]
		acc := p.res != nil
		for j := j0; j < j1; j += nr {
			packColPanel(bp[(j-j0)*kk:(j-j0+nr)*kk], xi, c, j, min(j+nr, j1))
		}
		if acc {
			if ri := p.res[img*c.K*hw : (img+1)*c.K*hw]; &ri[0] != &yi[0] {
				for k := 0; k < c.K; k++ {
					copy(yi[k*hw+j0:k*hw+j1], ri[k*hw+j0:k*hw+j1])
				}
			}
		}
		mulIntoRows(c.K, j1-j0, kk, bp, yi[j0:], hw, edge, acc, func(n int, b, out []float32, ldo int, acc bool) {
			ctx.kern.MulPanels(false, c.K, n, kk, p.w, kk, b, kk*nr, out, ldo, acc)
		})
	}
}

// packColPanel writes dst (C*R*R x 16, depth-major, as cpu.Kernels.PackB), the im2col
// columns of output pixels [j0, j1) (at most 16) of image xi: depth d = (ch*R + i)*R + j
// of pixel (oy, ox) is xi[ch][oy*S+i-P][ox*S+j-P], zero outside the image and past j1.
func packColPanel(dst, xi []float32, c *Conv, j0, j1 int) {
	const nr = cpu.PanelCols
	kk := c.C * c.R * c.R
	dst = dst[:kk*nr]
	clear(dst)
	for p := j0; p < j1; {
		oy, ox0 := p/c.OW, p%c.OW
		n := min(j1-p, c.OW-ox0) // pixels of this output row
		q0 := p - j0
		for ch := 0; ch < c.C; ch++ {
			for i := 0; i < c.R; i++ {
				iy := oy*c.S + i - c.P
				if iy < 0 || iy >= c.H {
					continue
				}
				row := xi[(ch*c.H+iy)*c.W : (ch*c.H+iy+1)*c.W]
				for j := 0; j < c.R; j++ {
					d := (ch*c.R+i)*c.R + j
					out := dst[d*nr+q0 : d*nr+q0+n]
					// Pixels lo..hi-1 of the segment read inside the row.
					ix := ox0*c.S + j - c.P
					lo, hi := 0, n
					if ix < 0 {
						lo = (-ix + c.S - 1) / c.S
					}
					if last := ix + (n-1)*c.S; last >= c.W {
						hi = n - ((last-c.W)/c.S + 1)
					}
					for q, x := lo, ix+lo*c.S; q < hi; q, x = q+1, x+c.S {
						out[q] = row[x]
					}
				}
			}
		}
		p += n
	}
}
