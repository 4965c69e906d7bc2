package nn

// winoCall holds the arguments of the Winograd convolution in progress: the forward pass
// (input x with its Pre, K outputs) or the input gradient (input dy, no Pre, C outputs).
type winoCall struct {
	s         winoShape
	n         int
	cin, kout int // channels of the input and of the output
	h, w      int // input and output size (stride 1, pad 1)
	x         []float32
	ld        loader
	u         []float32
	res, y    []float32
	q         int // the chunk of a cooperative step
	// The weight gradient: its chunks and the groups of chunks summed apart
	// (wino_wgrad.go), and the group and first chunk of a cooperative step.
	nq, groups, j, q0 int
}

// winoWS is one thread's Winograd workspace: the c8 input block z, the output staging
// yst, the dropout scratch, and the transformed inputs v and products m of a chunk.
type winoWS struct {
	z, yst, drop, v, m []float32
}

// winoWorkspace returns thread t's workspace sized for the call in progress, growing it
// when needed (only the first call of a larger shape allocates).
func (ctx *Ctx) winoWorkspace(t int) *winoWS {
	wc := &ctx.wc
	s := &wc.s
	ws := &ctx.wws[t]
	grow := func(b *[]float32, n int) {
		if len(*b) < n {
			*b = make([]float32, n)
		}
	}
	grow(&ws.z, s.zLen())
	grow(&ws.yst, s.yLen())
	if wc.ld.drop {
		grow(&ws.drop, 8*wc.h*wc.w)
	}
	grow(&ws.v, s.vLen())
	grow(&ws.m, s.mLen())
	return ws
}

// winoRun runs the convolution of ctx.wc: chunks shared out over the threads when there
// are enough of them, else one chunk at a time with all threads on it, the GEMMs and the
// output transform split by output panels. The input transform of such a chunk is split
// by channel blocks into thread 0's v (cooperative steps), or, where the outputs are at
// least winoOwnRatio times the chunk's tiles, done whole by every thread into its own v
// (winoOwn): the GEMMs then read no lines another core wrote, and one step replaces two.
func (ctx *Ctx) winoRun() {
	wc := &ctx.wc
	s := &wc.s
	for t := 0; t < ctx.threads; t++ {
		ctx.winoWorkspace(t)
	}
	nq := s.chunks(wc.n)
	if nq >= ctx.threads {
		ctx.pool.ForChunk(nq, ctx.winoChunksBody)
		return
	}
	for q := 0; q < nq; q++ {
		wc.q = q
		if s.kp >= winoOwnRatio*s.p {
			ctx.pool.ForChunk(s.kp/16, ctx.winoOwnBody)
			continue
		}
		ctx.pool.ForChunk(s.cp/8, ctx.winoInBody)
		ctx.pool.ForChunk(s.kp/16, ctx.winoOutBody)
	}
}

// winoOwnRatio is the fewest outputs per tile of a chunk for which winoRun has every
// thread transform the chunk's whole input (winoOwn): the transform it repeats grows
// with the tiles, the GEMM it speeds with the outputs. At batch 1 on two threads (AMD
// EPYC Zen 5, BenchmarkConvForward/.../n=1/t=2) it took 128x16x16 F(4x4) (K/tiles 8) from
// 136 to 112 µs and 256x8x8 F(2x2) (16) from 161 to 144 µs, and 64x32x32 F(4x4) (1)
// from 110 to 122 µs.
const winoOwnRatio = 4

// winoOwn is thread t's part of a chunk run by all threads, each with its own v: the
// input transform of all channel blocks of chunk wc.q, then output panels [lo, hi).
func (ctx *Ctx) winoOwn(t, lo, hi int) {
	ws := &ctx.wws[t]
	ctx.winoIn(ws, ws, ctx.wc.q, 0, ctx.wc.s.cp/8)
	ctx.winoOut(ws, ws, ctx.wc.q, lo, hi)
}

// winoChunks runs chunks [lo, hi) whole on thread t.
func (ctx *Ctx) winoChunks(t, lo, hi int) {
	wc := &ctx.wc
	ws := &ctx.wws[t]
	for q := lo; q < hi; q++ {
		ctx.winoIn(ws, ws, q, 0, wc.s.cp/8)
		ctx.winoOut(ws, ws, q, 0, wc.s.kp/16)
	}
}

// winoInStep and winoOutStep are one cooperative step's parts on thread t: channel
// blocks or output panels [lo, hi) of chunk wc.q, in thread 0's v and m.
func (ctx *Ctx) winoInStep(t, lo, hi int) {
	ctx.winoIn(&ctx.wws[t], &ctx.wws[0], ctx.wc.q, lo, hi)
}

func (ctx *Ctx) winoOutStep(t, lo, hi int) {
	ctx.winoOut(&ctx.wws[t], &ctx.wws[0], ctx.wc.q, lo, hi)
}

// winoIn writes the transformed inputs of channel blocks [b0, b1) of chunk q into
// vm.v, with own's z (and dropout scratch).
func (ctx *Ctx) winoIn(own, vm *winoWS, q, b0, b1 int) {
	wc := &ctx.wc
	s := &wc.s
	i0, i1, r0, r1 := s.chunk(q, wc.n)
	zRow := s.wz * 8
	for i := i0; i < i1; i++ {
		for cb := b0; cb < b1; cb++ {
			ctx.winoPackZ(own, i, cb, r0, r1)
			for ty := r0; ty < r1; ty++ {
				p0 := ((i-i0)*(r1-r0) + ty - r0) * s.tw
				ctx.kern.WinoInput(s.m, own.z[(ty-r0)*s.m*zRow:], zRow, vm.v[p0*s.cp+cb*8:], s.vT(), s.cp, s.tw)
			}
		}
	}
}

// winoPackZ writes own.z: channel block cb of image i, loaded through the Pre, in c8,
// over the input rows that tile rows [r0, r1) read, zero outside the image.
func (ctx *Ctx) winoPackZ(own *winoWS, i, cb, r0, r1 int) {
	wc := &ctx.wc
	s := &wc.s
	ctx.packZ(zSrc{x: wc.x, ld: &wc.ld, c: wc.cin, h: wc.h, w: wc.w}, own.z, own.drop, i, cb,
		r0*s.m-1, (r1-r0)*s.m+2, 1, s.wz*8)
}

// zSrc is the input of a c8 packing: x [n][c][h][w] loaded through ld.
type zSrc struct {
	x       []float32
	ld      *loader
	c, h, w int
}

// packZ writes z, channel block cb of image i of src loaded through its Pre, in c8: z
// row r (zRow floats) holds input row iy0 + r, rows [0, zRows), with left columns of
// zeros before the image's and zeros after it; zero outside the image (PyTorch pads
// after the ReLU and the dropout). drop is scratch of 8*h*w floats for dropout.
func (ctx *Ctx) packZ(src zSrc, z, drop []float32, i, cb, iy0, zRows, left, zRow int) {
	h, w, hw := src.h, src.w, src.h*src.w
	xi := src.x[i*src.c*hw : (i+1)*src.c*hw]
	c0 := cb * 8
	cn := min(8, src.c-c0)
	// Input rows [y0, y1) land in z rows [y0-iy0, y1-iy0).
	y0, y1 := max(iy0, 0), min(iy0+zRows, h)
	if y1 <= y0 {
		clear(z[:zRows*zRow])
		return
	}
	clear(z[:(y0-iy0)*zRow])
	clear(z[(y1-iy0)*zRow : zRows*zRow])
	for zr := y0 - iy0; zr < y1-iy0; zr++ {
		row := z[zr*zRow : (zr+1)*zRow]
		clear(row[:left*8])
		clear(row[(w+left)*8:])
	}
	in := xi[c0*hw+y0*w:]
	ld := src.ld
	var scale, shift []float32
	switch {
	case ld.drop:
		// Dropout: z = drop(bnrelu(x)) channel by channel, then packed as is.
		for l := 0; l < cn; l++ {
			plane := drop[l*hw : (l+1)*hw]
			ld.apply(plane, xi[(c0+l)*hw:(c0+l+1)*hw], c0+l, (i*src.c+c0+l)*hw)
		}
		in = drop[y0*w:]
	case ld.on:
		scale, shift = ld.scale[c0:], ld.shift[c0:]
	}
	ctx.kern.PackC8(in, w, hw, cn, w, y1-y0, scale, shift, z[(y0-iy0)*zRow+left*8:], zRow)
}

// winoOut runs the GEMMs of output panels [k0, k1) of chunk q (v and m in vm), then the
// output transform and the store (with the residual) of their channels, staged in own.
func (ctx *Ctx) winoOut(own, vm *winoWS, q, k0, k1 int) {
	wc := &ctx.wc
	s := &wc.s
	k := ctx.kern
	i0, i1, r0, r1 := s.chunk(q, wc.n)
	pc := (i1 - i0) * (r1 - r0) * s.tw
	for t := 0; t < s.t; t++ {
		k.MulPacked(pc, (k1-k0)*16, s.cp, vm.v[t*s.vT():], s.cp,
			wc.u[t*s.cp*s.kp+k0*16*s.cp:], vm.m[t*s.mT()+k0*16:], s.kp, false)
	}
	h, w, hw := wc.h, wc.w, wc.h*wc.w
	yRow := s.tw * s.m * 8
	for i := i0; i < i1; i++ {
		for ty := r0; ty < r1; ty++ {
			p0 := ((i-i0)*(r1-r0) + ty - r0) * s.tw
			oy := ty * s.m
			rows := min(s.m, h-oy)
			for kb := k0 * 2; kb < min(k1*2, (wc.kout+7)/8); kb++ {
				k.WinoOutput(s.m, vm.m[p0*s.kp+kb*8:], s.mT(), s.kp, own.yst, yRow, s.tw)
				off := ((i*wc.kout+kb*8)*h + oy) * w
				var res []float32
				if wc.res != nil {
					res = wc.res[off:]
				}
				k.UnpackC8(own.yst, yRow, 8, min(8, wc.kout-kb*8), w, rows, wc.y[off:], w, hw, res)
			}
		}
	}
}

// WinogradForward computes y[n,K,OH,OW] = conv(pre(x), w), plus res when res != nil,
// by Winograd F(m x m, 3 x 3) (m 2 or 4) for a 3x3, stride 1, pad 1 convolution
// (c.Winograd3()), with u the transformed weights WinogradWeights(c, m, false) made from
// w. Preconditions are those of Im2colForward (conv.go). Winograd adds rounding in its
// transforms, growing with m (see wino_test.go for the bounds).
func WinogradForward(ctx *Ctx, n int, c *Conv, m int, x, u []float32, pre *Pre, res, y []float32) {
	wc := &ctx.wc
	*wc = winoCall{s: newWinoShape(c, m), n: n, cin: c.C, kout: c.K, h: c.H, w: c.W, x: x, ld: makeLoader(pre), res: res, y: y, u: u}
	wc.s.balance(n, ctx.threads)
	ctx.winoRun()
	*wc = winoCall{}
}

// WinogradDgrad writes (or adds to, when acc) dz [n,C,H,W], the gradient w.r.t. the loaded
// input of the 3x3 stride-1 pad-1 conv c from dy [n,K,H,W], by Winograd F(m x m, 3 x 3):
// the convolution of dy with the weights rotated by 180 degrees, input and output channels
// swapped, whose transformed weights u are WinogradWeights(c, m, true). dz must not alias
// dy.
func WinogradDgrad(ctx *Ctx, n int, c *Conv, m int, u, dy, dz []float32, acc bool) {
	d := dgradConv(c)
	wc := &ctx.wc
	*wc = winoCall{s: newWinoShape(&d, m), n: n, cin: c.K, kout: c.C, h: c.H, w: c.W, x: dy, y: dz, u: u}
	wc.s.balance(n, ctx.threads)
	if acc {
		wc.res = dz
	}
	ctx.winoRun()
	*wc = winoCall{}
}
