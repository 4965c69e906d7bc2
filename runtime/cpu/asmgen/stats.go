package main

import (
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
