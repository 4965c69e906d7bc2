package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// packBRows emits packBRows: for k rows of a row-major B (leading dimension
// ldb), copy panels full 16-column groups into packed micro-panels, panel p
// at dst + p*k*16, row r at +r*16. Reading row by row keeps the source
// sequential.
func packBRows() {
	TEXT("packBRows", NOSPLIT, "func(dst, src *float32, ldb, k, panels int)")
	Doc("packBRows packs k rows of panels 16-column groups of row-major B into micro-panels.",
		"k and panels must be at least 1.")
	packRows("packBRows", false)
}

// packBRowsPre emits packBRowsPre: packBRows with the BN-ReLU of the input applied on
// the way, row r (an input channel) as max(0, v*scale[r] + shift[r]) with the product
// rounded before the sum (no FMA), as package nn's bnrelu rounds it. The ReLU is
// VMAXPS with the value as the second source, so a NaN stays NaN as in Go's max.
func packBRowsPre() {
	TEXT("packBRowsPre", NOSPLIT, "func(dst, src *float32, ldb, k, panels int, scale, shift *float32)")
	Doc("packBRowsPre packs k rows of panels 16-column groups of row-major B into micro-panels,",
		"row r through max(0, v*scale[r]+shift[r]). k and panels must be at least 1.")
	packRows("packBRowsPre", true)
}

// packRows is the body of packBRows (pre false) and packBRowsPre (pre true: the
// parameters scale and shift, one value per row, applied as BN-ReLU); labels are
// prefixed with name.
func packRows(name string, pre bool) {
	dst := Load(Param("dst"), RDI)
	src := Load(Param("src"), RSI)
	ldb := Load(Param("ldb"), RDX)
	SHLQ(U8(2), ldb)
	k := Load(Param("k"), RCX)
	panels := Load(Param("panels"), R8)
	var scale, shift Register
	if pre {
		scale = Load(Param("scale"), R13)
		shift = Load(Param("shift"), R14)
	}
	stride := R9 // bytes between panels in dst
	MOVQ(k, stride)
	SHLQ(U8(6), stride)
	s, d, p := R10, R11, R12
	if pre {
		VXORPS(Y4, Y4, Y4)
	}
	Label(name + "_row")
	if pre {
		VBROADCASTSS(Mem{Base: scale}, Y2)
		VBROADCASTSS(Mem{Base: shift}, Y3)
	}
	MOVQ(src, s)
	MOVQ(dst, d)
	MOVQ(panels, p)
	Label(name + "_panel")
	if pre {
		VMULPS(Mem{Base: s}, Y2, Y0)
		VMULPS(Mem{Base: s, Disp: 32}, Y2, Y1)
		VADDPS(Y3, Y0, Y0)
		VADDPS(Y3, Y1, Y1)
		VMAXPS(Y0, Y4, Y0)
		VMAXPS(Y1, Y4, Y1)
	} else {
		VMOVUPS(Mem{Base: s}, Y0)
		VMOVUPS(Mem{Base: s, Disp: 32}, Y1)
	}
	VMOVUPS(Y0, Mem{Base: d})
	VMOVUPS(Y1, Mem{Base: d, Disp: 32})
	ADDQ(U8(64), s)
	ADDQ(stride, d)
	DECQ(p)
	JNE(LabelRef(name + "_panel"))
	ADDQ(ldb, src)
	ADDQ(U8(64), dst)
	if pre {
		ADDQ(U8(4), scale)
		ADDQ(U8(4), shift)
	}
	DECQ(k)
	JNE(LabelRef(name + "_row"))
	VZEROUPPER()
	RET()
}

// packBTrans emits packBTrans: for a B stored transposed (N x K row-major,
// leading dimension ldb), pack panels groups of 16 columns of op(B) (16 rows
// of the stored B) over the first k8 (a multiple of 8) of k depths; panel p at
// dst + p*k*16, depth r at +r*16. Each 8x8 block is transposed in registers.
func packBTrans() {
	TEXT("packBTrans", NOSPLIT, "func(dst, src *float32, ldb, k, k8, panels int)")
	Doc("packBTrans packs panels 16-column groups of op(B) = B^T over k8 depths (a multiple of 8, >= 8).",
		"Panel p goes to dst + p*k*16.")
	dst := Load(Param("dst"), RDI)
	src := Load(Param("src"), RSI)
	l := Load(Param("ldb"), RDX)
	SHLQ(U8(2), l)
	l3 := RBX
	LEAQ(Mem{Base: l, Index: l, Scale: 2}, l3)
	// fix is what dst needs past the k8 depths to reach the next panel.
	fix := Load(Param("k"), RCX)
	k8 := Load(Param("k8"), R8)
	SUBQ(k8, fix)
	SHLQ(U8(6), fix)
	SHRQ(U8(3), k8)
	panels := Load(Param("panels"), R9)
	s0, s4, s8, s12, d, kk := R10, R11, R12, R13, RDI, RAX
	rows := func(lo, hi Register) []Mem {
		return []Mem{
			{Base: lo}, {Base: lo, Index: l, Scale: 1}, {Base: lo, Index: l, Scale: 2}, {Base: lo, Index: l3, Scale: 1},
			{Base: hi}, {Base: hi, Index: l, Scale: 1}, {Base: hi, Index: l, Scale: 2}, {Base: hi, Index: l3, Scale: 1},
		}
	}
	r := []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7}
	t := []VecPhysical{Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}
	half := func(lo, hi Register, off int) {
		for i, m := range rows(lo, hi) {
			VMOVUPS(m, r[i])
		}
		for i := 0; i < 8; i += 2 {
			VUNPCKLPS(r[i+1], r[i], t[i])
			VUNPCKHPS(r[i+1], r[i], t[i+1])
		}
		for g := 0; g < 8; g += 4 {
			VSHUFPS(U8(0x44), t[g+2], t[g], r[g])
			VSHUFPS(U8(0xEE), t[g+2], t[g], r[g+1])
			VSHUFPS(U8(0x44), t[g+3], t[g+1], r[g+2])
			VSHUFPS(U8(0xEE), t[g+3], t[g+1], r[g+3])
		}
		for q := 0; q < 4; q++ {
			VPERM2F128(U8(0x20), r[q+4], r[q], t[q])
			VPERM2F128(U8(0x31), r[q+4], r[q], t[q+4])
		}
		for q := 0; q < 8; q++ {
			VMOVUPS(t[q], Mem{Base: d, Disp: q*nr*4 + off})
		}
	}
	Label("packBTrans_panel")
	MOVQ(src, s0)
	LEAQ(Mem{Base: s0, Index: l, Scale: 4}, s4)
	LEAQ(Mem{Base: s4, Index: l, Scale: 4}, s8)
	LEAQ(Mem{Base: s8, Index: l, Scale: 4}, s12)
	MOVQ(k8, kk)
	Label("packBTrans_k")
	half(s0, s4, 0)
	half(s8, s12, 32)
	for _, s := range []Register{s0, s4, s8, s12} {
		ADDQ(U8(32), s)
	}
	ADDQ(U32(8*nr*4), d)
	DECQ(kk)
	JNE(LabelRef("packBTrans_k"))
	LEAQ(Mem{Base: src, Index: l, Scale: 8}, src)
	LEAQ(Mem{Base: src, Index: l, Scale: 8}, src)
	ADDQ(fix, dst)
	DECQ(panels)
	JNE(LabelRef("packBTrans_panel"))
	VZEROUPPER()
	RET()
}
