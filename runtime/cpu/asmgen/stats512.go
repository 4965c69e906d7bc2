package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

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
