package main

import (
	"log"

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
	src := Load(Param("src"), RSI)
	srcRow := Load(Param("srcRow"), R8)
	SHLQ(U8(2), srcRow)
	srcC := Load(Param("srcC"), R9)
	SHLQ(U8(2), srcC)
	dst := Load(Param("dst"), RDI)
	dstRow := Load(Param("dstRow"), R10)
	SHLQ(U8(2), dstRow)
	rows := Load(Param("rows"), RCX)
	srcC3, s0, s4, d, xb := R11, R12, R13, RBX, RDX
	LEAQ(Mem{Base: srcC, Index: srcC, Scale: 2}, srcC3)

	for _, bn := range []bool{true, false} {
		suffix := "_bn"
		if !bn {
			suffix = "_plain"
			Label(name + "_plainstart")
		} else {
			TESTB(AL, AL)
			JE(LabelRef(name + "_plainstart"))
		}
		Label(name + suffix + "_row")
		MOVQ(src, s0)
		LEAQ(Mem{Base: src, Index: srcC, Scale: 4}, s4)
		MOVQ(dst, d)
		Load(Param("w"), xb)
		SHRQ(U8(3), xb)
		Label(name + suffix + "_x")
		for l := 0; l < 8; l++ {
			VMOVUPS(eightRows(s0, s4, srcC, srcC3, l, 0), rRegs[l])
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
			VMOVUPS(tRegs[q], Mem{Base: d, Disp: q * 32})
		}
		ADDQ(U8(32), s0)
		ADDQ(U8(32), s4)
		ADDQ(U32(256), d)
		DECQ(xb)
		JNE(LabelRef(name + suffix + "_x"))
		ADDQ(srcRow, src)
		ADDQ(dstRow, dst)
		DECQ(rows)
		JNE(LabelRef(name + suffix + "_row"))
		VZEROUPPER()
		RET()
	}
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

// layoutAll emits every routine of this file.
func layoutAll() {
	packC8()
	packC8x16()
	gatherRowsC8()
	unpackC8()
	unpackC8x16()
}

// unpackLayouts are where the 16 pixels (p) of 8 channels (c) of an AVX-512 unpack
// block sit in 8 zmm registers (reg, lane) before and after each of its three permute
// stages: loaded two pixels a register, stage s trades the register bit that holds a
// pixel bit for a channel bit, and the last layout is one channel a register, pixel p
// in lane p.
var unpackLayouts = []func(p, c int) (reg, lane int){
	func(p, c int) (int, int) { return p >> 1, (p&1)<<3 | c },
	func(p, c int) (int, int) {
		return (p>>3&1)<<2 | (p>>2&1)<<1 | c&1, (p>>1&1)<<3 | (p&1)<<2 | (c>>2&1)<<1 | c>>1&1
	},
	func(p, c int) (int, int) {
		return (p>>3&1)<<2 | (c>>1&1)<<1 | c&1, (p>>2&1)<<3 | (p>>1&1)<<2 | (p&1)<<1 | c>>2&1
	},
	func(p, c int) (int, int) { return c, p },
}

// unpackPerms returns the VPERMT2PS indices of unpack permute stage s (0, 1, 2): from
// unpackLayouts[s] to unpackLayouts[s+1].
func unpackPerms(s int) [2][16]uint32 {
	return layoutPerms("unpack", s, unpackLayouts[s], unpackLayouts[s+1])
}

// packPerms returns the VPERMT2PS indices of pack permute stage s (2, 1, 0, in that
// order): unpack stage s run backwards, from unpackLayouts[s+1] to unpackLayouts[s].
func packPerms(s int) [2][16]uint32 {
	return layoutPerms("pack", s, unpackLayouts[s+1], unpackLayouts[s])
}

// layoutPerms returns the VPERMT2PS indices of a permute stage from layout in to layout
// out that pairs the registers differing in bit s: for the output register whose bit is
// 0 and 1, each lane's source (lane, +16 for the pair's register with the bit set). It
// fails unless every value stays within its pair and the indices are the same for every
// pair, as one set of index registers needs.
func layoutPerms(what string, s int, in, out func(p, c int) (reg, lane int)) (idx [2][16]uint32) {
	bit := 1 << s
	seen := [2]bool{}
	for reg := 0; reg < 8; reg++ {
		hi := reg & bit >> s
		var v [16]uint32
		for p := 0; p < 16; p++ {
			for c := 0; c < 8; c++ {
				r, l := out(p, c)
				if r != reg {
					continue
				}
				ri, li := in(p, c)
				if ri&^bit != reg&^bit {
					log.Fatalf("asmgen: %s stage %d: (%d,%d) comes from register %d into %d", what, s, p, c, ri, reg)
				}
				v[l] = uint32(li + 16*(ri&bit>>s))
			}
		}
		if seen[hi] && v != idx[hi] {
			log.Fatalf("asmgen: %s stage %d: the indices differ between pairs", what, s)
		}
		idx[hi], seen[hi] = v, true
	}
	return idx
}

// unpackC8x16 emits unpackC8AVX512 (unpackC8Func on a multiple of 16 pixels): 16 pixels
// of 8 channels are loaded two pixels a zmm, transposed by three stages of two-source
// permutes (24 VPERMT2PS for 128 floats, against 48 shuffles in the AVX2 code), and
// each channel's 16 floats added to the residual and stored as one 64-byte vector.
func unpackC8x16() {
	name := "unpackC8AVX512"
	stages := []int{0, 1, 2}
	perm := permData("unpackC8Perm", stages, unpackPerms)
	TEXT(name, NOSPLIT, "func(src *float32, srcRow, srcPix, w, rows int, dst *float32, dstRow, dstC int, res *float32)")
	Pragma("noescape")
	Doc(name+" converts rows of c8 vectors back to 8 channels, adding res when it is not nil (unpackC8Func),",
		"16 pixels at a time with AVX-512. w must be a positive multiple of 16.")
	idxRegs := loadPerms(perm)
	u := unpackPrologue()
	s, s4, pix, pix3, d0, d4, dstC, dstC3, xb, rOff := u.s, u.s4, u.pix, u.pix3, u.d0, u.d4, u.dstC, u.dstC3, u.xb, u.rOff
	data := []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7}
	tmp := []VecPhysical{Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15}
	unpackRows(name, u, 4, func(withRes bool, suffix string) {
		Label(name + suffix + "_x")
		// Register q holds pixels 2q and 2q+1: the first four from pixels 0-7 at s, the
		// next four from the 8 after (s moved on by 8 pixels in between).
		for half := 0; half < 2; half++ {
			for q := 0; q < 4; q++ {
				z := data[4*half+q]
				VMOVUPS(eightRows(s, s4, pix, pix3, 2*q, 0), z.AsY())
				VINSERTF64X4(U8(1), eightRows(s, s4, pix, pix3, 2*q+1, 0), z, z)
			}
			LEAQ(Mem{Base: s, Index: pix, Scale: 8}, s)
			LEAQ(Mem{Base: s4, Index: pix, Scale: 8}, s4)
		}
		regs := permuteStages(data, tmp, idxRegs, stages)
		if withRes {
			ADDQ(rOff, d0)
			ADDQ(rOff, d4)
			for l := 0; l < 8; l++ {
				VADDPS(eightRows(d0, d4, dstC, dstC3, l, 0), regs[l], regs[l])
			}
			SUBQ(rOff, d0)
			SUBQ(rOff, d4)
		}
		for l := 0; l < 8; l++ {
			VMOVUPS(regs[l], eightRows(d0, d4, dstC, dstC3, l, 0))
		}
		ADDQ(U8(64), d0)
		ADDQ(U8(64), d4)
		DECQ(xb)
		JNE(LabelRef(name + suffix + "_x"))
	})
}

// permData emits the read-only table sym of the VPERMT2PS indices of the permute stages
// (in the order run, two 64-byte index vectors each) and returns it.
func permData(sym string, stages []int, perms func(s int) [2][16]uint32) Mem {
	perm := GLOBL(sym, RODATA|NOPTR)
	for i, st := range stages {
		idx := perms(st)
		for h := 0; h < 2; h++ {
			for j, v := range idx[h] {
				DATA(4*(32*i+16*h+j), U32(v))
			}
		}
	}
	return perm
}

// loadPerms loads a permData table of three stages into Z16..Z21, as permuteStages
// takes them.
func loadPerms(perm Mem) []VecPhysical {
	idxRegs := []VecPhysical{Z16, Z17, Z18, Z19, Z20, Z21}
	for i, z := range idxRegs {
		VMOVUPS(perm.Offset(64*i), z)
	}
	return idxRegs
}

// permuteStages emits the permute stages of a layout change of 8 zmm registers, data,
// with 8 spare registers: stage st (in the order given) pairs the registers that differ
// in bit st and takes its two index vectors from idx[2i] and idx[2i+1] for the i-th stage
// run. It returns the registers that hold the result, register r of the last layout in
// element r.
func permuteStages(data, spare, idx []VecPhysical, stages []int) []VecPhysical {
	regs := append([]VecPhysical(nil), data...)
	spare = append([]VecPhysical(nil), spare...)
	for i, st := range stages {
		bit := 1 << st
		next := make([]VecPhysical, 8)
		for r := 0; r < 8; r++ {
			if r&bit != 0 {
				continue
			}
			a, b := regs[r], regs[r|bit]
			t := spare[r]
			VMOVAPS(a, t)
			VPERMT2PS(b, idx[2*i], t)
			VPERMT2PS(b, idx[2*i+1], a)
			next[r], next[r|bit] = t, a
			spare[r] = b // b is free once both outputs are made
		}
		regs = next
	}
	return regs
}

// packC8x16 emits packC8AVX512 (packC8Func on a multiple of 16 pixels): each channel's
// 16 pixels are loaded as one zmm (and put through the BN-ReLU, a multiply then an add
// as in the Go code), the three permute stages of unpackC8x16 run backwards, and each
// register, two pixels of 8 channels, is stored as one 64-byte vector.
func packC8x16() {
	name := "packC8AVX512"
	stages := []int{2, 1, 0}
	perm := permData("packC8Perm", stages, packPerms)
	TEXT(name, NOSPLIT, "func(src *float32, srcRow, srcC, w, rows int, scale, shift *float32, bn bool, dst *float32, dstRow int)")
	Pragma("noescape")
	Doc(name+" converts rows of 8 channels to the c8 layout, with BN-ReLU when bn (packC8Func),",
		"16 pixels at a time with AVX-512. w must be a positive multiple of 16.")
	idxRegs := loadPerms(perm)
	src := Load(Param("src"), RSI)
	srcRow := Load(Param("srcRow"), R8)
	SHLQ(U8(2), srcRow)
	srcC := Load(Param("srcC"), R9)
	SHLQ(U8(2), srcC)
	dst := Load(Param("dst"), RDI)
	dstRow := Load(Param("dstRow"), R10)
	SHLQ(U8(2), dstRow)
	rows := Load(Param("rows"), RCX)
	// The BN's scale and shift are read as broadcast memory operands (the data, spare
	// and index registers leave too few for 16 broadcast constants).
	sc, sh := R14, RAX
	srcC3, s0, s4, d, xb := R11, R12, R13, RBX, RDX
	LEAQ(Mem{Base: srcC, Index: srcC, Scale: 2}, srcC3)
	Load(Param("bn"), AL)
	zero := Z31
	VXORPS(zero, zero, zero)
	data := []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7}
	tmp := []VecPhysical{Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15}
	for _, bn := range []bool{true, false} {
		suffix := "_bn"
		if !bn {
			suffix = "_plain"
			Label(name + "_plainstart")
		} else {
			TESTB(AL, AL)
			JE(LabelRef(name + "_plainstart"))
			Load(Param("scale"), sc)
			Load(Param("shift"), sh)
		}
		Label(name + suffix + "_row")
		MOVQ(src, s0)
		LEAQ(Mem{Base: src, Index: srcC, Scale: 4}, s4)
		MOVQ(dst, d)
		Load(Param("w"), xb)
		SHRQ(U8(4), xb)
		Label(name + suffix + "_x")
		for l := 0; l < 8; l++ {
			VMOVUPS(eightRows(s0, s4, srcC, srcC3, l, 0), data[l])
			if bn {
				VMULPS_BCST(Mem{Base: sc, Disp: 4 * l}, data[l], data[l])
				VADDPS_BCST(Mem{Base: sh, Disp: 4 * l}, data[l], data[l])
				VMAXPS(zero, data[l], data[l])
			}
		}
		regs := permuteStages(data, tmp, idxRegs, stages)
		for q := 0; q < 8; q++ {
			VMOVUPS(regs[q], Mem{Base: d, Disp: q * 64})
		}
		ADDQ(U8(64), s0)
		ADDQ(U8(64), s4)
		ADDQ(U32(512), d)
		DECQ(xb)
		JNE(LabelRef(name + suffix + "_x"))
		ADDQ(srcRow, src)
		ADDQ(dstRow, dst)
		DECQ(rows)
		JNE(LabelRef(name + suffix + "_row"))
		VZEROUPPER()
		RET()
	}
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
