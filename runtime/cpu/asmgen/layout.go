package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The c8 layout changes of package cpu (see wino.go there): 8 channels interleaved, with
// the BN-ReLU on the way in and the residual on the way out; 8x8 blocks transposed in
// registers.

// transpose8 transposes the 8x8 block in r (row i in r[i]) into t (t[q][i] = r[i][q]),
// clobbering r.
func transpose8(r, t []VecPhysical) {
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
}

// eightRows addresses row l (0 <= l < 8) of rows stride bytes apart, from base (rows
// 0..3) and base4 = base + 4*stride (rows 4..7), with stride3 = 3*stride.
func eightRows(base, base4, stride, stride3 Register, l int, disp int) Mem {
	b := base
	if l >= 4 {
		b, l = base4, l-4
	}
	m := Mem{Base: b, Disp: disp}
	switch l {
	case 1:
		m.Index, m.Scale = stride, 1
	case 2:
		m.Index, m.Scale = stride, 2
	case 3:
		m.Index, m.Scale = stride3, 1
	}
	return m
}

var (
	rRegs = []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7}
	tRegs = []VecPhysical{Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}
)

// packRegs are the registers of a pack routine (packC8Func's arguments): byte strides
// srcRow, srcC (srcC3 = 3*srcC) and dstRow; per row s0 and s4 = s0 + 4 channels walk src,
// d walks dst, xb counts blocks.
type packRegs struct {
	src, srcRow, srcC, srcC3, dst, dstRow, rows, s0, s4, d, xb Register
}

// packPrologue loads a pack routine's arguments (it leaves RAX alone, for the bn flag).
func packPrologue() packRegs {
	var p packRegs
	p.src = Load(Param("src"), RSI)
	p.srcRow = Load(Param("srcRow"), R8)
	SHLQ(U8(2), p.srcRow)
	p.srcC = Load(Param("srcC"), R9)
	SHLQ(U8(2), p.srcC)
	p.dst = Load(Param("dst"), RDI)
	p.dstRow = Load(Param("dstRow"), R10)
	SHLQ(U8(2), p.dstRow)
	p.rows = Load(Param("rows"), RCX)
	p.srcC3, p.s0, p.s4, p.d, p.xb = R11, R12, R13, RBX, RDX
	LEAQ(Mem{Base: p.srcC, Index: p.srcC, Scale: 2}, p.srcC3)
	return p
}

// packC8Rows emits a c8 pack routine's two variants, with the BN-ReLU and without
// (chosen by the bn flag in AL), each a loop over rows and, per row, over its w >> shift
// blocks of 1 << shift pixels: block(bn) packs the block at s0, s4 into d, and the loop
// moves them on. setup, when not nil, runs once at the start of the BN variant.
func packC8Rows(name string, p packRegs, shift uint8, setup func(), block func(bn bool)) {
	px := 1 << shift
	for _, bn := range []bool{true, false} {
		suffix := "_bn"
		if !bn {
			suffix = "_plain"
			Label(name + "_plainstart")
		} else {
			TESTB(AL, AL)
			JE(LabelRef(name + "_plainstart"))
			if setup != nil {
				setup()
			}
		}
		Label(name + suffix + "_row")
		MOVQ(p.src, p.s0)
		LEAQ(Mem{Base: p.src, Index: p.srcC, Scale: 4}, p.s4)
		MOVQ(p.dst, p.d)
		Load(Param("w"), p.xb)
		SHRQ(U8(shift), p.xb)
		Label(name + suffix + "_x")
		block(bn)
		ADDQ(U8(4*px), p.s0)
		ADDQ(U8(4*px), p.s4)
		ADDQ(U32(32*px), p.d)
		DECQ(p.xb)
		JNE(LabelRef(name + suffix + "_x"))
		ADDQ(p.srcRow, p.src)
		ADDQ(p.dstRow, p.dst)
		DECQ(p.rows)
		JNE(LabelRef(name + suffix + "_row"))
		VZEROUPPER()
		RET()
	}
}

// packC8 emits packC8AVX2 (see packC8Func in wino.go).
func packC8() {
	name := "packC8AVX2"
	TEXT(name, 0, "func(src *float32, srcRow, srcC, w, rows int, scale, shift *float32, bn bool, dst *float32, dstRow int)")
	Pragma("noescape")
	Doc(name+" converts rows of 8 channels to the c8 layout, with BN-ReLU when bn (packC8Func).",
		"w must be a positive multiple of 8.")
	tab := AllocLocal(16 * 32) // broadcast scale[l] at l*32, shift[l] at (8+l)*32
	Load(Param("bn"), AL)
	TESTB(AL, AL)
	JE(LabelRef(name + "_nobn"))
	sc := Load(Param("scale"), RSI)
	sh := Load(Param("shift"), RDI)
	for l := 0; l < 8; l++ {
		VBROADCASTSS(Mem{Base: sc, Disp: 4 * l}, Y0)
		VMOVUPS(Y0, tab.Offset(l*32))
		VBROADCASTSS(Mem{Base: sh, Disp: 4 * l}, Y0)
		VMOVUPS(Y0, tab.Offset((8+l)*32))
	}
	Label(name + "_nobn")
	p := packPrologue()
	packC8Rows(name, p, 3, nil, func(bn bool) {
		for l := 0; l < 8; l++ {
			VMOVUPS(eightRows(p.s0, p.s4, p.srcC, p.srcC3, l, 0), rRegs[l])
		}
		if bn {
			VXORPS(Y8, Y8, Y8)
			for l := 0; l < 8; l++ {
				VMULPS(tab.Offset(l*32), rRegs[l], rRegs[l])
				VADDPS(tab.Offset((8+l)*32), rRegs[l], rRegs[l])
				VMAXPS(Y8, rRegs[l], rRegs[l])
			}
		}
		transpose8(rRegs, tRegs)
		for q := 0; q < 8; q++ {
			VMOVUPS(tRegs[q], Mem{Base: p.d, Disp: q * 32})
		}
	})
}

// unpackRegs are the registers and frame slots of an unpack routine (unpackC8Func's
// arguments): pixel and channel strides in bytes (pix3 = 3*pix, dstC3 = 3*dstC); per
// row s and s4 = s + 4 pixels walk src, d0 and d4 = d0 + 4 channels walk dst, xb counts
// blocks; with a residual rOff = res - dst.
type unpackRegs struct {
	src, dst, pix, pix3, dstC, dstC3, s, s4, d0, d4, xb, res, rOff Register
	rows, srcRow, dstRow                                           Mem
}

// unpackPrologue loads an unpack routine's arguments.
func unpackPrologue() unpackRegs {
	var u unpackRegs
	u.src = Load(Param("src"), RSI)
	u.pix = Load(Param("srcPix"), R8)
	SHLQ(U8(2), u.pix)
	u.pix3 = R9
	LEAQ(Mem{Base: u.pix, Index: u.pix, Scale: 2}, u.pix3)
	u.dst = Load(Param("dst"), RDI)
	u.dstC = Load(Param("dstC"), R10)
	SHLQ(U8(2), u.dstC)
	u.rows = AllocLocal(8)
	Load(Param("rows"), RCX)
	MOVQ(RCX, u.rows)
	u.srcRow, u.dstRow = AllocLocal(8), AllocLocal(8)
	Load(Param("srcRow"), RCX)
	SHLQ(U8(2), RCX)
	MOVQ(RCX, u.srcRow)
	Load(Param("dstRow"), RCX)
	SHLQ(U8(2), RCX)
	MOVQ(RCX, u.dstRow)
	u.res = Load(Param("res"), RAX)
	u.dstC3, u.s, u.d0, u.d4, u.xb = R11, R12, R13, RBX, RDX
	u.s4 = RAX // free once res is turned into rOff
	u.rOff = RCX
	LEAQ(Mem{Base: u.dstC, Index: u.dstC, Scale: 2}, u.dstC3)
	return u
}

// unpackRows emits an unpack routine's two variants, with a residual and without, each
// a loop over rows that sets up the row's pointers and its block count (w >> shift) and
// runs body(withRes, suffix) on the row.
func unpackRows(name string, u unpackRegs, shift uint8, body func(withRes bool, suffix string)) {
	for _, withRes := range []bool{true, false} {
		suffix := "_res"
		if !withRes {
			suffix = "_plain"
			Label(name + "_plainstart")
		} else {
			TESTQ(u.res, u.res)
			JE(LabelRef(name + "_plainstart"))
			MOVQ(u.res, u.rOff)
			SUBQ(u.dst, u.rOff)
		}
		Label(name + suffix + "_row")
		MOVQ(u.src, u.s)
		LEAQ(Mem{Base: u.src, Index: u.pix, Scale: 4}, u.s4)
		MOVQ(u.dst, u.d0)
		LEAQ(Mem{Base: u.dst, Index: u.dstC, Scale: 4}, u.d4)
		Load(Param("w"), u.xb)
		SHRQ(U8(shift), u.xb)
		body(withRes, suffix)
		ADDQ(u.srcRow, u.src)
		ADDQ(u.dstRow, u.dst)
		DECQ(u.rows)
		JNE(LabelRef(name + suffix + "_row"))
		VZEROUPPER()
		RET()
	}
}

// unpackC8 emits unpackC8AVX2 (see unpackC8Func in wino.go).
func unpackC8() {
	name := "unpackC8AVX2"
	TEXT(name, NOSPLIT, "func(src *float32, srcRow, srcPix, w, rows int, dst *float32, dstRow, dstC int, res *float32)")
	Pragma("noescape")
	Doc(name+" converts rows of c8 vectors back to 8 channels, adding res when it is not nil (unpackC8Func).",
		"w must be a positive multiple of 8.")
	u := unpackPrologue()
	pair := AllocLocal(8 * 32) // the first block of a pair, transposed
	s, s4, pix, pix3, d0, d4, dstC, dstC3, xb, rOff := u.s, u.s4, u.pix, u.pix3, u.d0, u.d4, u.dstC, u.dstC3, u.xb, u.rOff
	unpackRows(name, u, 3, func(withRes bool, suffix string) {
		// block transposes the 8 vectors of 8 pixels at s into tRegs and moves s on.
		block := func() {
			for q := 0; q < 8; q++ {
				VMOVUPS(eightRows(s, s4, pix, pix3, q, 0), rRegs[q])
			}
			transpose8(rRegs, tRegs)
			LEAQ(Mem{Base: s, Index: pix, Scale: 8}, s)
			LEAQ(Mem{Base: s4, Index: pix, Scale: 8}, s4)
		}
		// Pairs of blocks: the first block's rows wait in pair, so that each channel's
		// 16 floats (a whole line where aligned) are read from res and written at once.
		// One block at a time wrote half lines: the 8 destination and 8 residual rows of
		// a 32x32 image's planes are 4 KiB apart, 16 lines of one 12-way L1 set, and each
		// was evicted before its second half came. At WRN-16-4's batch 64 on 2 threads
		// (AMD EPYC Zen 5) unpackC8's share of the samples went from 9.7% to 7.6%, the
		// network's images/s up 1.7% (medians of 5, within the noise).
		Label(name + suffix + "_pair")
		CMPQ(xb, U8(2))
		JL(LabelRef(name + suffix + "_single"))
		block()
		for l := 0; l < 8; l++ {
			VMOVUPS(tRegs[l], pair.Offset(l*32))
		}
		block()
		if withRes {
			ADDQ(rOff, d0)
			ADDQ(rOff, d4)
			for l := 0; l < 8; l++ {
				VMOVUPS(pair.Offset(l*32), rRegs[l])
				VADDPS(eightRows(d0, d4, dstC, dstC3, l, 0), rRegs[l], rRegs[l])
				VADDPS(eightRows(d0, d4, dstC, dstC3, l, 32), tRegs[l], tRegs[l])
			}
			SUBQ(rOff, d0)
			SUBQ(rOff, d4)
		} else {
			for l := 0; l < 8; l++ {
				VMOVUPS(pair.Offset(l*32), rRegs[l])
			}
		}
		for l := 0; l < 8; l++ {
			VMOVUPS(rRegs[l], eightRows(d0, d4, dstC, dstC3, l, 0))
			VMOVUPS(tRegs[l], eightRows(d0, d4, dstC, dstC3, l, 32))
		}
		ADDQ(U8(64), d0)
		ADDQ(U8(64), d4)
		SUBQ(U8(2), xb)
		JMP(LabelRef(name + suffix + "_pair"))

		Label(name + suffix + "_single")
		TESTQ(xb, xb)
		JE(LabelRef(name + suffix + "_next"))
		block()
		if withRes {
			// Residual rows at the destination addresses plus rOff.
			ADDQ(rOff, d0)
			ADDQ(rOff, d4)
			for l := 0; l < 8; l++ {
				VADDPS(eightRows(d0, d4, dstC, dstC3, l, 0), tRegs[l], tRegs[l])
			}
			SUBQ(rOff, d0)
			SUBQ(rOff, d4)
		}
		for l := 0; l < 8; l++ {
			VMOVUPS(tRegs[l], eightRows(d0, d4, dstC, dstC3, l, 0))
		}
		Label(name + suffix + "_next")
	})
}

// layoutAll emits every routine of this file and of layout512.go.
func layoutAll() {
	packC8()
	packC8x16()
	gatherRowsC8()
	unpackC8()
	unpackC8x16()
}

// gatherRowsC8 emits gatherRowsC8AVX2 (gatherRowsC8Func in wino.go): per pixel, its r*r
// taps, and per tap the nb channel blocks of 8 floats, one ymm load and store each.
func gatherRowsC8() {
	name := "gatherRowsC8AVX2"
	TEXT(name, NOSPLIT, "func(dst *float32, lda int, src *float32, step, n, r, nb, cp, zRow, cStride int)")
	Pragma("noescape")
	Doc(name + " writes n rows of an im2row matrix from c8 planes (gatherRowsC8Func).")
	dstP := Load(Param("dst"), RDI)
	srcP := Load(Param("src"), RSI)
	px := Load(Param("n"), RCX)
	cs := Load(Param("cStride"), R12)
	SHLQ(U8(2), cs)
	cp := Load(Param("cp"), R13)
	SHLQ(U8(2), cp)
	// R14: from the end of a tap row (r taps of 32 bytes) to the next row, zRow - 32r
	// floats, in bytes.
	back := Load(Param("zRow"), R14)
	SHLQ(U8(2), back)
	r := Load(Param("r"), RAX)
	SHLQ(U8(5), r)
	SUBQ(r, back)
	sij, dij, ic, jc, cb, sp, dp := RAX, RBX, RDX, R8, R9, R10, R11
	Label(name + "_pixel")
	MOVQ(srcP, sij)
	MOVQ(dstP, dij)
	Load(Param("r"), ic)
	Label(name + "_i")
	Load(Param("r"), jc)
	Label(name + "_j")
	MOVQ(sij, sp)
	MOVQ(dij, dp)
	Load(Param("nb"), cb)
	Label(name + "_cb")
	VMOVUPS(Mem{Base: sp}, Y0)
	VMOVUPS(Y0, Mem{Base: dp})
	ADDQ(cs, sp)
	ADDQ(U8(32), dp)
	DECQ(cb)
	JNE(LabelRef(name + "_cb"))
	ADDQ(U8(32), sij)
	ADDQ(cp, dij)
	DECQ(jc)
	JNE(LabelRef(name + "_j"))
	ADDQ(back, sij)
	DECQ(ic)
	JNE(LabelRef(name + "_i"))
	// The next pixel: src on by step floats, dst by lda.
	Load(Param("step"), sp)
	LEAQ(Mem{Base: srcP, Index: sp, Scale: 4}, srcP)
	Load(Param("lda"), dp)
	LEAQ(Mem{Base: dstP, Index: dp, Scale: 4}, dstP)
	DECQ(px)
	JNE(LabelRef(name + "_pixel"))
	VZEROUPPER()
	RET()
}
