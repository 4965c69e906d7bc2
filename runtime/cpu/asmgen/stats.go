package main

import (
	"fmt"
	"log"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The batch-normalization reductions of package cpu (see stats.go there): float32 data,
// float64 sums, 16 or 8 values per iteration; the callers handle the tails.

// paramAddr returns the memory operand of the named argument.
func paramAddr(name string) Mem {
	b, err := Param(name).Resolve()
	if err != nil {
		log.Fatalf("asmgen: argument %s: %v", name, err)
	}
	return b.Addr
}

// reduceSum4 leaves the sum of the 4 doubles of y0 in the low lane of x0 (y1 clobbered).
func reduceSum4(y0 VecPhysical, x0, x1 VecPhysical) {
	VEXTRACTF128(U8(1), y0, x1)
	VADDPD(x1, x0, x0)
	VHADDPD(x0, x0, x0)
}

// sumF64 emits sumF64AVX2(x *float32, n int) float64, n a positive multiple of 16.
func sumF64() {
	TEXT("sumF64AVX2", NOSPLIT, "func(x *float32, n int) float64")
	Pragma("noescape")
	Doc("sumF64AVX2 returns the sum of x[0:n] in float64; n must be a positive multiple of 16.")
	x := Load(Param("x"), RSI)
	n := Load(Param("n"), RCX)
	accs := []VecPhysical{Y0, Y1, Y2, Y3}
	for _, a := range accs {
		VXORPD(a, a, a)
	}
	Label("sumF64AVX2_loop")
	for i, a := range accs {
		VCVTPS2PD(Mem{Base: x, Disp: 16 * i}, Y4)
		VADDPD(Y4, a, a)
	}
	ADDQ(U8(64), x)
	SUBQ(U8(16), n)
	JNE(LabelRef("sumF64AVX2_loop"))
	VADDPD(Y1, Y0, Y0)
	VADDPD(Y3, Y2, Y2)
	VADDPD(Y2, Y0, Y0)
	reduceSum4(Y0, X0, X1)
	VZEROUPPER()
	Store(X0, ReturnIndex(0))
	RET()
}

// sqDevF64 emits sqDevF64AVX2(x *float32, n int, m float64) float64: the sum of
// (x - m)^2 in float64, n a positive multiple of 16.
func sqDevF64() {
	TEXT("sqDevF64AVX2", NOSPLIT, "func(x *float32, n int, m float64) float64")
	Pragma("noescape")
	Doc("sqDevF64AVX2 returns the sum of (x[i] - m)^2 over x[0:n] in float64; n must be a positive multiple of 16.")
	x := Load(Param("x"), RSI)
	n := Load(Param("n"), RCX)
	VBROADCASTSD(paramAddr("m"), Y5)
	accs := []VecPhysical{Y0, Y1, Y2, Y3}
	for _, a := range accs {
		VXORPD(a, a, a)
	}
	Label("sqDevF64AVX2_loop")
	for i, a := range accs {
		VCVTPS2PD(Mem{Base: x, Disp: 16 * i}, Y4)
		VSUBPD(Y5, Y4, Y4)
		VFMADD231PD(Y4, Y4, a)
	}
	ADDQ(U8(64), x)
	SUBQ(U8(16), n)
	JNE(LabelRef("sqDevF64AVX2_loop"))
	VADDPD(Y1, Y0, Y0)
	VADDPD(Y3, Y2, Y2)
	VADDPD(Y2, Y0, Y0)
	reduceSum4(Y0, X0, X1)
	VZEROUPPER()
	Store(X0, ReturnIndex(0))
	RET()
}

// reluMask emits g = dz where x*sc + sh > 0 (a multiply, then an add, in float32),
// else 0, for the 8 values at x and dz, into g; sc, sh, zero hold broadcasts.
func reluMask(x, dz Mem, sc, sh, zero, g VecPhysical) {
	VMULPS(x, sc, g)
	VADDPS(sh, g, g)
	VCMPPS(U8(0x1e), zero, g, g) // g > 0, ordered
	VANDPS(dz, g, g)
}

// reluGradSums emits reluGradSumsAVX2 (see reluGradSumsFunc in stats.go).
func reluGradSums() {
	TEXT("reluGradSumsAVX2", NOSPLIT, "func(x, dz *float32, n int, sc, sh float32) (sg, sgx float64)")
	Pragma("noescape")
	Doc("reluGradSumsAVX2 returns the float64 sums of g and g*x over x[0:n], g = dz where x*sc+sh > 0;",
		"n must be a positive multiple of 8.")
	x := Load(Param("x"), RSI)
	dz := Load(Param("dz"), RDI)
	n := Load(Param("n"), RCX)
	VBROADCASTSS(paramAddr("sc"), Y8)
	VBROADCASTSS(paramAddr("sh"), Y9)
	VXORPS(Y10, Y10, Y10)
	for _, a := range []VecPhysical{Y0, Y1, Y2, Y3} {
		VXORPD(a, a, a)
	}
	Label("reluGradSumsAVX2_loop")
	reluMask(Mem{Base: x}, Mem{Base: dz}, Y8, Y9, Y10, Y4)
	VCVTPS2PD(X4, Y5)
	VCVTPS2PD(Mem{Base: x}, Y6)
	VADDPD(Y5, Y0, Y0)
	VFMADD231PD(Y6, Y5, Y2)
	VEXTRACTF128(U8(1), Y4, X7)
	VCVTPS2PD(X7, Y5)
	VCVTPS2PD(Mem{Base: x, Disp: 16}, Y6)
	VADDPD(Y5, Y1, Y1)
	VFMADD231PD(Y6, Y5, Y3)
	ADDQ(U8(32), x)
	ADDQ(U8(32), dz)
	SUBQ(U8(8), n)
	JNE(LabelRef("reluGradSumsAVX2_loop"))
	VADDPD(Y1, Y0, Y0)
	VADDPD(Y3, Y2, Y2)
	reduceSum4(Y0, X0, X1)
	reduceSum4(Y2, X2, X3)
	VZEROUPPER()
	Store(X0, ReturnIndex(0))
	Store(X2, ReturnIndex(1))
	RET()
}

// reluGradDx emits reluGradDxAVX2 (see reluGradDxFunc in stats.go).
func reluGradDx() {
	TEXT("reluGradDxAVX2", NOSPLIT, "func(x, dz, dx *float32, n int, sc, sh float32, a, b, c float64, acc bool)")
	Pragma("noescape")
	Doc("reluGradDxAVX2 writes dx[i] = float32(a*g + b + c*x[i]) in float64 (added to dx when acc) over",
		"x[0:n], g = dz where x*sc+sh > 0; n must be a positive multiple of 8.")
	x := Load(Param("x"), RSI)
	dz := Load(Param("dz"), RDI)
	dx := Load(Param("dx"), RDX)
	n := Load(Param("n"), RCX)
	VBROADCASTSS(paramAddr("sc"), Y8)
	VBROADCASTSS(paramAddr("sh"), Y9)
	VXORPS(Y10, Y10, Y10)
	VBROADCASTSD(paramAddr("a"), Y11)
	VBROADCASTSD(paramAddr("b"), Y12)
	VBROADCASTSD(paramAddr("c"), Y13)
	Load(Param("acc"), AL)
	for _, acc := range []bool{true, false} {
		loop := "reluGradDxAVX2_plain"
		if acc {
			loop = "reluGradDxAVX2_acc"
			TESTB(AL, AL)
			JE(LabelRef("reluGradDxAVX2_plain"))
		}
		Label(loop)
		reluMask(Mem{Base: x}, Mem{Base: dz}, Y8, Y9, Y10, Y4)
		VCVTPS2PD(X4, Y5)
		VCVTPS2PD(Mem{Base: x}, Y6)
		VMOVAPD(Y12, Y7)
		VFMADD231PD(Y11, Y5, Y7)
		VFMADD231PD(Y13, Y6, Y7)
		VCVTPD2PSY(Y7, X7)
		VEXTRACTF128(U8(1), Y4, X14)
		VCVTPS2PD(X14, Y5)
		VCVTPS2PD(Mem{Base: x, Disp: 16}, Y6)
		VMOVAPD(Y12, Y15)
		VFMADD231PD(Y11, Y5, Y15)
		VFMADD231PD(Y13, Y6, Y15)
		VCVTPD2PSY(Y15, X15)
		VINSERTF128(U8(1), X15, Y7, Y7)
		if acc {
			VADDPS(Mem{Base: dx}, Y7, Y7)
		}
		VMOVUPS(Y7, Mem{Base: dx})
		ADDQ(U8(32), x)
		ADDQ(U8(32), dz)
		ADDQ(U8(32), dx)
		SUBQ(U8(8), n)
		JNE(LabelRef(loop))
		VZEROUPPER()
		RET()
	}
}

// statsAll emits every routine of this file.
func statsAll() {
	max3()
	sumF64()
	sqDevF64()
	reluGradSums()
	reluGradDx()
	addReLU(false)
	addReLU(true)
	reluMaskKeep()
	sumF64x16(false)
	sumF64x16(true)
	reluGradSums512()
	reluGradDx512()
	axpyF64(false)
	axpyF64(true)
}

// addReLU emits addReLUAVX2 (identity shortcut, bn false) or addReLUBNAVX2 (a BN on the
// shortcut): z[i] = max(0, (y[i]*sc + sh) + r[i]), r[i] first becoming r[i]*rsc + rsh
// with bn, each product and sum rounded to float32 (no FMA) as the Go loop rounds them;
// the maximum is Go's: +0 for -0, NaN for NaN (VMAXPS with the sum first gives 0 for a
// NaN, which is blended back).
func addReLU(bn bool) {
	name, sig := "addReLUAVX2", "func(z, y, r *float32, n int, sc, sh float32)"
	if bn {
		name, sig = "addReLUBNAVX2", "func(z, y, r *float32, n int, sc, sh, rsc, rsh float32)"
	}
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	Doc(name+" writes z[i] = max(0, (y[i]*sc + sh) + r[i]) over n values, each step rounded to float32,",
		"NaN where the sum is NaN (with a shortcut BN, r[i] is r[i]*rsc + rsh first); n must be a",
		"positive multiple of 8. z may be y or r itself.")
	z := Load(Param("z"), RDI)
	y := Load(Param("y"), RSI)
	r := Load(Param("r"), RDX)
	n := Load(Param("n"), RCX)
	VBROADCASTSS(paramAddr("sc"), Y8)
	VBROADCASTSS(paramAddr("sh"), Y9)
	VXORPS(Y10, Y10, Y10)
	if bn {
		VBROADCASTSS(paramAddr("rsc"), Y11)
		VBROADCASTSS(paramAddr("rsh"), Y12)
	}
	Label(name + "_loop")
	VMULPS(Mem{Base: y}, Y8, Y0)
	VADDPS(Y9, Y0, Y0)
	if bn {
		VMULPS(Mem{Base: r}, Y11, Y3)
		VADDPS(Y12, Y3, Y3)
		VADDPS(Y3, Y0, Y0)
	} else {
		VADDPS(Mem{Base: r}, Y0, Y0)
	}
	VMAXPS(Y10, Y0, Y1)       // s > 0 ? s : +0
	VCMPPS(U8(3), Y0, Y0, Y2) // s unordered: s is NaN
	VBLENDVPS(Y2, Y0, Y1, Y1)
	VMOVUPS(Y1, Mem{Base: z})
	ADDQ(U8(32), y)
	ADDQ(U8(32), r)
	ADDQ(U8(32), z)
	SUBQ(U8(8), n)
	JNE(LabelRef(name + "_loop"))
	VZEROUPPER()
	RET()
}

// reluMaskKeep emits reluMaskAVX2: g[i] = dz[i] where z[i] > 0, else +0 (the bits of dz
// and'ed with the comparison's mask, as the Go loop does).
func reluMaskKeep() {
	TEXT("reluMaskAVX2", NOSPLIT, "func(dst, z, dz *float32, n int)")
	Pragma("noescape")
	Doc("reluMaskAVX2 writes dst[i] = dz[i] where z[i] > 0, else +0, over n values; n must be a positive",
		"multiple of 8. dst may be dz itself (the parameter is not named g: Go's assembler reserves it).")
	g := Load(Param("dst"), RDI)
	z := Load(Param("z"), RSI)
	dz := Load(Param("dz"), RDX)
	n := Load(Param("n"), RCX)
	VXORPS(Y10, Y10, Y10)
	Label("reluMaskAVX2_loop")
	VMOVUPS(Mem{Base: z}, Y0)
	VCMPPS(U8(0x1e), Y10, Y0, Y1) // z > 0, ordered: false for NaN
	VANDPS(Mem{Base: dz}, Y1, Y1)
	VMOVUPS(Y1, Mem{Base: g})
	ADDQ(U8(32), z)
	ADDQ(U8(32), dz)
	ADDQ(U8(32), g)
	SUBQ(U8(8), n)
	JNE(LabelRef("reluMaskAVX2_loop"))
	VZEROUPPER()
	RET()
}

// max3 emits max3AVX2: dst[i] = the maximum of a[i], b[i] and c[i], NaN where any is NaN
// (VMAXPS alone returns its second source when either is NaN: the first source's NaNs
// are blended back in after each step).
func max3() {
	TEXT("max3AVX2", NOSPLIT, "func(dst, a, b, c *float32, n int)")
	Pragma("noescape")
	Doc("max3AVX2 writes dst[i] = max(a[i], b[i], c[i]), NaN where any is NaN, over n values;",
		"n must be a positive multiple of 8.")
	dst := Load(Param("dst"), RDI)
	a := Load(Param("a"), RSI)
	b := Load(Param("b"), RDX)
	c := Load(Param("c"), R8)
	n := Load(Param("n"), RCX)
	Label("max3AVX2_loop")
	VMOVUPS(Mem{Base: a}, Y0)
	VMAXPS(Mem{Base: b}, Y0, Y1) // max(a, b), b where either is NaN
	VCMPPS(U8(3), Y0, Y0, Y2)    // a unordered: a is NaN
	VBLENDVPS(Y2, Y0, Y1, Y1)
	VMAXPS(Mem{Base: c}, Y1, Y3)
	VCMPPS(U8(3), Y1, Y1, Y2)
	VBLENDVPS(Y2, Y1, Y3, Y3)
	VMOVUPS(Y3, Mem{Base: dst})
	ADDQ(U8(32), a)
	ADDQ(U8(32), b)
	ADDQ(U8(32), c)
	ADDQ(U8(32), dst)
	SUBQ(U8(8), n)
	JNE(LabelRef("max3AVX2_loop"))
	VZEROUPPER()
	RET()
}

// The AVX-512 reductions: the same contracts as the AVX2 ones (n a positive multiple of
// 16 for the sums of x, of 8 for the ReLU gradients), 16 floats per step converted to
// float64 in two zmm halves, a tail of 8 in ymm converted into one zmm; their own
// orders of summation, as each family has.

// reduceSum8 leaves the sum of the 8 doubles of z in the low lane of its xmm (y and x
// scratch).
func reduceSum8(z VecPhysical, y, x VecPhysical) {
	zy, zx := z.AsY().(VecPhysical), z.AsX().(VecPhysical)
	VEXTRACTF64X4(U8(1), z, y)
	VADDPD(y, zy, zy)
	reduceSum4(zy, zx, x)
}

// sumF64x16 emits sumF64AVX512 and sqDevF64AVX512 (dev): the float64 sum of x, or of
// (x - m)^2.
func sumF64x16(dev bool) {
	name, sig := "sumF64AVX512", "func(x *float32, n int) float64"
	if dev {
		name, sig = "sqDevF64AVX512", "func(x *float32, n int, m float64) float64"
	}
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	Doc(name + " is " + map[bool]string{false: "sumF64AVX2", true: "sqDevF64AVX2"}[dev] + " with AVX-512; n must be a positive multiple of 16.")
	x := Load(Param("x"), RSI)
	n := Load(Param("n"), RCX)
	if dev {
		VBROADCASTSD(paramAddr("m"), Z9)
	}
	accs := []VecPhysical{Z0, Z1, Z2, Z3}
	for _, a := range accs {
		VXORPD(a.AsY(), a.AsY(), a.AsY()) // clears the whole zmm
	}
	add := func(m Mem, a VecPhysical) {
		if !dev {
			VCVTPS2PD(m, Z4)
			VADDPD(Z4, a, a)
			return
		}
		VCVTPS2PD(m, Z4)
		VSUBPD(Z9, Z4, Z4)
		VFMADD231PD(Z4, Z4, a)
	}
	CMPQ(n, U8(32))
	JL(LabelRef(name + "_tail"))
	Label(name + "_loop")
	for i, a := range accs {
		add(Mem{Base: x, Disp: 32 * i}, a)
	}
	ADDQ(U8(128), x)
	SUBQ(U8(32), n)
	CMPQ(n, U8(32))
	JGE(LabelRef(name + "_loop"))
	Label(name + "_tail")
	TESTQ(n, n)
	JE(LabelRef(name + "_done"))
	add(Mem{Base: x}, Z0)
	add(Mem{Base: x, Disp: 32}, Z1)
	Label(name + "_done")
	VADDPD(Z1, Z0, Z0)
	VADDPD(Z3, Z2, Z2)
	VADDPD(Z2, Z0, Z0)
	reduceSum8(Z0, Y1, X2)
	VZEROUPPER()
	Store(X0, ReturnIndex(0))
	RET()
}

// reluMask512 is reluMask for 16 values with AVX-512: g = dz where x*sc + sh > 0, else
// 0, sc and sh broadcast in Z8 and Z9, Z10 zero; K1 is clobbered.
func reluMask512(x, dz Mem, g VecPhysical) {
	VMULPS(x, Z8, g)
	VADDPS(Z9, g, g)
	VCMPPS(U8(0x1e), Z10, g, K1) // x*sc+sh > 0, ordered
	VMOVUPS_Z(dz, K1, g)
}

// reluGradSums512 emits reluGradSumsAVX512.
func reluGradSums512() {
	name := "reluGradSumsAVX512"
	TEXT(name, NOSPLIT, "func(x, dz *float32, n int, sc, sh float32) (sg, sgx float64)")
	Pragma("noescape")
	Doc(name + " is reluGradSumsAVX2 with AVX-512; n must be a positive multiple of 8.")
	x := Load(Param("x"), RSI)
	dz := Load(Param("dz"), RDI)
	n := Load(Param("n"), RCX)
	VBROADCASTSS(paramAddr("sc"), Z8)
	VBROADCASTSS(paramAddr("sh"), Z9)
	VXORPS(Y10, Y10, Y10)
	for _, a := range []VecPhysical{Z0, Z1, Z2, Z3} {
		VXORPD(a.AsY(), a.AsY(), a.AsY())
	}
	CMPQ(n, U8(16))
	JL(LabelRef(name + "_tail"))
	Label(name + "_loop")
	reluMask512(Mem{Base: x}, Mem{Base: dz}, Z4)
	VCVTPS2PD(Z4.AsY(), Z5)
	VCVTPS2PD(Mem{Base: x}, Z6)
	VADDPD(Z5, Z0, Z0)
	VFMADD231PD(Z6, Z5, Z2)
	VEXTRACTF64X4(U8(1), Z4, Y7)
	VCVTPS2PD(Y7, Z5)
	VCVTPS2PD(Mem{Base: x, Disp: 32}, Z6)
	VADDPD(Z5, Z1, Z1)
	VFMADD231PD(Z6, Z5, Z3)
	ADDQ(U8(64), x)
	ADDQ(U8(64), dz)
	SUBQ(U8(16), n)
	CMPQ(n, U8(16))
	JGE(LabelRef(name + "_loop"))
	Label(name + "_tail")
	TESTQ(n, n)
	JE(LabelRef(name + "_done"))
	reluMask(Mem{Base: x}, Mem{Base: dz}, Y8, Y9, Y10, Y4)
	VCVTPS2PD(Y4, Z5)
	VCVTPS2PD(Mem{Base: x}, Z6)
	VADDPD(Z5, Z0, Z0)
	VFMADD231PD(Z6, Z5, Z2)
	Label(name + "_done")
	VADDPD(Z1, Z0, Z0)
	VADDPD(Z3, Z2, Z2)
	reduceSum8(Z0, Y1, X4)
	reduceSum8(Z2, Y3, X4)
	VZEROUPPER()
	Store(X0, ReturnIndex(0))
	Store(X2, ReturnIndex(1))
	RET()
}

// reluGradDx512 emits reluGradDxAVX512.
func reluGradDx512() {
	name := "reluGradDxAVX512"
	TEXT(name, NOSPLIT, "func(x, dz, dx *float32, n int, sc, sh float32, a, b, c float64, acc bool)")
	Pragma("noescape")
	Doc(name + " is reluGradDxAVX2 with AVX-512; n must be a positive multiple of 8.")
	x := Load(Param("x"), RSI)
	dz := Load(Param("dz"), RDI)
	dx := Load(Param("dx"), RDX)
	n := Load(Param("n"), RCX)
	VBROADCASTSS(paramAddr("sc"), Z8)
	VBROADCASTSS(paramAddr("sh"), Z9)
	VXORPS(Y10, Y10, Y10)
	VBROADCASTSD(paramAddr("a"), Z11)
	VBROADCASTSD(paramAddr("b"), Z12)
	VBROADCASTSD(paramAddr("c"), Z13)
	Load(Param("acc"), AL)
	// half computes float32(a*g + b + c*x) of 8 values, g in ymm gy, x at xm, into ymm out.
	half := func(gy VecPhysical, xm Mem, out VecPhysical) {
		VCVTPS2PD(gy, Z5)
		VCVTPS2PD(xm, Z6)
		VMOVAPD(Z12, Z7)
		VFMADD231PD(Z11, Z5, Z7)
		VFMADD231PD(Z13, Z6, Z7)
		VCVTPD2PS(Z7, out)
	}
	for _, accum := range []bool{true, false} {
		sfx := map[bool]string{true: "_acc", false: "_plain"}[accum]
		if accum {
			TESTB(AL, AL)
			JE(LabelRef(name + "_plain"))
		}
		Label(name + sfx)
		CMPQ(n, U8(16))
		JL(LabelRef(name + sfx + "_tail"))
		Label(name + sfx + "_loop")
		reluMask512(Mem{Base: x}, Mem{Base: dz}, Z4)
		VEXTRACTF64X4(U8(1), Z4, Y14)
		half(Y4, Mem{Base: x}, Y15)
		half(Y14, Mem{Base: x, Disp: 32}, Y14)
		VINSERTF64X4(U8(1), Y14, Z15, Z15)
		if accum {
			VADDPS(Mem{Base: dx}, Z15, Z15)
		}
		VMOVUPS(Z15, Mem{Base: dx})
		ADDQ(U8(64), x)
		ADDQ(U8(64), dz)
		ADDQ(U8(64), dx)
		SUBQ(U8(16), n)
		CMPQ(n, U8(16))
		JGE(LabelRef(name + sfx + "_loop"))
		Label(name + sfx + "_tail")
		TESTQ(n, n)
		JE(LabelRef(name + sfx + "_done"))
		reluMask(Mem{Base: x}, Mem{Base: dz}, Y8, Y9, Y10, Y4)
		half(Y4, Mem{Base: x}, Y15)
		if accum {
			VADDPS(Mem{Base: dx}, Y15, Y15)
		}
		VMOVUPS(Y15, Mem{Base: dx})
		Label(name + sfx + "_done")
		VZEROUPPER()
		RET()
	}
}

// axpyF64 emits axpyF64AVX2 or axpyF64AVX512 (zmm): dst[i] += a * float64(x[i]) over n
// values, a multiply and then an add (no FMA), as the Go loop rounds them; n a positive
// multiple of 8 (AVX2) or 16 (AVX-512).
func axpyF64(zmmWidth bool) {
	name, step := "axpyF64AVX2", 8
	regs := []VecPhysical{Y0, Y1}
	if zmmWidth {
		name, step = "axpyF64AVX512", 16
		regs = []VecPhysical{Z0, Z1}
	}
	TEXT(name, NOSPLIT, "func(dst *float64, x *float32, n int, a float64)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s adds a*float64(x[i]) to dst[i] over n values (a multiply, then an add); n must be a", name),
		fmt.Sprintf("positive multiple of %d.", step))
	dst := Load(Param("dst"), RDI)
	x := Load(Param("x"), RSI)
	n := Load(Param("n"), RCX)
	av := Z8
	if !zmmWidth {
		av = Y8
	}
	VBROADCASTSD(paramAddr("a"), av)
	Label(name + "_loop")
	w := step / 2 // doubles a register
	for i, r := range regs {
		VCVTPS2PD(Mem{Base: x, Disp: 4 * w * i}, r)
		VMULPD(av, r, r)
		VADDPD(Mem{Base: dst, Disp: 8 * w * i}, r, r)
		VMOVUPD(r, Mem{Base: dst, Disp: 8 * w * i})
	}
	ADDQ(U8(4*step), x)
	ADDQ(U32(8*step), dst)
	SUBQ(U8(step), n)
	JNE(LabelRef(name + "_loop"))
	VZEROUPPER()
	RET()
}
