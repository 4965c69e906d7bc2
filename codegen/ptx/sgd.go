package ptx

import "fmt"

// SGD holds the constant hyperparameters of the optimizer step, as nn.SGDArgs.
type SGD struct {
	Momentum, Dampening, WeightDecay float64
	Nesterov                         bool
}

const sgdThreads = 256

// SGDStep emits nn.SGDStep's update of P parameters, one thread per element, with the same
// float32 operations in the same order (so the result is bit for bit the CPU's):
//
//	d = g + wd*p;  b = first ? d : mom*b + (1-damp)*d;  d = nesterov ? d + mom*b : b;  p = p + (-lr)*d
//
// (without momentum: p = p + (-lr)*(g + wd*p), and no buf parameter). Parameters: params,
// grads, buf (with momentum), lr (the float32 bits of the learning rate), first (non-zero on
// the step that starts the momentum buffers).
func SGDStep(name string, P int, o SGD) (Entry, error) {
	if P < 1 || P >= 1<<31 {
		return Entry{}, fmt.Errorf("ptx: kernel %s: %d parameters", name, P)
	}
	params := []string{"params", "grads"}
	if o.Momentum != 0 {
		params = append(params, "buf")
	}
	params = append(params, "lr", "first")
	b := newBuilder(name, [3]int{sgdThreads, 1, 1}, params...)
	p, g := b.gptr("params"), b.gptr("grads")
	var buf reg
	if o.Momentum != 0 {
		buf = b.gptr("buf")
	}
	lr := b.reg(tF32)
	b.raw("mov.b32", lr, b.param32("lr"))
	step := b.neg(lr)
	first := b.setp("ne", b.param("first"), u64(0))
	i := b.mad(b.special("%ctaid.x"), u32(sgdThreads), b.special("%tid.x"))
	wd, mom, damp := float32(o.WeightDecay), float32(o.Momentum), float32(1-o.Dampening)
	b.ifThen(b.setp("lo", i, u32(P)), func() {
		pa, ga := addr{base: b.elem(p, i, 4)}, addr{base: b.elem(g, i, 4)}
		pv := b.ld("global", tF32, pa)
		d := b.ld("global.nc", tF32, ga)
		if wd != 0 {
			d = b.add(d, b.mul(f32(wd), pv))
		}
		if o.Momentum != 0 {
			ba := addr{base: b.elem(buf, i, 4)}
			bv := b.mov(tF32, d)
			b.ifThen(b.not(first), func() {
				b.set(bv, b.add(b.mul(f32(mom), b.ld("global", tF32, ba)), b.mul(f32(damp), d)))
			})
			b.st("global", tF32, ba, bv)
			if o.Nesterov {
				d = b.add(d, b.mul(f32(mom), bv))
			} else {
				d = bv
			}
		}
		b.st("global", tF32, pa, b.add(pv, b.mul(step, d)))
	})
	return entry(b, [3]int{ceil(P, sgdThreads), 1, 1}, false)
}
