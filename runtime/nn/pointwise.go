package nn

import "github.com/wrnc/wrnc/runtime/cpu"

// The forward pass of a pointwise (1x1 stride-1 unpadded) convolution: y = w * pre(x) per
// image, the input planes the GEMM's column matrix. Each work item is a block of output
// rows and of column panels of one image; its thread packs the item's columns of the
// input into micro-panels, through the BN-ReLU as it packs (no column matrix is written),
// and runs the micro-kernels on the weights in place. Every output element is computed
// the same way whatever the split, so the result does not depend on the thread count.

// pwBlockFloats bounds the packed input of one work item (1 MiB, half of a 2 MiB L2,
// beside a block of weights, pwRowBlock).
const pwBlockFloats = 256 << 10

// pwPanels returns the column panels of one work item's packed input: as many as fit
// pwBlockFloats, at least one.
func pwPanels(c *Conv) int {
	np := (c.OH*c.OW + cpu.PanelCols - 1) / cpu.PanelCols
	return max(1, min(np, pwBlockFloats/(c.C*cpu.PanelCols)))
}

// pwWorkspace is the per-thread workspace of pointwiseForward: the packed input of one
// item, one packed row block of weights and the scratch tile of a partial last panel,
// and for a strided convolution the item's input pixels gathered.
func pwWorkspace(c *Conv) int {
	ws := pwPanels(c)*c.C*cpu.PanelCols + pwRowBlock*c.C + pwRowBlock*cpu.PanelCols
	if c.S > 1 {
		ws += pwPanels(c) * c.C * cpu.PanelCols
	}
	return ws
}

// pwBlockRows returns the rows of weights of one row block: pwRowBlock, or fewer (a
// multiple of 16) where its packed copy would pass 512 KiB.
func pwBlockRows(c *Conv) int {
	return max(16, min(pwRowBlock, (128<<10)/c.C/16*16))
}

// pwCall is the pointwise forward pass in progress and its split: items are (image, row
// block, column block), rows rows and panels panels each.
type pwCall struct {
	n, rb, cb    int
	rows, panels int
	c            Conv
	x, w, res, y []float32
	scale, shift []float32 // the BN-ReLU, nil without Pre
	hasResidual  bool
	sameResidual bool // res is y itself
}

// pwSplit returns the row blocks (rows rows each, a multiple of 16) and column blocks of
// each image for n images on threads threads: column blocks of the most panels that fit
// pwBlockFloats; when there are fewer images than threads each image is split further,
// by rows where the weights outweigh the input columns (each thread then streams only its
// share of the weights) and by columns otherwise.
func pwSplit(c *Conv, n, threads int) (rb, rows, cb, panels int) {
	np := (c.OH*c.OW + cpu.PanelCols - 1) / cpu.PanelCols
	cb = (np + pwPanels(c) - 1) / pwPanels(c)
	rb = 1
	if n < threads {
		if c.K > c.OH*c.OW {
			rb = threads
		} else {
			cb = min(np, (cb+threads-1)/threads*threads)
		}
	}
	rows = ((c.K+rb-1)/rb + 15) / 16 * 16
	rb = (c.K + rows - 1) / rows
	panels = (np + cb - 1) / cb
	cb = (np + panels - 1) / panels
	return rb, rows, cb, panels
}

// pointwiseForward is PointwiseForward without dropout.
func (ctx *Ctx) pointwiseForward(n int, c *Conv, x, w []float32, pre *Pre, res, y []float32) {
	p := &ctx.pw
	*p = pwCall{n: n, c: *c, x: x, w: w, res: res, y: y, hasResidual: res != nil}
	if res != nil {
		p.sameResidual = &res[0] == &y[0]
	}
	if pre != nil {
		p.scale, p.shift = pre.Scale, pre.Shift
	}
	p.rb, p.rows, p.cb, p.panels = pwSplit(c, n, ctx.threads)
	ctx.pool.ForChunk(n*p.rb*p.cb, ctx.pwBody)
	*p = pwCall{} // drop references to the caller's slices
}

// pwItems runs work items [lo, hi) of the pointwise forward pass on thread t.
func (ctx *Ctx) pwItems(t, lo, hi int) {
	p := &ctx.pw
	c := &p.c
	hw, nc := c.OH*c.OW, c.C
	const nr = cpu.PanelCols
	s := ctx.buf[t*ctx.ws : (t+1)*ctx.ws]
	bp := s[:p.panels*nc*nr]
	rest := s[p.panels*nc*nr:]
	apk, edge := rest[:pwRowBlock*nc], rest[pwRowBlock*nc:pwRowBlock*nc+pwRowBlock*nr]
	gather := rest[pwRowBlock*nc+pwRowBlock*nr:]
	in := nc * c.H * c.W
	rb := pwBlockRows(c)
	for it := lo; it < hi; it++ {
		img, r, b := it/(p.rb*p.cb), it/p.cb%p.rb, it%p.cb
		j0, j1 := b*p.panels*nr, min(hw, (b+1)*p.panels*nr)
		i0, i1 := r*p.rows, min(c.K, (r+1)*p.rows)
		xi := p.x[img*in : (img+1)*in]
		yi := p.y[img*c.K*hw : (img+1)*c.K*hw]
		cols := j1 - j0
		src, ld := xi[j0:], hw
		if c.S > 1 {
			src, ld = gather[:nc*cols], cols
			pwGather(c, xi, src, j0, j1)
		}
		if p.scale != nil {
			ctx.kern.PackBPre(bp, src, ld, nc, cols, p.scale, p.shift)
		} else {
			ctx.kern.PackB(bp, src, ld, nc, cols)
		}
		if p.hasResidual && !p.sameResidual {
			ri := p.res[img*c.K*hw : (img+1)*c.K*hw]
			for i := i0; i < i1; i++ {
				copy(yi[i*hw+j0:i*hw+j1], ri[i*hw+j0:i*hw+j1])
			}
		}
		// Row blocks of pwRowBlock rows: each block of weights is read from memory once
		// and from L2 for every panel, the packed input from L2 for every block.
		for ib := i0; ib < i1; ib += rb {
			ctx.pwRows(bp, apk, edge, yi, ib, min(i1, ib+rb), j0, j1)
		}
	}
}

// pwGather writes output pixels [j0, j1) of every channel of a strided 1x1 convolution's
// input image xi into dst, channel after channel: the input pixel (oy*S, ox*S) of output
// pixel j = oy*OW + ox.
func pwGather(c *Conv, xi, dst []float32, j0, j1 int) {
	cols := j1 - j0
	for ch := 0; ch < c.C; ch++ {
		plane := xi[ch*c.H*c.W : (ch+1)*c.H*c.W]
		d := dst[ch*cols : (ch+1)*cols]
		for j := j0; j < j1; {
			oy, ox := j/c.OW, j%c.OW
			n := min(c.OW-ox, j1-j)
			row := plane[oy*c.S*c.W+ox*c.S:]
			for i := range n {
				d[j-j0+i] = row[i*c.S]
			}
			j += n
		}
	}
}

// pwRowBlock is the most rows of weights that one pass over an item's packed input uses;
// packed into 16-row micro-panels (cpu.Kernels.PackA), they are read one line per depth
// rather than 16 rows C apart, which alias in L1 when C is a multiple of 512.
const pwRowBlock = 128

// pwPackACols is the fewest columns of an item for which pwRows packs its weights.
const pwPackACols = 512

// pwRows computes rows [i0, i1) and columns [j0, j1) of output image yi from the packed
// input bp, packing the rows of weights into apk, with edge as the scratch of a partial
// last panel.
func (ctx *Ctx) pwRows(bp, apk, edge, yi []float32, i0, i1, j0, j1 int) {
	p := &ctx.pw
	c := &p.c
	hw, nc := c.OH*c.OW, c.C
	const nr = cpu.PanelCols
	cols, rows := j1-j0, i1-i0
	wi := p.w[i0*nc : i1*nc]
	// Packing the weights pays for itself over pwPackACols columns or more (measured: 5-8%
	// faster at 784 and 1568 columns, even at 196 to 400, 5-13% slower at 49); both ways
	// compute the same bits (cpu.Kernels.MulPackedA).
	var ap []float32
	if cols >= pwPackACols {
		ap = apk[:cpu.PackedALen(rows, nc)]
		ctx.kern.PackA(ap, wi, nc, rows, nc)
	}
	mul := func(n int, b, out []float32, ldo int, acc bool) {
		if ap != nil {
			ctx.kern.MulPackedA(rows, n, nc, ap, b, nc*nr, out, ldo, acc)
		} else {
			ctx.kern.MulPanels(false, rows, n, nc, wi, nc, b, nc*nr, out, ldo, acc)
		}
	}
	mulIntoRows(rows, cols, nc, bp, yi[i0*hw+j0:], hw, edge, p.hasResidual, mul)
}

// mulIntoRows stores (or adds, when acc) the product of rows rows of weights and cols
// columns of packed input bp (depth floats a column, panels depth*16 floats apart) into
// y, rows ldy floats apart: the full panels straight, a partial last panel as a
// full-width tile in edge (at least rows*16 floats) whose columns are then copied.
// mul(n, b, out, ldo, acc) multiplies the weights by the n columns of packed b into out.
func mulIntoRows(rows, cols, depth int, bp, y []float32, ldy int, edge []float32, acc bool, mul func(n int, b, out []float32, ldo int, acc bool)) {
	const nr = cpu.PanelCols
	full := cols / nr * nr
	if full > 0 {
		mul(full, bp, y, ldy, acc)
	}
	if full == cols {
		return
	}
	e := edge[:rows*nr]
	if acc {
		for i := 0; i < rows; i++ {
			copy(e[i*nr:(i+1)*nr], y[i*ldy+full:i*ldy+cols])
		}
	}
	mul(nr, bp[full*depth:], e, nr, acc)
	for i := 0; i < rows; i++ {
		copy(y[i*ldy+full:i*ldy+cols], e[i*nr:i*nr+cols-full])
	}
}
