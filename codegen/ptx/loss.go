package ptx

import "fmt"

// SoftmaxCE emits nn.SoftmaxCE for F classes, one warp per image (grid z): the first argmax m
// of the row, s1 = the sum of exp(v - m) over the other classes (compensated), the image's
// loss = (m - logit[label]) + log1p(s1), correct = (argmax == label), and
// dlogits = (softmax - onehot(label))/n, with softmax - 1 at the label formed without
// cancellation. The caller averages the losses and counts the correct images. A label outside
// [0, F) gives the loss NaN. Parameters: logits [n,F], labels [n] int32, dlogits [n,F],
// loss [n] float32, correct [n] uint32 (0 or 1), n.
func SoftmaxCE(name string, F int) (Entry, error) {
	if F < 1 || F >= 1<<24 {
		return Entry{}, fmt.Errorf("ptx: kernel %s: softmax over %d classes", name, F)
	}
	b := newBuilder(name, [3]int{32, 1, 1}, "logits", "labels", "dlogits", "loss", "correct", "n")
	logits, labels, dlogits := b.gptr("logits"), b.gptr("labels"), b.gptr("dlogits")
	loss, correct := b.gptr("loss"), b.gptr("correct")
	nf := b.cvt(tF32, "rn", b.param32("n"))
	lane, img := b.special("%tid.x"), b.special("%ctaid.z")
	row := b.elem(logits, b.mul(img, u32(F)), 4)
	drow := b.elem(dlogits, b.mul(img, u32(F)), 4)
	each := func(body func(f, v reg)) {
		b.loop(lane, u32(F), 32, func(f reg) { body(f, b.ld("global.nc", tF32, addr{base: b.elem(row, f, 4)})) })
	}

	bv, bi := b.mov(tF32, f32bits(0xff800000)), b.mov(tU32, u32(F))
	each(func(f, v reg) {
		take := b.setp("gt", v, bv)
		b.to(bv, opSelp, v, bv, take)
		b.to(bi, opSelp, f, bi, take)
	})
	for d := 16; d >= 1; d /= 2 {
		ov, oi := shflBfly(b, bv, d), shflBfly(b, bi, d)
		take := b.reg(tPred)
		b.to(take, opOr, b.setp("gt", ov, bv), b.and(b.setp("eq", ov, bv), b.setp("lo", oi, bi)))
		b.to(bv, opSelp, ov, bv, take)
		b.to(bi, opSelp, oi, bi, take)
	}
	m, best := bv, bi
	negM := b.neg(m)
	ex := func(v reg) reg {
		t, te := twoSum(b, v, negM)
		return expf(b, t, te)
	}

	s1 := newDsum(b, f32(0))
	each(func(f, v reg) { s1.add(b, b.selp(ex(v), f32(0), b.setp("ne", f, best))) })
	s1v := warpSum(b, s1).value(b)
	s := b.add(s1v, f32(1))

	y := b.ld("global.nc", tU32, addr{base: b.elem(labels, img, 4)})
	valid := b.setp("lo", y, u32(F))
	ly := b.ld("global.nc", tF32, addr{base: b.elem(row, b.min(y, u32(F-1)), 4)})
	b.ifThen(b.setp("eq", lane, u32(0)), func() {
		l := b.add(b.sub(m, ly), log1pf(b, s1v))
		b.st("global", tF32, addr{base: b.elem(loss, img, 4)}, b.selp(l, f32bits(0x7fc00000), valid))
		b.st("global", tU32, addr{base: b.elem(correct, img, 4)}, b.selp(u32(1), u32(0), b.setp("eq", best, y)))
	})
	each(func(f, v reg) {
		e := ex(v)
		atLabel := b.selp(b.neg(s1v), b.sub(b.sub(e, f32(1)), s1v), b.setp("eq", f, best))
		num := b.selp(atLabel, e, b.setp("eq", f, y))
		b.st("global", tF32, addr{base: b.elem(drow, f, 4)}, b.div(b.div(num, s), nf))
	})
	return entry(b, [3]int{1, 1, 1}, true)
}

// LossSum reduces SoftmaxCE's per-image results of a call to the two words the host reads
// back: out[0] = the sum of loss[0:n] (float32, compensated, in a fixed order: lane l adds
// images l, l+32, ..., then a butterfly over the warp) and out[1] = the number of correct
// images (uint32). One warp, one block. Parameters: loss [n] float32, correct [n] uint32,
// out [2], n.
func LossSum(name string) (Entry, error) {
	b := newBuilder(name, [3]int{32, 1, 1}, "loss", "correct", "out", "n")
	loss, correct, out := b.gptr("loss"), b.gptr("correct"), b.gptr("out")
	n := b.param32("n")
	lane := b.special("%tid.x")
	s := newDsum(b, f32(0))
	c := b.mov(tU32, u32(0))
	b.loop(lane, n, 32, func(i reg) {
		s.add(b, b.ld("global", tF32, addr{base: b.elem(loss, i, 4)}))
		b.to(c, opAdd, c, b.ld("global", tU32, addr{base: b.elem(correct, i, 4)}))
	})
	total := warpSum(b, s).value(b)
	for d := 16; d >= 1; d /= 2 {
		b.to(c, opAdd, c, shflBfly(b, c, d))
	}
	b.ifThen(b.setp("eq", lane, u32(0)), func() {
		b.st("global", tF32, addr{base: out}, total)
		b.st("global", tU32, addr{base: b.elem(out, u32(1), 4)}, c)
	})
	return entry(b, [3]int{1, 1, 1}, false)
}
