package ptx

import (
	"fmt"

	"github.com/wrnc/wrnc/runtime/contract"
)

// Batch normalization constants, PyTorch's (and nn's).
const (
	bnEps      = contract.BNEpsilon
	bnMomentum = 0.1
	bnThreads  = 256
)

// channelLoop runs body(idx) over the n*HW elements of channel ch of an [n, C, HW] tensor,
// spread over the block's threads (idx: the element's index in the whole tensor).
func channelLoop(b *builder, tid, ch, count reg, C, HW int, body func(idx reg)) {
	b.loop(tid, count, bnThreads, func(e reg) {
		i, j := b.div(e, u32(HW)), b.rem(e, u32(HW))
		body(b.mad(b.mad(i, u32(C), ch), u32(HW), j))
	})
}

// BNTrain emits nn.BNTrain for C channels of HW values: one block per channel computes the
// batch mean and invstd = 1/sqrt(var + 1e-5) (var biased) with compensated float32 sums (two
// passes: the sum, then the squares of the deviations from the mean), writes mean, invstd,
// scale = gamma*invstd and shift = beta - mean*scale, and updates runMean and runVar with
// momentum 0.1 (runVar with the unbiased variance, left as it is when n*HW == 1).
// Parameters: x [n,C,HW], gamma, beta, runMean, runVar, mean, invstd, scale, shift [C], n.
func BNTrain(name string, C, HW int) (Entry, error) {
	if C < 1 || HW < 1 || C*HW >= 1<<24 {
		return Entry{}, fmt.Errorf("ptx: kernel %s: BN of %d channels of %d values", name, C, HW)
	}
	b := newBuilder(name, [3]int{bnThreads, 1, 1},
		"x", "gamma", "beta", "runMean", "runVar", "mean", "invstd", "scale", "shift", "n")
	x := b.gptr("x")
	ptrs := map[string]reg{}
	for _, p := range []string{"gamma", "beta", "runMean", "runVar", "mean", "invstd", "scale", "shift"} {
		ptrs[p] = b.gptr(p)
	}
	n := b.param32("n")
	tid, ch := b.special("%tid.x"), b.special("%ctaid.x")
	count := b.mul(n, u32(HW))
	cnt := b.cvt(tF32, "rn", count)

	s := newDsum(b, f32(0))
	channelLoop(b, tid, ch, count, C, HW, func(idx reg) {
		s.add(b, b.ld("global.nc", tF32, addr{base: b.elem(x, idx, 4)}))
	})
	tot := blockSum(b, tid, bnThreads, "sum", s)[0]
	// mean = mh + ml: mh the rounded quotient, ml the quotient of its exact remainder.
	mh := b.div(tot.hi, cnt)
	ml := b.div(b.add(b.fma(b.neg(mh), cnt, tot.hi), tot.lo), cnt)

	q := newDsum(b, f32(0))
	channelLoop(b, tid, ch, count, C, HW, func(idx reg) {
		v := b.ld("global.nc", tF32, addr{base: b.elem(x, idx, 4)})
		d := b.sub(b.sub(v, mh), ml)
		q.addProd(b, d, d)
	})
	qt := blockSum(b, tid, bnThreads, "sq", q)[0]

	b.ifThen(b.setp("eq", tid, u32(0)), func() {
		at := func(p string) addr { return addr{base: b.elem(ptrs[p], ch, 4)} }
		qv := qt.value(b)
		m := b.add(mh, ml)
		is := b.div(f32(1), b.unary(opSqrt, b.add(b.div(qv, cnt), f32(bnEps))))
		b.st("global", tF32, at("mean"), m)
		b.st("global", tF32, at("invstd"), is)
		sc := b.mul(b.ld("global", tF32, at("gamma")), is)
		b.st("global", tF32, at("scale"), sc)
		b.st("global", tF32, at("shift"), b.fma(b.neg(m), sc, b.ld("global", tF32, at("beta"))))
		rm := b.ld("global", tF32, at("runMean"))
		b.st("global", tF32, at("runMean"), b.fma(f32(bnMomentum), m, b.mul(f32(1-bnMomentum), rm)))
		b.ifThen(b.setp("hi", count, u32(1)), func() {
			unbiased := b.div(qv, b.sub(cnt, f32(1)))
			rv := b.ld("global", tF32, at("runVar"))
			b.st("global", tF32, at("runVar"), b.fma(f32(bnMomentum), unbiased, b.mul(f32(1-bnMomentum), rv)))
		})
	})
	return entry(b, [3]int{C, 1, 1}, false)
}

// BNInfer emits nn.BNInfer: scale = gamma/sqrt(runVar + 1e-5), shift = beta - runMean*scale
// for C channels, one thread each. Parameters: gamma, beta, runMean, runVar, scale, shift.
func BNInfer(name string, C int) (Entry, error) {
	if C < 1 {
		return Entry{}, fmt.Errorf("ptx: kernel %s: BN of %d channels", name, C)
	}
	threads := min(256, (C+31)/32*32)
	b := newBuilder(name, [3]int{threads, 1, 1}, "gamma", "beta", "runMean", "runVar", "scale", "shift")
	ptrs := map[string]reg{}
	for _, p := range []string{"gamma", "beta", "runMean", "runVar", "scale", "shift"} {
		ptrs[p] = b.gptr(p)
	}
	ch := b.mad(b.special("%ctaid.x"), u32(threads), b.special("%tid.x"))
	b.ifThen(b.setp("lo", ch, u32(C)), func() {
		at := func(p string) addr { return addr{base: b.elem(ptrs[p], ch, 4)} }
		sd := b.unary(opSqrt, b.add(b.ld("global.nc", tF32, at("runVar")), f32(bnEps)))
		sc := b.div(b.ld("global.nc", tF32, at("gamma")), sd)
		b.st("global", tF32, at("scale"), sc)
		b.st("global", tF32, at("shift"), b.fma(b.neg(b.ld("global.nc", tF32, at("runMean"))), sc, b.ld("global.nc", tF32, at("beta"))))
	})
	return entry(b, [3]int{ceil(C, threads), 1, 1}, false)
}

// BNFold emits nn.FoldBN for a conv of K output channels of per weights each: one thread
// per weight writes wf = w*scale, scale = gamma/sqrt(runVar + 1e-5) of its channel (as
// BNInfer computes it), and the first of each channel writes 1 and the bias beta -
// runMean*scale into scale and shift, the Pre that loads the conv's output. Parameters:
// gamma, beta, runMean, runVar, w, wf, scale, shift.
func BNFold(name string, K, per int) (Entry, error) {
	if K < 1 || per < 1 || K*per > 1<<30 {
		return Entry{}, fmt.Errorf("ptx: kernel %s: folding %d channels of %d weights", name, K, per)
	}
	const threads = 256
	params := []string{"gamma", "beta", "runMean", "runVar", "w", "wf", "scale", "shift"}
	b := newBuilder(name, [3]int{threads, 1, 1}, params...)
	ptrs := map[string]reg{}
	for _, p := range params {
		ptrs[p] = b.gptr(p)
	}
	i := b.mad(b.special("%ctaid.x"), u32(threads), b.special("%tid.x"))
	b.ifThen(b.setp("lo", i, u32(K*per)), func() {
		k := b.div(i, u32(per))
		at := func(p string, idx reg) addr { return addr{base: b.elem(ptrs[p], idx, 4)} }
		sd := b.unary(opSqrt, b.add(b.ld("global.nc", tF32, at("runVar", k)), f32(bnEps)))
		sc := b.div(b.ld("global.nc", tF32, at("gamma", k)), sd)
		b.st("global", tF32, at("wf", i), b.mul(b.ld("global.nc", tF32, at("w", i)), sc))
		b.ifThen(b.setp("eq", b.rem(i, u32(per)), u32(0)), func() {
			b.st("global", tF32, at("scale", k), b.mov(tF32, f32(1)))
			b.st("global", tF32, at("shift", k), b.fma(b.neg(b.ld("global.nc", tF32, at("runMean", k))), sc, b.ld("global.nc", tF32, at("beta", k))))
		})
	})
	return entry(b, [3]int{ceil(K*per, threads), 1, 1}, false)
}

// BNReLUBackward emits nn.BNReLUBackward for C channels of HW values, pre the Pre (with its
// dropout) that the forward pass applied: one block per channel sums g and g*xhat (g = dz
// through the dropout mask and the ReLU, xhat = (x-mean)*invstd; compensated sums), writes
// dbeta and dgamma, then dx = gamma*invstd/N * (N*g - dbeta - xhat*dgamma), added to dx when
// acc (else written; dx may be dz itself). Parameters: x, mean, invstd, gamma, scale, shift,
// (seed), dz, dx, dgamma, dbeta, n.
func BNReLUBackward(name string, C, HW int, pre Pre, acc bool) (Entry, error) {
	if !pre.On {
		return Entry{}, fmt.Errorf("ptx: kernel %s: BNReLUBackward needs the forward pass's BN-ReLU Pre", name)
	}
	if err := pre.check(); err != nil {
		return Entry{}, fmt.Errorf("ptx: kernel %s: %w", name, err)
	}
	return bnBackward(name, C, HW, pre, acc)
}

// BNBackward emits nn.BNBackward, the backward pass of a training-mode BN with no ReLU after
// it (the BNs that end a residual block, before the add): BNReLUBackward with g = dz, no mask.
// Parameters: x, mean, invstd, gamma, dz, dx, dgamma, dbeta, n.
func BNBackward(name string, C, HW int, acc bool) (Entry, error) {
	return bnBackward(name, C, HW, Pre{}, acc)
}

// bnBackward is BNReLUBackward through pre's BN-ReLU (and dropout) when pre is on, else
// BNBackward.
func bnBackward(name string, C, HW int, pre Pre, acc bool) (Entry, error) {
	if C < 1 || HW < 1 || C*HW >= 1<<24 {
		return Entry{}, fmt.Errorf("ptx: kernel %s: BN of %d channels of %d values", name, C, HW)
	}
	params := []string{"x", "mean", "invstd", "gamma"}
	params = append(params, pre.params()...)
	params = append(params, "dz", "dx", "dgamma", "dbeta", "n")
	b := newBuilder(name, [3]int{bnThreads, 1, 1}, params...)
	x, mean, invstd, gamma := b.gptr("x"), b.gptr("mean"), b.gptr("invstd"), b.gptr("gamma")
	ps := loadPre(b, pre)
	dz, dx, dgamma, dbeta := b.gptr("dz"), b.gptr("dx"), b.gptr("dgamma"), b.gptr("dbeta")
	n := b.param32("n")
	tid, ch := b.special("%tid.x"), b.special("%ctaid.x")
	count := b.mul(n, u32(HW))
	cnt := b.cvt(tF32, "rn", count)
	coff := b.mulWide(ch, u32(4))
	m := b.ld("global.nc", tF32, addr{base: b.add(mean, coff)})
	is := b.ld("global.nc", tF32, addr{base: b.add(invstd, coff)})
	var sc, sh reg
	if pre.On {
		sc, sh = ps.channel(b, ch)
	}
	// grad is g (dz, through the ReLU and dropout when pre is on) and xhat of element idx.
	grad := func(idx reg) (g, v, xhat reg) {
		v = b.ld("global.nc", tF32, addr{base: b.elem(x, idx, 4)})
		d := b.ld("global", tF32, addr{base: b.elem(dz, idx, 4)})
		if pre.On {
			live := b.setp("gt", bnrelu(b, v, sc, sh), f32(0))
			if pre.Drop > 0 {
				live = b.and(live, keep(b, ps.seed, idx, pre.Drop))
				d = b.mul(d, f32(keepScale(pre.Drop)))
			}
			d = b.selp(d, f32(0), live)
		}
		return d, v, b.mul(b.sub(v, m), is)
	}
	sg, sgx := newDsum(b, f32(0)), newDsum(b, f32(0))
	channelLoop(b, tid, ch, count, C, HW, func(idx reg) {
		g, _, xhat := grad(idx)
		sg.add(b, g)
		sgx.addProd(b, g, xhat)
	})
	tot := blockSum(b, tid, bnThreads, "g", sg, sgx)
	db, dg := tot[0].value(b), tot[1].value(b)
	b.ifThen(b.setp("eq", tid, u32(0)), func() {
		b.st("global", tF32, addr{base: b.add(dbeta, coff)}, db)
		b.st("global", tF32, addr{base: b.add(dgamma, coff)}, dg)
	})
	k := b.div(b.mul(b.ld("global.nc", tF32, addr{base: b.add(gamma, coff)}), is), cnt)
	channelLoop(b, tid, ch, count, C, HW, func(idx reg) {
		g, _, xhat := grad(idx)
		t := b.fma(b.neg(xhat), dg, b.fma(cnt, g, b.neg(db)))
		v := b.mul(k, t)
		a := addr{base: b.elem(dx, idx, 4)}
		if acc {
			v = b.add(b.ld("global", tF32, a), v)
		}
		b.st("global", tF32, a, v)
	})
	return entry(b, [3]int{C, 1, 1}, false)
}
