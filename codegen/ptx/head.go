package ptx

import "fmt"

const headThreads = 128

func checkHead(name string, C, HW, F int) error {
	if C < 1 || HW < 1 || F < 1 || C*HW >= 1<<24 || F*C >= 1<<24 {
		return fmt.Errorf("ptx: kernel %s: head of %d channels of %d values and %d classes", name, C, HW, F)
	}
	if C*4 > 32<<10 {
		return fmt.Errorf("ptx: kernel %s: head of %d channels: the pooled row does not fit shared memory", name, C)
	}
	return nil
}

// HeadForward emits nn.HeadForward: for each image (grid z), pooled[c] = the mean over HW of
// relu(x*scale[c] + shift[c]) and logits[f] = fcB[f] + sum over c of pooled[c]*fcW[f, c], with
// compensated sums. Parameters: x [n,C,HW], scale, shift [C], fcW [F,C], fcB [F],
// pooled [n,C], logits [n,F].
func HeadForward(name string, C, HW, F int) (Entry, error) {
	return headForward(name, C, HW, F, true)
}

// HeadForwardRaw emits nn.HeadForwardRaw, the head of a post-activation network (whose last
// block ends in its own ReLU): HeadForward without the BN-ReLU, pooled[c] = the mean over HW of
// x. HeadBackwardFC and HeadBackwardDz serve it unchanged. Parameters: x [n,C,HW], fcW [F,C],
// fcB [F], pooled [n,C], logits [n,F].
func HeadForwardRaw(name string, C, HW, F int) (Entry, error) {
	return headForward(name, C, HW, F, false)
}

// headForward is HeadForward, through the BN-ReLU when bnReLU, else HeadForwardRaw.
func headForward(name string, C, HW, F int, bnReLU bool) (Entry, error) {
	if err := checkHead(name, C, HW, F); err != nil {
		return Entry{}, err
	}
	params := []string{"x", "fcW", "fcB", "pooled", "logits"}
	if bnReLU {
		params = []string{"x", "scale", "shift", "fcW", "fcB", "pooled", "logits"}
	}
	b := newBuilder(name, [3]int{headThreads, 1, 1}, params...)
	x := b.gptr("x")
	var scale, shift reg
	if bnReLU {
		scale, shift = b.gptr("scale"), b.gptr("shift")
	}
	fcW, fcB, pooled, logits := b.gptr("fcW"), b.gptr("fcB"), b.gptr("pooled"), b.gptr("logits")
	tid, img := b.special("%tid.x"), b.special("%ctaid.z")
	row := b.sharedBase(b.sharedArray("pooled", C*4))
	b.loop(tid, u32(C), headThreads, func(c reg) {
		var sc, sh reg
		if bnReLU {
			off := b.mulWide(c, u32(4))
			sc = b.ld("global.nc", tF32, addr{base: b.add(scale, off)})
			sh = b.ld("global.nc", tF32, addr{base: b.add(shift, off)})
		}
		base := b.elem(x, b.mul(b.mad(img, u32(C), c), u32(HW)), 4)
		s := newDsum(b, f32(0))
		b.loop(u32(0), u32(HW), 1, func(j reg) {
			v := b.ld("global.nc", tF32, addr{base: b.elem(base, j, 4)})
			if bnReLU {
				v = bnrelu(b, v, sc, sh)
			}
			s.add(b, v)
		})
		p := s.quo(b, f32(float32(HW)))
		b.st("shared", tF32, addr{base: b.add(row, b.shl(c, 2))}, p)
		b.st("global", tF32, addr{base: b.elem(pooled, b.mad(img, u32(C), c), 4)}, p)
	})
	b.bar()
	b.loop(tid, u32(F), headThreads, func(f reg) {
		s := newDsum(b, b.ld("global.nc", tF32, addr{base: b.elem(fcB, f, 4)}))
		wrow := b.elem(fcW, b.mul(f, u32(C)), 4)
		b.loop(u32(0), u32(C), 1, func(c reg) {
			p := b.ld("shared", tF32, addr{base: b.add(row, b.shl(c, 2))})
			s.addProd(b, p, b.ld("global.nc", tF32, addr{base: b.elem(wrow, c, 4)}))
		})
		b.st("global", tF32, addr{base: b.elem(logits, b.mad(img, u32(F), f), 4)}, s.value(b))
	})
	return entry(b, [3]int{1, 1, 1}, true)
}

// HeadBackwardFC emits the FC part of nn.HeadBackward: dfcW[f, c] = sum over images of
// dlogits[i, f]*pooled[i, c] and dfcB[f] = sum over images of dlogits[i, f] (both overwritten;
// compensated sums), one thread per output. Parameters: pooled [n,C], dlogits [n,F],
// dfcW [F,C], dfcB [F], n.
func HeadBackwardFC(name string, C, F int) (Entry, error) {
	if err := checkHead(name, C, 1, F); err != nil {
		return Entry{}, err
	}
	total := F*C + F
	b := newBuilder(name, [3]int{headThreads, 1, 1}, "pooled", "dlogits", "dfcW", "dfcB", "n")
	pooled, dlogits, dfcW, dfcB := b.gptr("pooled"), b.gptr("dlogits"), b.gptr("dfcW"), b.gptr("dfcB")
	n := b.param32("n")
	t := b.mad(b.special("%ctaid.x"), u32(headThreads), b.special("%tid.x"))
	b.ifThen(b.setp("lo", t, u32(F*C)), func() {
		f, c := b.div(t, u32(C)), b.rem(t, u32(C))
		s := newDsum(b, f32(0))
		b.loop(u32(0), n, 1, func(i reg) {
			d := b.ld("global.nc", tF32, addr{base: b.elem(dlogits, b.mad(i, u32(F), f), 4)})
			s.addProd(b, d, b.ld("global.nc", tF32, addr{base: b.elem(pooled, b.mad(i, u32(C), c), 4)}))
		})
		b.st("global", tF32, addr{base: b.elem(dfcW, t, 4)}, s.value(b))
	})
	b.ifThen(b.and(b.setp("hs", t, u32(F*C)), b.setp("lo", t, u32(total))), func() {
		f := b.sub(t, u32(F*C))
		s := newDsum(b, f32(0))
		b.loop(u32(0), n, 1, func(i reg) {
			s.add(b, b.ld("global.nc", tF32, addr{base: b.elem(dlogits, b.mad(i, u32(F), f), 4)}))
		})
		b.st("global", tF32, addr{base: b.elem(dfcB, f, 4)}, s.value(b))
	})
	return entry(b, [3]int{ceil(total, headThreads), 1, 1}, false)
}

// HeadBackwardDz emits the rest of nn.HeadBackward: for each image (grid z) and channel c,
// dz[i, c, :] = (sum over f of dlogits[i, f]*fcW[f, c]) / HW (compensated sum), the gradient
// w.r.t. relu(bn(x)) that BNReLUBackward of the head's BN takes (HeadForwardRaw's: w.r.t. x
// itself). Parameters: fcW [F,C],
// dlogits [n,F], dz [n,C,HW].
func HeadBackwardDz(name string, C, HW, F int) (Entry, error) {
	if err := checkHead(name, C, HW, F); err != nil {
		return Entry{}, err
	}
	b := newBuilder(name, [3]int{headThreads, 1, 1}, "fcW", "dlogits", "dz")
	fcW, dlogits, dz := b.gptr("fcW"), b.gptr("dlogits"), b.gptr("dz")
	img := b.special("%ctaid.z")
	c := b.mad(b.special("%ctaid.x"), u32(headThreads), b.special("%tid.x"))
	b.ifThen(b.setp("lo", c, u32(C)), func() {
		s := newDsum(b, f32(0))
		drow := b.elem(dlogits, b.mul(img, u32(F)), 4)
		b.loop(u32(0), u32(F), 1, func(f reg) {
			d := b.ld("global.nc", tF32, addr{base: b.elem(drow, f, 4)})
			s.addProd(b, d, b.ld("global.nc", tF32, addr{base: b.elem(fcW, b.mad(f, u32(C), c), 4)}))
		})
		g := s.quo(b, f32(float32(HW)))
		base := b.elem(dz, b.mul(b.mad(img, u32(C), c), u32(HW)), 4)
		b.loop(u32(0), u32(HW), 1, func(j reg) {
			b.st("global", tF32, addr{base: b.elem(base, j, 4)}, g)
		})
	})
	return entry(b, [3]int{ceil(C, headThreads), 1, 1}, true)
}
