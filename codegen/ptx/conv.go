package ptx

import (
	"fmt"

	"github.com/wrnc/wrnc/runtime/contract"
)

// ConvForward emits y = conv(pre(x), w), plus res when residual: nn.ConvForward for the
// constant shape c. Parameters: x [n,C,H,W], w [K,C,R,R], the Pre's (scale, shift, seed),
// res when residual (it may be y itself), y [n,K,OH,OW]. One image per grid z; the GEMM is
// K output channels x OH*OW pixels, reducing over C*R*R, tiled as sel (the compiler's
// selection pass chose it) says.
func ConvForward(name string, c contract.Conv, pre Pre, residual bool, m Math, sel contract.Selection) (Entry, error) {
	if err := checkConv(name, &c, pre); err != nil {
		return Entry{}, err
	}
	params := append([]string{"x", "w"}, pre.params()...)
	if residual {
		params = append(params, "res")
	}
	params = append(params, "y")
	g := &gemm{M: c.K, N: c.OH * c.OW, K: c.C * c.R * c.R, Math: m}
	t, err := g.tilingOf(sel)
	if err != nil {
		return Entry{}, fmt.Errorf("kernel %s: %w", name, err)
	}
	b := newBuilder(name, [3]int{t.threads, 1, 1}, params...)
	x, w := b.gptr("x"), b.gptr("w")
	ps := loadPre(b, pre)
	var res reg
	if residual {
		res = b.gptr("res")
	}
	y := b.gptr("y")
	g.A = &rowLoader{base: w, stride: g.K}
	g.B = &im2col{c: c, x: x, pre: ps}
	g.Store = func(b *builder, m, n, img, v reg) {
		i := b.mad(b.mad(img, u32(c.K), m), u32(g.N), n)
		if residual {
			v = b.add(v, b.ld("global", tF32, addr{base: b.elem(res, i, 4)}))
		}
		b.st("global", tF32, addr{base: b.elem(y, i, 4)}, v)
	}
	return entry(b, emitGemm(b, g, t), true)
}

// ConvBackwardData emits the gradient w.r.t. the conv's loaded input, dz = col2im(w^T dy),
// the dz part of nn.ConvBackward: written, or added to dz when acc. Parameters: w [K,C,R,R],
// dy [n,K,OH,OW], dz [n,C,H,W]. One image per grid z; the GEMM is C x H*W, reducing over
// K*R*R, each B element dy[k, (iy+P-r)/S, (ix+P-s)/S] where that is a whole output pixel.
func ConvBackwardData(name string, c contract.Conv, acc bool, m Math, sel contract.Selection) (Entry, error) {
	if err := checkConv(name, &c, Pre{}); err != nil {
		return Entry{}, err
	}
	g := &gemm{M: c.C, N: c.H * c.W, K: c.K * c.R * c.R, Math: m}
	t, err := g.tilingOf(sel)
	if err != nil {
		return Entry{}, fmt.Errorf("kernel %s: %w", name, err)
	}
	b := newBuilder(name, [3]int{t.threads, 1, 1}, "w", "dy", "dz")
	w, dy, dz := b.gptr("w"), b.gptr("dy"), b.gptr("dz")
	g.A = &wT{c: c, w: w}
	g.B = &col2im{c: c, dy: dy}
	g.Store = func(b *builder, m, n, img, v reg) {
		a := addr{base: b.elem(dz, b.mad(b.mad(img, u32(c.C), m), u32(g.N), n), 4)}
		if acc {
			v = b.add(b.ld("global", tF32, a), v)
		}
		b.st("global", tF32, a, v)
	}
	return entry(b, emitGemm(b, g, t), true)
}

// ConvBackwardWeight emits dw = sum over images of dy_i * cols(pre(x_i))^T, the dw part of
// nn.ConvBackward (dw overwritten). Parameters: x [n,C,H,W], the Pre's, dy [n,K,OH,OW],
// dw [K,C,R,R], n. The GEMM is K x C*R*R, reducing over OH*OW pixels of every image (a run-time
// loop over the n images inside each block).
func ConvBackwardWeight(name string, c contract.Conv, pre Pre, m Math, sel contract.Selection) (Entry, error) {
	if err := checkConv(name, &c, pre); err != nil {
		return Entry{}, err
	}
	params := append(append([]string{"x"}, pre.params()...), "dy", "dw", "n")
	g := &gemm{M: c.K, N: c.C * c.R * c.R, K: c.OH * c.OW, Images: true, Math: m}
	t, err := g.tilingOf(sel)
	if err != nil {
		return Entry{}, fmt.Errorf("kernel %s: %w", name, err)
	}
	b := newBuilder(name, [3]int{t.threads, 1, 1}, params...)
	x := b.gptr("x")
	ps := loadPre(b, pre)
	dy, dw := b.gptr("dy"), b.gptr("dw")
	g.A = &dyRows{c: c, dy: dy}
	g.B = &colsT{c: c, x: x, pre: ps}
	g.Store = func(b *builder, m, n, _ reg, v reg) {
		b.st("global", tF32, addr{base: b.elem(dw, b.mad(m, u32(g.N), n), 4)}, v)
	}
	return entry(b, emitGemm(b, g, t), false)
}

func checkConv(name string, c *contract.Conv, pre Pre) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("ptx: kernel %s: %w", name, err)
	}
	if err := pre.check(); err != nil {
		return fmt.Errorf("ptx: kernel %s: %w", name, err)
	}
	if c.C*c.H*c.W >= 1<<24 || c.K*c.OH*c.OW >= 1<<24 {
		return fmt.Errorf("ptx: kernel %s: conv %+v: an image over 2^24 elements", name, *c)
	}
	return nil
}

// rowLoader reads A[m][k] = base[m*stride + k] (conv weights as a K x C*R*R matrix).
type rowLoader struct {
	base   reg
	stride int
}

func (l *rowLoader) kFast() bool { return true }
func (l *rowLoader) prepare(b *builder, m, _ reg) any {
	return b.elem(l.base, b.mul(m, u32(l.stride)), 4)
}
func (l *rowLoader) load(b *builder, st any, k reg) reg {
	return b.ld("global.nc", tF32, addr{base: b.elem(st.(reg), k, 4)})
}

// im2col reads B[k][n] of the forward GEMM: k = (c, r, s), n = (oy, ox), the element
// pre(x)[img, c, oy*S-P+r, ox*S-P+s], 0 in the padding.
type im2col struct {
	c   contract.Conv
	x   reg
	pre *preState
}

type pixel struct{ y0, x0, img reg }

func (l *im2col) kFast() bool { return false }
func (l *im2col) prepare(b *builder, n, img reg) any {
	c := &l.c
	oy, ox := b.div(n, u32(c.OW)), b.rem(n, u32(c.OW))
	// Input coordinates as u32 offsets by P: iy + P = oy*S + r, compared with H + P.
	return pixel{y0: b.mul(oy, u32(c.S)), x0: b.mul(ox, u32(c.S)), img: img}
}
func (l *im2col) load(b *builder, st any, k reg) reg {
	c, px := &l.c, st.(pixel)
	ch, r, s := splitCRS(b, k, c.R)
	return loadInput(b, c, l.x, l.pre, px.img, ch, b.add(px.y0, r), b.add(px.x0, s))
}

// splitCRS splits k = (c*R + r)*R + s.
func splitCRS(b *builder, k reg, R int) (c, r, s reg) {
	if R == 1 {
		z := b.mov(tU32, u32(0))
		return k, z, z
	}
	rs := b.rem(k, u32(R*R))
	return b.div(k, u32(R*R)), b.div(rs, u32(R)), b.rem(rs, u32(R))
}

// loadInput is pre(x)[img, ch, yp-P, xp-P] (yp, xp: coordinates plus the padding), 0 in the
// padding.
func loadInput(b *builder, c *contract.Conv, x reg, pre *preState, img, ch, yp, xp reg) reg {
	iy, ix := yp, xp
	if c.P > 0 {
		iy, ix = b.sub(yp, u32(c.P)), b.sub(xp, u32(c.P)) // wraps below 0: caught by the unsigned compare
	}
	in := b.and(b.setp("lo", iy, u32(c.H)), b.setp("lo", ix, u32(c.W)))
	v := b.mov(tF32, f32(0))
	b.ifThen(in, func() {
		idx := b.mad(b.mad(b.mad(img, u32(c.C), ch), u32(c.H), iy), u32(c.W), ix)
		xv := b.ld("global.nc", tF32, addr{base: b.elem(x, idx, 4)})
		if pre.pre.On {
			sc, sh := pre.channel(b, ch)
			xv = pre.apply(b, xv, sc, sh, idx)
		}
		b.set(v, xv)
	})
	return v
}

// wT reads A[m][k] of the data-gradient GEMM: m = c, k = (kout, r, s), w[kout, c, r, s].
type wT struct {
	c contract.Conv
	w reg
}

func (l *wT) kFast() bool { return true }
func (l *wT) prepare(b *builder, m, _ reg) any {
	return b.elem(l.w, b.mul(m, u32(l.c.R*l.c.R)), 4)
}
func (l *wT) load(b *builder, st any, k reg) reg {
	rr := l.c.R * l.c.R
	i := b.mad(b.div(k, u32(rr)), u32(l.c.C*rr), b.rem(k, u32(rr)))
	return b.ld("global.nc", tF32, addr{base: b.elem(st.(reg), i, 4)})
}

// col2im reads B[k][n] of the data-gradient GEMM: k = (kout, r, s), n = (iy, ix), the element
// dy[img, kout, oy, ox] with oy*S-P+r = iy and ox*S-P+s = ix, 0 where no output pixel maps
// there.
type col2im struct {
	c  contract.Conv
	dy reg
}

func (l *col2im) kFast() bool { return false }
func (l *col2im) prepare(b *builder, n, img reg) any {
	c := &l.c
	iy, ix := b.div(n, u32(c.W)), b.rem(n, u32(c.W))
	return pixel{y0: b.add(iy, u32(c.P)), x0: b.add(ix, u32(c.P)), img: img}
}
func (l *col2im) load(b *builder, st any, k reg) reg {
	c, px := &l.c, st.(pixel)
	ko, r, s := splitCRS(b, k, c.R)
	// ty = iy+P-r = oy*S: below 0 it wraps to a huge u32, whose quotient is out of range.
	ty, tx := b.sub(px.y0, r), b.sub(px.x0, s)
	oy, ox := ty, tx
	in := b.and(b.setp("lo", ty, u32(c.OH*c.S)), b.setp("lo", tx, u32(c.OW*c.S)))
	if c.S > 1 {
		oy, ox = b.div(ty, u32(c.S)), b.div(tx, u32(c.S))
		whole := b.and(b.setp("eq", b.rem(ty, u32(c.S)), u32(0)), b.setp("eq", b.rem(tx, u32(c.S)), u32(0)))
		in = b.and(in, whole)
	}
	v := b.mov(tF32, f32(0))
	b.ifThen(in, func() {
		idx := b.mad(b.mad(b.mad(px.img, u32(c.K), ko), u32(c.OH), oy), u32(c.OW), ox)
		b.set(v, b.ld("global.nc", tF32, addr{base: b.elem(l.dy, idx, 4)}))
	})
	return v
}

// dyRows reads A[m][k] of the weight-gradient GEMM: m = kout, k = output pixel p of image
// img, dy[img, kout, p].
type dyRows struct {
	c  contract.Conv
	dy reg
}

func (l *dyRows) kFast() bool { return true }
func (l *dyRows) prepare(b *builder, m, img reg) any {
	return b.elem(l.dy, b.mul(b.mad(img, u32(l.c.K), m), u32(l.c.OH*l.c.OW)), 4)
}
func (l *dyRows) load(b *builder, st any, k reg) reg {
	return b.ld("global.nc", tF32, addr{base: b.elem(st.(reg), k, 4)})
}

// colsT reads B[k][n] of the weight-gradient GEMM: k = output pixel (oy, ox), n = (c, r, s),
// pre(x)[img, c, oy*S-P+r, ox*S-P+s].
type colsT struct {
	c   contract.Conv
	x   reg
	pre *preState
}

type colTap struct{ ch, r, s, img reg }

func (l *colsT) kFast() bool { return true }
func (l *colsT) prepare(b *builder, n, img reg) any {
	ch, r, s := splitCRS(b, n, l.c.R)
	return colTap{ch: ch, r: r, s: s, img: img}
}
func (l *colsT) load(b *builder, st any, k reg) reg {
	c, tp := &l.c, st.(colTap)
	oy, ox := b.div(k, u32(c.OW)), b.rem(k, u32(c.OW))
	return loadInput(b, c, l.x, l.pre, tp.img, tp.ch, b.mad(oy, u32(c.S), tp.r), b.mad(ox, u32(c.S), tp.s))
}
