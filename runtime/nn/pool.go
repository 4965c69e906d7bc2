package nn

import "github.com/wrnc/wrnc/runtime/contract"

// Pool describes one max pool (the contract's shape).
type Pool = contract.Pool

// poolCall holds the arguments of the MaxPoolForward or MaxPoolBackward in progress.
type poolCall struct {
	p            Pool
	x, y         []float32
	dy, dz       []float32
	pre          bool // apply scale, shift on load
	scale, shift []float32
}

// MaxPoolForward writes y [n, C, OH, OW], the maximum over each R x R window (stride S,
// padding P; padded positions never win) of pre(x), x [n, C, H, W] (NaN where the window
// holds a NaN, as in PyTorch). pre nil means the raw x; otherwise
// pre(x) = max(0, x*pre.Scale[c] + pre.Shift[c]) rounded as the convolutions load it
// (pre.Drop must be 0: no dropout precedes a max pool). n >= 1, p valid (p.Validate), pre
// nil or with C scales and shifts, and the slices as long as their shapes say.
func MaxPoolForward(ctx *Ctx, n int, p *Pool, x []float32, pre *Pre, y []float32) {
	ctx.mp = poolCall{p: *p, x: x, y: y}
	ctx.mp.setPre(pre)
	for t := range ctx.pws {
		growF32(&ctx.pws[t], p.W+p.H*p.OW)
	}
	ctx.pool.ForChunk(n*p.C, ctx.poolFwdBody)
	ctx.mp = poolCall{}
}

// MaxPoolBackward overwrites dz [n, C, H, W] with the gradient w.r.t. pre(x) of
// MaxPoolForward given dy [n, C, OH, OW]: each dy goes to its window's maximum, the first
// position in row-major window order whose value is greater than every earlier one's
// (PyTorch's CPU rule, val > maxval), recomputed from x and pre. Where windows overlap
// their terms are added in float32 in the order of the outputs, as PyTorch adds them (an
// input position takes at most ceil(R/S)^2 terms). Preconditions as MaxPoolForward's.
func MaxPoolBackward(ctx *Ctx, n int, p *Pool, x []float32, pre *Pre, dy, dz []float32) {
	ctx.mp = poolCall{p: *p, x: x, dy: dy, dz: dz}
	ctx.mp.setPre(pre)
	ctx.pool.For(n*p.C, ctx.poolBwdBody)
	ctx.mp = poolCall{}
}

// setPre records pre (nil: the raw input).
func (c *poolCall) setPre(pre *Pre) {
	if pre != nil {
		c.pre, c.scale, c.shift = true, pre.Scale, pre.Shift
	}
}

// poolForwardPlanes runs planes [lo, hi) (plane q: image q/C, channel q%C) on thread t,
// a window's maximum taken as the maximum over its rows of the maxima over its columns:
// each input row is loaded through the Pre once (into row), its column maxima of every
// output column go to hm (H x OW), and each output is then the maximum of R of those.
// max is exact, and Go's max propagates NaN and takes +0 over -0 in any order, so the
// result is that of the window's maximum in any order. Twice as fast as one window at a
// time on WRN-50-2's stem pool, which poolForward3s2 now takes (BenchmarkMaxPoolForward
// at batch 1 on 2 threads: 4.7 -> 2.2-2.7 ms, AMD EPYC Zen 5); a branch of PyTorch's
// rule (v > m || v != v) instead of max was twice as slow on random data.
func (ctx *Ctx) poolForwardPlanes(t, lo, hi int) {
	if p := &ctx.mp.p; p.R == 3 && p.S == 2 && p.P == 1 {
		ctx.poolForward3s2(t, lo, hi)
		return
	}
	c := &ctx.mp
	p := &c.p
	hw, ohw := p.H*p.W, p.OH*p.OW
	ws := ctx.pws[t]
	row, hm := ws[:p.W], ws[p.W:p.W+p.H*p.OW]
	for q := lo; q < hi; q++ {
		w := c.plane(q, c.x[q*hw:(q+1)*hw])
		for iy := 0; iy < p.H; iy++ {
			xr := w.xs[iy*p.W : (iy+1)*p.W]
			if w.pre {
				for i, v := range xr {
					row[i] = bnrelu(v, w.sc, w.sh)
				}
			} else {
				copy(row, xr)
			}
			hr := hm[iy*p.OW : (iy+1)*p.OW]
			for ox := range hr {
				x0 := ox*p.S - p.P
				x1 := min(x0+p.R, p.W)
				x0 = max(x0, 0)
				m := row[x0]
				for _, v := range row[x0+1 : x1] {
					m = max(m, v)
				}
				hr[ox] = m
			}
		}
		ys := c.y[q*ohw : (q+1)*ohw]
		for oy := 0; oy < p.OH; oy++ {
			y0 := oy*p.S - p.P
			y1 := min(y0+p.R, p.H)
			y0 = max(y0, 0)
			yr := ys[oy*p.OW : (oy+1)*p.OW]
			copy(yr, hm[y0*p.OW:(y0+1)*p.OW])
			for iy := y0 + 1; iy < y1; iy++ {
				for ox, v := range hm[iy*p.OW : (iy+1)*p.OW] {
					yr[ox] = max(yr[ox], v)
				}
			}
		}
	}
}

// poolForward3s2 is poolForwardPlanes for the 3x3 stride-2 pad-1 pool of the imagenet
// stem, vectorized: each input row is split through the Pre into its even and odd
// columns (ev, od), so that output column ox > 0 is the maximum of od[ox-1], ev[ox] and
// od[ox], and each output row the maximum of three rows of hm, all by cpu.Kernels.Max3.
// WRN-50-2's pool at batch 16 on 2 threads (BenchmarkMaxPoolForward, AMD EPYC Zen 5) took
// 43-46 ms by poolForwardPlanes' loops and 9.4-9.6 ms so (batch 1: 2.7 and 0.55 ms).
func (ctx *Ctx) poolForward3s2(t, lo, hi int) {
	c := &ctx.mp
	p := &c.p
	hw, ohw := p.H*p.W, p.OH*p.OW
	we, wo := (p.W+1)/2, p.W/2
	ws := ctx.pws[t]
	ev, od, hm := ws[:we], ws[we:p.W], ws[p.W:p.W+p.H*p.OW]
	k := ctx.kern
	for q := lo; q < hi; q++ {
		w := c.plane(q, c.x[q*hw:(q+1)*hw])
		for iy := 0; iy < p.H; iy++ {
			for j := range ev {
				ev[j] = w.load(iy*p.W + 2*j)
			}
			for j := range od {
				od[j] = w.load(iy*p.W + 2*j + 1)
			}
			hr := hm[iy*p.OW : (iy+1)*p.OW]
			// Column 0 covers columns 0 and 1; columns 1 .. e-1 three each; a last one
			// (odd W) columns W-2 and W-1.
			hr[0] = ev[0]
			if wo > 0 {
				hr[0] = max(ev[0], od[0])
			}
			e := min(p.OW, wo)
			if e > 1 {
				k.Max3(hr[1:e], od[:e-1], ev[1:e], od[1:e])
			}
			if p.OW > wo && wo > 0 {
				hr[wo] = max(od[wo-1], ev[wo])
			}
		}
		ys := c.y[q*ohw : (q+1)*ohw]
		row := func(y int) []float32 { return hm[y*p.OW : (y+1)*p.OW] }
		for oy := 0; oy < p.OH; oy++ {
			y0, y1 := max(2*oy-1, 0), min(2*oy+2, p.H) // rows [y0, y1), 1 to 3 of them
			k.Max3(ys[oy*p.OW:(oy+1)*p.OW], row(y0), row((y0+y1-1)/2), row(y1-1))
		}
	}
}

// poolBackwardPlanes runs planes [lo, hi).
func (ctx *Ctx) poolBackwardPlanes(lo, hi int) {
	c := &ctx.mp
	p := &c.p
	hw, ohw := p.H*p.W, p.OH*p.OW
	for q := lo; q < hi; q++ {
		w := c.plane(q, c.x[q*hw:(q+1)*hw])
		dz := c.dz[q*hw : (q+1)*hw]
		dy := c.dy[q*ohw : (q+1)*ohw]
		clear(dz)
		for oy := 0; oy < p.OH; oy++ {
			for ox := 0; ox < p.OW; ox++ {
				dz[w.argmax(oy, ox)] += dy[oy*p.OW+ox]
			}
		}
	}
}

// poolPlane is one input plane of a max pool with its load.
type poolPlane struct {
	p      *Pool
	xs     []float32
	pre    bool
	sc, sh float32
}

// plane returns plane q, whose values are xs.
func (c *poolCall) plane(q int, xs []float32) poolPlane {
	w := poolPlane{p: &c.p, xs: xs, pre: c.pre}
	if c.pre {
		ch := q % c.p.C
		w.sc, w.sh = c.scale[ch], c.shift[ch]
	}
	return w
}

// load returns pre(x) of the value at i.
func (w *poolPlane) load(i int) float32 {
	if w.pre {
		return bnrelu(w.xs[i], w.sc, w.sh)
	}
	return w.xs[i]
}

// window returns the rows [y0, y1) and columns [x0, x1) of the input that output (oy, ox)
// of p covers, without the padding (never empty for a valid Pool).
func window(p *Pool, oy, ox int) (y0, y1, x0, x1 int) {
	y0, x0 = oy*p.S-p.P, ox*p.S-p.P
	return max(y0, 0), min(y0+p.R, p.H), max(x0, 0), min(x0+p.R, p.W)
}

// argmax returns the index in the plane of the maximum of output (oy, ox) by the rule of
// MaxPoolBackward. Without a NaN in the window the maximum so far can be kept by max,
// against which v > maximum decides as against the rule's own (a +0 kept where the rule
// keeps a -0 compares alike), and the index by a conditional move; with a NaN the rule's
// loop runs as written.
func (w *poolPlane) argmax(oy, ox int) int {
	W := w.p.W
	y0, y1, x0, x1 := window(w.p, oy, ox)
	best := y0*W + x0
	bv := w.load(best)
	for iy := y0; iy < y1; iy++ {
		for i := iy*W + x0; i < iy*W+x1; i++ {
			v := w.load(i)
			if v > bv {
				best = i
			}
			bv = max(bv, v)
		}
	}
	if bv == bv {
		return best
	}
	best = y0*W + x0
	bv = w.load(best)
	for iy := y0; iy < y1; iy++ {
		for i := iy*W + x0; i < iy*W+x1; i++ {
			if v := w.load(i); v > bv {
				best, bv = i, v
			}
		}
	}
	return best
}
