package ptx

import "fmt"

const addReLUThreads = 256

// eachElement is the prologue of the elementwise kernels over [n, C, HW] tensors: one thread
// per element t of an image (grid x) and image img (grid z, below n); body runs for the
// threads in range with t and its index i in the whole tensor.
func eachElement(b *builder, C, HW int, body func(t, i reg)) {
	n := b.param32("n")
	img := b.special("%ctaid.z")
	t := b.mad(b.special("%ctaid.x"), u32(addReLUThreads), b.special("%tid.x"))
	b.ifThen(b.and(b.setp("lo", t, u32(C*HW)), b.setp("lo", img, n)), func() {
		body(t, b.mad(img, u32(C*HW), t))
	})
}

func checkAddReLU(name string, C, HW int) error {
	if C < 1 || HW < 1 || C*HW >= 1<<24 {
		return fmt.Errorf("ptx: kernel %s: add-ReLU of %d channels of %d values", name, C, HW)
	}
	return nil
}

// AddReLUForward emits the end of a post-activation residual block, nn.AddReLUForward:
// y = max(0, (x*scale[c] + shift[c]) + r) with r = res*rscale[c] + rshift[c] when resBN (a
// projection shortcut's BN), else r = res, every product and sum rounded in that order, one
// thread per element. y may alias x or res. Parameters: n, x, scale, shift, res, (rscale,
// rshift,) y; x, res, y [n,C,HW], the scales and shifts [C].
func AddReLUForward(name string, C, HW int, resBN bool) (Entry, error) {
	if err := checkAddReLU(name, C, HW); err != nil {
		return Entry{}, err
	}
	params := []string{"n", "x", "scale", "shift", "res"}
	if resBN {
		params = append(params, "rscale", "rshift")
	}
	b := newBuilder(name, [3]int{addReLUThreads, 1, 1}, append(params, "y")...)
	ptrs := map[string]reg{}
	for _, p := range params[1:] {
		ptrs[p] = b.gptr(p)
	}
	y := b.gptr("y")
	eachElement(b, C, HW, func(t, i reg) {
		off := b.mulWide(b.div(t, u32(HW)), u32(4))
		ch := func(p string) reg { return b.ld("global.nc", tF32, addr{base: b.add(ptrs[p], off)}) }
		v := b.add(b.mul(b.ld("global", tF32, addr{base: b.elem(ptrs["x"], i, 4)}), ch("scale")), ch("shift"))
		r := b.ld("global", tF32, addr{base: b.elem(ptrs["res"], i, 4)})
		if resBN {
			r = b.add(b.mul(r, ch("rscale")), ch("rshift"))
		}
		b.st("global", tF32, addr{base: b.elem(y, i, 4)}, b.max(b.add(v, r), f32(0)))
	})
	return entry(b, [3]int{ceil(C*HW, addReLUThreads), 1, 1}, true)
}

// AddReLUBackward emits the ReLU's gradient of AddReLUForward, nn.AddReLUBackward:
// dz = dy where y > 0, else 0 (y the forward's output), one thread per element; dz may alias
// dy or y. The BNs' gradients follow from dz (BNBackward). Parameters: n, y, dy, dz [n,C,HW].
func AddReLUBackward(name string, C, HW int) (Entry, error) {
	if err := checkAddReLU(name, C, HW); err != nil {
		return Entry{}, err
	}
	b := newBuilder(name, [3]int{addReLUThreads, 1, 1}, "n", "y", "dy", "dz")
	y, dy, dz := b.gptr("y"), b.gptr("dy"), b.gptr("dz")
	eachElement(b, C, HW, func(_, i reg) {
		live := b.setp("gt", b.ld("global", tF32, addr{base: b.elem(y, i, 4)}), f32(0))
		d := b.ld("global", tF32, addr{base: b.elem(dy, i, 4)})
		b.st("global", tF32, addr{base: b.elem(dz, i, 4)}, b.selp(d, f32(0), live))
	})
	return entry(b, [3]int{ceil(C*HW, addReLUThreads), 1, 1}, true)
}
