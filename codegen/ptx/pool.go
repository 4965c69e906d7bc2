package ptx

import (
	"fmt"
	"math"

	"github.com/wrnc/wrnc/runtime/contract"
)

const poolThreads = 256

// checkPool validates the pool and its input transform: a consistent shape, images under 2^24
// elements, and no dropout (a pool's input is a BN-ReLU's output, never a dropout's).
func checkPool(name string, p contract.Pool, pre Pre) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("ptx: kernel %s: %w", name, err)
	}
	if p.C*p.H*p.W >= 1<<24 || p.C*p.OH*p.OW >= 1<<24 {
		return fmt.Errorf("ptx: kernel %s: pool %+v: an image over 2^24 elements", name, p)
	}
	if pre.Drop != 0 {
		return fmt.Errorf("ptx: kernel %s: max pool through dropout %g, want none", name, pre.Drop)
	}
	return nil
}

// poolWindow walks the window of output (oh, ow) over one channel plane of pre(x) (base: the
// plane's first element; sc, sh: the channel's scale and shift when pre is on) and returns m,
// the maximum over the window's real positions (padded positions never win), and at, its
// index in the plane (ih*W + iw): the first in row-major window order strictly greater than
// every earlier one, PyTorch's rule (a NaN is greater than nothing, so it is not propagated).
// The window's real rows are kh in [P - min(oh*S, P), min(H + P - oh*S, R)) (never empty:
// P < R and oh*S - P < H), its columns likewise.
func poolWindow(b *builder, p contract.Pool, ps *preState, base, sc, sh, oh, ow reg) (m, at reg) {
	bounds := func(o reg, size int) (start, lo, hi operand) {
		s := b.mul(o, u32(p.S))
		lo = u32(0)
		if p.P > 0 {
			lo = b.sub(u32(p.P), b.min(s, u32(p.P)))
		}
		return s, lo, b.min(b.sub(u32(size+p.P), s), u32(p.R))
	}
	h0, khLo, khHi := bounds(oh, p.H)
	w0, kwLo, kwHi := bounds(ow, p.W)
	// pos is the plane index of window position (kh, kw).
	row := func(kh operand) reg { return b.mul(b.sub(b.add(h0, kh), u32(p.P)), u32(p.W)) }
	pos := func(r reg, kw operand) reg { return b.add(r, b.sub(b.add(w0, kw), u32(p.P))) }
	m = b.mov(tF32, f32(float32(math.Inf(-1))))
	at = b.mov(tU32, pos(row(khLo), kwLo))
	b.loop(khLo, khHi, 1, func(kh reg) {
		r := row(kh)
		b.loop(kwLo, kwHi, 1, func(kw reg) {
			i := pos(r, kw)
			v := ps.apply(b, b.ld("global.nc", tF32, addr{base: b.elem(base, i, 4)}), sc, sh, i)
			gt := b.setp("gt", v, m)
			b.to(m, opSelp, v, m, gt)
			b.to(at, opSelp, i, at, gt)
		})
	})
	return m, at
}

// poolThread is the prologue of the pool kernels: one thread per element t of an image's
// [C, per] tensor (grid x) and image img (grid z, below n); body runs for the threads in range
// with the element's channel c, its index r in the channel plane, the plane's index
// img*C + c and the channel's scale and shift (when pre is on).
func poolThread(b *builder, p contract.Pool, ps *preState, per int, body func(c, r, plane, sc, sh reg)) {
	n := b.param32("n")
	img := b.special("%ctaid.z")
	t := b.mad(b.special("%ctaid.x"), u32(poolThreads), b.special("%tid.x"))
	b.ifThen(b.and(b.setp("lo", t, u32(p.C*per)), b.setp("lo", img, n)), func() {
		c, r := b.div(t, u32(per)), b.rem(t, u32(per))
		var sc, sh reg
		if ps.pre.On {
			sc, sh = ps.channel(b, c)
		}
		body(c, r, b.mad(img, u32(p.C), c), sc, sh)
	})
}

// MaxPoolForward emits nn.MaxPoolForward, y[i, c, oh, ow] = the maximum over the R x R window
// at stride S, padding P (padded positions never win) of pre(x), pre none or BN-ReLU (no
// dropout), one thread per output element. Parameters: n, x [n,C,H,W], y [n,C,OH,OW], and
// scale, shift [C] when pre is on.
func MaxPoolForward(name string, p contract.Pool, pre Pre) (Entry, error) {
	if err := checkPool(name, p, pre); err != nil {
		return Entry{}, err
	}
	b := newBuilder(name, [3]int{poolThreads, 1, 1}, append([]string{"n", "x", "y"}, pre.params()...)...)
	x, y := b.gptr("x"), b.gptr("y")
	ps := loadPre(b, pre)
	out := p.OH * p.OW
	poolThread(b, p, ps, out, func(c, r, plane, sc, sh reg) {
		base := b.elem(x, b.mul(plane, u32(p.H*p.W)), 4)
		m, _ := poolWindow(b, p, ps, base, sc, sh, b.div(r, u32(p.OW)), b.rem(r, u32(p.OW)))
		b.st("global", tF32, addr{base: b.elem(y, b.mad(plane, u32(out), r), 4)}, m)
	})
	return entry(b, [3]int{ceil(p.C*out, poolThreads), 1, 1}, true)
}

// MaxPoolBackward emits nn.MaxPoolBackward, the gradient of MaxPoolForward w.r.t. pre(x) (the
// BN-ReLU's own gradient is BNReLUBackward's): dz[i, c, ih, iw] (overwritten) is the sum of
// dy over the windows whose maximum (poolWindow's rule) is (ih, iw). One thread per input
// element gathers over the windows that contain it, oh in [ceil(max(ih+P+1-R, 0)/S),
// min((ih+P)/S + 1, OH)) and ow likewise, recomputing each window's maximum, and adds their dy
// from 0 in row-major window order, the order in which a scatter over the outputs adds them:
// no atomics, the same sum on every run. dz must not alias x or dy. Parameters: n,
// x [n,C,H,W], dy [n,C,OH,OW], dz [n,C,H,W], and scale, shift [C] when pre is on.
func MaxPoolBackward(name string, p contract.Pool, pre Pre) (Entry, error) {
	if err := checkPool(name, p, pre); err != nil {
		return Entry{}, err
	}
	b := newBuilder(name, [3]int{poolThreads, 1, 1}, append([]string{"n", "x", "dy", "dz"}, pre.params()...)...)
	x, dy, dz := b.gptr("x"), b.gptr("dy"), b.gptr("dz")
	ps := loadPre(b, pre)
	in, out := p.H*p.W, p.OH*p.OW
	// windows is the range of windows along one axis that contain input position i.
	windows := func(i reg, outSize int) (lo, end reg) {
		first := b.sub(b.max(b.add(i, u32(p.P+1)), u32(p.R)), u32(p.R))
		lo = b.div(b.add(first, u32(p.S-1)), u32(p.S))
		return lo, b.min(b.add(b.div(b.add(i, u32(p.P)), u32(p.S)), u32(1)), u32(outSize))
	}
	poolThread(b, p, ps, in, func(c, r, plane, sc, sh reg) {
		base := b.elem(x, b.mul(plane, u32(in)), 4)
		dyPlane := b.elem(dy, b.mul(plane, u32(out)), 4)
		ohLo, ohEnd := windows(b.div(r, u32(p.W)), p.OH)
		owLo, owEnd := windows(b.rem(r, u32(p.W)), p.OW)
		sum := b.mov(tF32, f32(0))
		b.loop(ohLo, ohEnd, 1, func(oh reg) {
			b.loop(owLo, owEnd, 1, func(ow reg) {
				_, at := poolWindow(b, p, ps, base, sc, sh, oh, ow)
				d := b.ld("global.nc", tF32, addr{base: b.elem(dyPlane, b.mad(oh, u32(p.OW), ow), 4)})
				b.to(sum, opSelp, b.add(sum, d), sum, b.setp("eq", at, r))
			})
		})
		b.st("global", tF32, addr{base: b.elem(dz, b.mad(plane, u32(in), r), 4)}, sum)
	})
	return entry(b, [3]int{ceil(p.C*in, poolThreads), 1, 1}, true)
}
