package main

import (
	"log"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The AVX-512 c8 layout changes: 16 pixels of 8 channels at a time, transposed by three
// stages of two-source permutes (VPERMT2PS) whose indices are derived from the layouts
// and checked here.

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
	p := packPrologue()
	Load(Param("bn"), AL)
	// The BN's scale and shift are read as broadcast memory operands (the data, spare
	// and index registers leave too few for 16 broadcast constants).
	sc, sh := R14, RAX
	zero := Z31
	VXORPS(zero, zero, zero)
	data := []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7}
	tmp := []VecPhysical{Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15}
	setup := func() {
		Load(Param("scale"), sc)
		Load(Param("shift"), sh)
	}
	packC8Rows(name, p, 4, setup, func(bn bool) {
		for l := 0; l < 8; l++ {
			VMOVUPS(eightRows(p.s0, p.s4, p.srcC, p.srcC3, l, 0), data[l])
			if bn {
				VMULPS_BCST(Mem{Base: sc, Disp: 4 * l}, data[l], data[l])
				VADDPS_BCST(Mem{Base: sh, Disp: 4 * l}, data[l], data[l])
				VMAXPS(zero, data[l], data[l])
			}
		}
		regs := permuteStages(data, tmp, idxRegs, stages)
		for q := 0; q < 8; q++ {
			VMOVUPS(regs[q], Mem{Base: p.d, Disp: q * 64})
		}
	})
}
