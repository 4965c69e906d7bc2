package ptx

import "fmt"

const sgdThreads = 256

// SGDStep emits nn.SGDStep's update of P parameters, one thread per element, with the same
// float32 operations in the same order (so the result is bit for bit the CPU's):
//
//	d = g + wd*p (when wd != 0)
//	b = first ? d : mom*b + damp*d;  d = nesterov ? d + mom*b : b   (when mom != 0)
//	p = p + (-lr)*d
//
// The hyperparameters are run-time arguments, so one kernel serves every learning rate and
// optimizer setting; the branches on wd and mom are taken as the CPU takes them. Parameters:
// params, grads, buf (the momentum buffers; not read or written when mom is 0), and the
// float32 bits, in the low half, of lr, mom (the momentum), damp (float32(1 - dampening),
// rounded from float64 as nn.SGDStep does) and wd (the weight decay); nesterov and first (non-zero
// on the step that starts the momentum buffers) are flags.
func SGDStep(name string, P int) (Entry, error) {
	if P < 1 || P >= 1<<31 {
		return Entry{}, fmt.Errorf("ptx: kernel %s: %d parameters", name, P)
	}
	b := newBuilder(name, [3]int{sgdThreads, 1, 1}, "params", "grads", "buf", "lr", "mom", "damp", "wd", "nesterov", "first")
	p, g, buf := b.gptr("params"), b.gptr("grads"), b.gptr("buf")
	f32arg := func(name string) reg {
		r := b.reg(tF32)
		b.raw("mov.b32", r, b.param32(name))
		return r
	}
	lr, mom, damp, wd := f32arg("lr"), f32arg("mom"), f32arg("damp"), f32arg("wd")
	// x != 0 as Go has it (true for NaN, false for -0): the bits without the sign are not 0.
	nonZero := func(name string) reg { return b.setp("ne", b.and(b.param32(name), u32(0x7fffffff)), u32(0)) }
	hasWD, hasMom := nonZero("wd"), nonZero("mom")
	step := b.neg(lr)
	nesterov := b.setp("ne", b.param("nesterov"), u64(0))
	first := b.setp("ne", b.param("first"), u64(0))
	i := b.mad(b.special("%ctaid.x"), u32(sgdThreads), b.special("%tid.x"))
	b.ifThen(b.setp("lo", i, u32(P)), func() {
		pa, ga := addr{base: b.elem(p, i, 4)}, addr{base: b.elem(g, i, 4)}
		pv := b.ld("global", tF32, pa)
		d := b.ld("global.nc", tF32, ga)
		b.ifThen(hasWD, func() { b.set(d, b.add(d, b.mul(wd, pv))) })
		b.ifThen(hasMom, func() {
			ba := addr{base: b.elem(buf, i, 4)}
			bv := b.mov(tF32, d)
			b.ifThen(b.not(first), func() {
				b.set(bv, b.add(b.mul(mom, b.ld("global", tF32, ba)), b.mul(damp, d)))
			})
			b.st("global", tF32, ba, bv)
			nd := b.add(d, b.mul(mom, bv))
			b.to(d, opSelp, nd, bv, nesterov)
		})
		b.st("global", tF32, pa, b.add(pv, b.mul(step, d)))
	})
	return entry(b, [3]int{ceil(P, sgdThreads), 1, 1}, false)
}
