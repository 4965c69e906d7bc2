package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// Elementwise routines of package cpu: the end of a post-activation block (add, ReLU)
// and its gradient mask, and the three-way maximum of the max pool.

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
