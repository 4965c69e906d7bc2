package main

import (
	"fmt"
	"math"
	"strings"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The Winograd tile transforms and the c8 layout changes of package cpu (see wino.go
// there for the layouts): every value is one ymm vector of 8 channels.

// vecConsts are the broadcast constants of the transforms, 8 copies of each.
var vecConsts = map[string]Mem{}

func vecConst(v float32) Mem {
	name := fmt.Sprintf("winoConst%g", v)
	if m, ok := vecConsts[name]; ok {
		return m
	}
	m := GLOBL(name, RODATA|NOPTR)
	for i := 0; i < 8; i++ {
		DATA(4*i, U32(math.Float32bits(v))) // F32 prints whole numbers as integers
	}
	vecConsts[name] = m
	return m
}

// vecs is what the 1-D transforms work with: six work registers and the broadcast
// constants (as memory operands or registers).
type vecs struct {
	w    []VecPhysical
	k    func(v float32) Op
	zero func(r VecPhysical) // sets r to 0.0
}

// ymmVecs is the AVX2 kernels' vecs: Y6..Y11 and vecConst.
var ymmVecs = vecs{w: []VecPhysical{Y6, Y7, Y8, Y9, Y10, Y11}, k: func(v float32) Op { return vecConst(v) },
	zero: func(r VecPhysical) { VXORPS(r, r, r) }}

// zmmVecs returns the AVX-512 kernels' vecs: Z6..Z11 and the constants in registers.
func zmmVecs(consts map[float32]VecPhysical) vecs {
	return vecs{w: []VecPhysical{Z6, Z7, Z8, Z9, Z10, Z11}, k: func(c float32) Op { return consts[c] },
		zero: func(r VecPhysical) { VPXORD(r, r, r) }}
}

// rowAddr addresses vector j (0 <= j < 6) of a row of vectors stride bytes apart: j < 3 from
// base, j >= 3 from base3 = base + 3*stride.
func rowAddr(base, base3, stride Register, j int) Mem {
	b := base
	if j >= 3 {
		b, j = base3, j-3
	}
	m := Mem{Base: b}
	if j > 0 {
		m.Index, m.Scale = stride, uint8(j)
	}
	return m
}

// in1D4 emits o = B^T d of F(4, 3) for d in Y0..Y5 (kept), calling out(i, reg) for each
// output as soon as it is in a register of v.w[0]..v.w[5].
func in1D4(d []VecPhysical, v vecs, out func(i int, v VecPhysical)) {
	c2, c4, c5 := v.k(2), v.k(4), v.k(5)
	VMOVAPS(d[4], v.w[0])
	VFNMADD231PS(c5, d[2], v.w[0])
	VFMADD231PS(c4, d[0], v.w[0])
	out(0, v.w[0])
	VMOVAPS(d[5], v.w[1])
	VFNMADD231PS(c5, d[3], v.w[1])
	VFMADD231PS(c4, d[1], v.w[1])
	out(5, v.w[1])
	VMOVAPS(d[4], v.w[2])
	VFNMADD231PS(c4, d[2], v.w[2]) // a = d4 - 4 d2
	VMOVAPS(d[3], v.w[3])
	VFNMADD231PS(c4, d[1], v.w[3]) // b = d3 - 4 d1
	VADDPS(v.w[3], v.w[2], v.w[4])
	out(1, v.w[4])
	VSUBPS(v.w[3], v.w[2], v.w[5])
	out(2, v.w[5])
	VSUBPS(d[2], d[4], v.w[2]) // c = d4 - d2
	VSUBPS(d[1], d[3], v.w[3]) // e = d3 - d1
	VMOVAPS(v.w[2], v.w[4])
	VFMADD231PS(c2, v.w[3], v.w[4])
	out(3, v.w[4])
	VFNMADD231PS(c2, v.w[3], v.w[2])
	out(4, v.w[2])
}

// in1D2 emits o = B^T d of F(2, 3) for d in d[0..3].
func in1D2(d []VecPhysical, v vecs, out func(i int, v VecPhysical)) {
	VSUBPS(d[2], d[0], v.w[0])
	out(0, v.w[0])
	VADDPS(d[2], d[1], v.w[1])
	out(1, v.w[1])
	VSUBPS(d[1], d[2], v.w[2])
	out(2, v.w[2])
	VSUBPS(d[3], d[1], v.w[3])
	out(3, v.w[3])
}

// out1D4 emits y = A^T m of F(4, 3) for m in m[0..5] (clobbered), in the registers of v.
func out1D4(m []VecPhysical, v vecs, out func(i int, v VecPhysical)) {
	c2, c4, c8 := v.k(2), v.k(4), v.k(8)
	VADDPS(m[2], m[1], v.w[0]) // s12
	VSUBPS(m[2], m[1], v.w[1]) // d12
	VADDPS(m[4], m[3], v.w[2]) // s34
	VSUBPS(m[4], m[3], v.w[3]) // d34
	VADDPS(v.w[0], m[0], v.w[4])
	VADDPS(v.w[2], v.w[4], v.w[4])
	out(0, v.w[4])
	VMOVAPS(v.w[1], v.w[5])
	VFMADD231PS(c2, v.w[3], v.w[5])
	out(1, v.w[5])
	VFMADD231PS(c4, v.w[2], v.w[0])
	out(2, v.w[0])
	VADDPS(m[5], v.w[1], v.w[1])
	VFMADD231PS(c8, v.w[3], v.w[1])
	out(3, v.w[1])
}

// out1D2 emits y = A^T m of F(2, 3) for m in m[0..3], in the registers of v.
func out1D2(m []VecPhysical, v vecs, out func(i int, v VecPhysical)) {
	VADDPS(m[1], m[0], v.w[0])
	VADDPS(m[2], v.w[0], v.w[0])
	out(0, v.w[0])
	VSUBPS(m[2], m[1], v.w[1])
	VSUBPS(m[3], v.w[1], v.w[1])
	out(1, v.w[1])
}

// dy1D4 emits o = A d of F(4, 3) (the transpose of the output transform: 4 values to 6)
// for d in d[0..3], for the weight gradient's dy tiles.
func dy1D4(d []VecPhysical, v vecs, out func(i int, v VecPhysical)) {
	c2, c4, c8 := v.k(2), v.k(4), v.k(8)
	out(0, d[0])
	out(5, d[3])
	VADDPS(d[2], d[0], v.w[0]) // e = d0 + d2
	VADDPS(d[3], d[1], v.w[1]) // od = d1 + d3
	VADDPS(v.w[1], v.w[0], v.w[2])
	out(1, v.w[2])
	VSUBPS(v.w[1], v.w[0], v.w[3])
	out(2, v.w[3])
	VMOVAPS(d[0], v.w[0])
	VFMADD231PS(c4, d[2], v.w[0]) // d0 + 4 d2
	VMULPS(c2, d[1], v.w[1])
	VFMADD231PS(c8, d[3], v.w[1]) // 2 d1 + 8 d3
	VADDPS(v.w[1], v.w[0], v.w[4])
	out(3, v.w[4])
	VSUBPS(v.w[1], v.w[0], v.w[5])
	out(4, v.w[5])
}

// dy1D2 emits o = A d of F(2, 3) (2 values to 4) for d in d[0..1].
func dy1D2(d []VecPhysical, v vecs, out func(i int, v VecPhysical)) {
	out(0, d[0])
	VADDPS(d[1], d[0], v.w[0])
	out(1, v.w[0])
	VSUBPS(d[1], d[0], v.w[1])
	out(2, v.w[1])
	v.zero(v.w[2])
	VSUBPS(d[1], v.w[2], v.w[2])
	out(3, v.w[2])
}

var dRegs = []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5}

// winoInput emits winoIn<m>AVX2 (see winoInFunc in wino.go), or with dy winoDY<m>AVX2
// (winoDYFunc: tiles of m x m vectors to alpha x alpha, A d A^T), or with wide the
// AVX512 kernel of either: two tiles at a time, tile i in the low and tile i+1 in the
// high half of each zmm (each load a ymm load and an insert, each store a ymm store and
// an extract), for an even n; the constants in Z28..Z30 and the work registers Z6..Z11.
func winoInput(m int, dy, wide bool) {
	a := m + 2
	kind, what, in := "In", "input transform of F(%d x %d, 3 x 3)", a // in: vectors of a tile's row and column
	f := in1D4
	if m == 2 {
		f = in1D2
	}
	if dy {
		kind, what, in = "DY", "dy transform of the F(%d x %d, 3 x 3) weight gradient", m
		f = dy1D4
		if m == 2 {
			f = dy1D2
		}
	}
	name, vw, tiles := fmt.Sprintf("wino%s%dAVX2", kind, m), 32, 1
	if wide {
		name, vw, tiles = fmt.Sprintf("wino%s%dAVX512", kind, m), 64, 2
	}
	TEXT(name, 0, "func(src *float32, srcRow int, dst *float32, dstT, dstTile, n int)")
	Pragma("noescape")
	doc := fmt.Sprintf("%s is the "+what+" on n tiles of c8 vectors (wino%sFunc).", name, m, m, kind)
	if wide {
		doc = strings.TrimSuffix(doc, ".") + ", two at a time: n must be even."
	}
	Doc(doc)
	tmp := AllocLocal(a * in * vw)
	src := Load(Param("src"), RSI)
	srcRow := Load(Param("srcRow"), R8)
	SHLQ(U8(2), srcRow)
	dst := Load(Param("dst"), RDI)
	dT := Load(Param("dstT"), R9)
	SHLQ(U8(2), dT)
	dTile := Load(Param("dstTile"), R10)
	SHLQ(U8(2), dTile)
	n := Load(Param("n"), RCX)
	s3, dT3, rb, rb3 := R11, R12, R13, RBX
	rbU, rb3U := RAX, RDX // rb and rb3 plus dTile: the second tile's vectors
	regs, v := dRegs, ymmVecs
	if wide {
		cs := []float32{2, 4, 5}
		if dy {
			cs = []float32{2, 4, 8}
		}
		consts := map[float32]VecPhysical{}
		for i, c := range cs {
			consts[c] = []VecPhysical{Z28, Z29, Z30}[i]
			VBROADCASTSS(vecConst(c), consts[c])
		}
		regs = []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5}
		v = zmmVecs(consts)
	}
	tmpAt := func(r, c int) Mem { return tmp.Offset((r*in + c) * vw) }
	load := func(addr Mem, z VecPhysical) {
		if !wide {
			VMOVUPS(addr, z)
			return
		}
		VMOVUPS(addr, z.AsY())
		addr.Disp += m * 32 // the same vector of the next tile
		VINSERTF64X4(U8(1), addr, z, z)
	}

	loop := name + "_tile"
	Label(loop)
	LEAQ(Mem{Base: src, Index: srcRow, Scale: 2}, s3)
	ADDQ(srcRow, s3)
	// Columns: tmp[r][c] = (B^T d)[r] (or (A d)[r]) of column c.
	for c := 0; c < in; c++ {
		for r := 0; r < in; r++ {
			addr := rowAddr(src, s3, srcRow, r)
			addr.Disp = c * 32
			load(addr, regs[r])
		}
		f(regs, v, func(r int, z VecPhysical) { VMOVUPS(z, tmpAt(r, c)) })
	}
	// Rows: V[r*a + c] = (B^T tmp[r])[c] (or (A tmp[r])[c]).
	LEAQ(Mem{Base: dT, Index: dT, Scale: 2}, dT3)
	MOVQ(dst, rb)
	for r := 0; r < a; r++ {
		for c := 0; c < in; c++ {
			VMOVUPS(tmpAt(r, c), regs[c])
		}
		LEAQ(Mem{Base: rb, Index: dT3, Scale: 1}, rb3)
		if wide {
			LEAQ(Mem{Base: rb, Index: dTile, Scale: 1}, rbU)
			LEAQ(Mem{Base: rb3, Index: dTile, Scale: 1}, rb3U)
		}
		f(regs, v, func(c int, z VecPhysical) {
			if !wide {
				VMOVUPS(z, rowAddr(rb, rb3, dT, c))
				return
			}
			VMOVUPS(z.AsY(), rowAddr(rb, rb3, dT, c))
			VEXTRACTF64X4(U8(1), z, rowAddr(rbU, rb3U, dT, c))
		})
		if r+1 < a {
			if a == 6 {
				LEAQ(Mem{Base: rb3, Index: dT3, Scale: 1}, rb)
			} else {
				LEAQ(Mem{Base: rb, Index: dT, Scale: 4}, rb)
			}
		}
	}
	ADDQ(U32(tiles*m*32), src)
	ADDQ(dTile, dst)
	if wide {
		ADDQ(dTile, dst)
	}
	if wide {
		SUBQ(U8(2), n)
	} else {
		DECQ(n)
	}
	JNE(LabelRef(loop))
	VZEROUPPER()
	RET()
}

// winoOutput emits winoOut<m>AVX2 (see winoOutFunc in wino.go), or with wide
// winoOut<m>AVX512: two tiles at a time as winoInput's, for an even n.
func winoOutput(m int, wide bool) {
	a := m + 2
	name, vw := fmt.Sprintf("winoOut%dAVX2", m), 32
	if wide {
		name, vw = fmt.Sprintf("winoOut%dAVX512", m), 64
	}
	TEXT(name, 0, "func(src *float32, srcT, srcTile int, dst *float32, dstRow, n int)")
	Pragma("noescape")
	if wide {
		Doc(fmt.Sprintf("%s is the output transform of F(%d x %d, 3 x 3) on n tiles of c8 vectors (winoOutFunc), two at a time: n must be even.", name, m, m))
	} else {
		Doc(fmt.Sprintf("%s is the output transform of F(%d x %d, 3 x 3) on n tiles of c8 vectors (winoOutFunc).", name, m, m))
	}
	tmp := AllocLocal(m * a * vw)
	src := Load(Param("src"), RSI)
	sT := Load(Param("srcT"), R8)
	SHLQ(U8(2), sT)
	sTile := Load(Param("srcTile"), R9)
	SHLQ(U8(2), sTile)
	dst := Load(Param("dst"), RDI)
	dRow := Load(Param("dstRow"), R10)
	SHLQ(U8(2), dRow)
	n := Load(Param("n"), RCX)
	sT3, cb, cb3, rb := R11, R12, R13, RBX
	f := out1D4
	if m == 2 {
		f = out1D2
	}
	regs, v := dRegs, ymmVecs
	if wide {
		consts := map[float32]VecPhysical{2: Z28, 4: Z29, 8: Z30}
		for _, c := range []float32{2, 4, 8} {
			VBROADCASTSS(vecConst(c), consts[c])
		}
		regs = []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5}
		v = zmmVecs(consts)
	}
	tmpAt := func(r, c int) Mem { return tmp.Offset((r*a + c) * vw) }
	// Row r, column c of the product tile is at src + (r*a + c)*sT. Column c's vectors
	// are a*sT apart: with rowStep = a*sT that is rowAddr(cb, cb3, rowStep, r) for
	// cb = src + c*sT; rowStep is sT*6 (m = 4) or sT*4 (m = 2), formed as needed.
	LEAQ(Mem{Base: sT, Index: sT, Scale: 2}, sT3)

	loop := name + "_tile"
	Label(loop)
	// Columns: tmp[r][c] = (A^T m)[r] of column c.
	for c := 0; c < a; c++ {
		// cb = src + c*sT.
		switch c {
		case 0:
			MOVQ(src, cb)
		default:
			ADDQ(sT, cb)
		}
		for r := 0; r < a; r++ {
			// (r*a + c)*sT = r*a*sT + c*sT.
			var addr Mem
			switch {
			case a == 4:
				// r*4*sT: r = 0..3 -> 0, 4sT, 8sT, 12sT: from cb with index sT scale 4/8, or cb3.
				switch r {
				case 0:
					addr = Mem{Base: cb}
				case 1:
					addr = Mem{Base: cb, Index: sT, Scale: 4}
				case 2:
					addr = Mem{Base: cb, Index: sT, Scale: 8}
				case 3:
					LEAQ(Mem{Base: cb, Index: sT3, Scale: 4}, cb3) // cb + 12 sT
					addr = Mem{Base: cb3}
				}
			default:
				// r*6*sT: 0, 6, 12, 18, 24, 30 sT: cb3 = cb + 6r sT stepped by 6 sT.
				if r == 0 {
					MOVQ(cb, cb3)
				} else {
					LEAQ(Mem{Base: cb3, Index: sT3, Scale: 2}, cb3)
				}
				addr = Mem{Base: cb3}
			}
			if !wide {
				VMOVUPS(addr, regs[r])
				continue
			}
			// The next tile's vector is srcTile further on.
			LEAQ(addr, RAX)
			VMOVUPS(Mem{Base: RAX}, regs[r].AsY())
			VINSERTF64X4(U8(1), Mem{Base: RAX, Index: sTile, Scale: 1}, regs[r], regs[r])
		}
		f(regs, v, func(r int, z VecPhysical) { VMOVUPS(z, tmpAt(r, c)) })
	}
	// Rows: y[r][c] = (A^T tmp[r])[c], stored at dst + r*dstRow + c*32.
	MOVQ(dst, rb)
	for r := 0; r < m; r++ {
		for c := 0; c < a; c++ {
			VMOVUPS(tmpAt(r, c), regs[c])
		}
		f(regs, v, func(c int, z VecPhysical) {
			if !wide {
				VMOVUPS(z, Mem{Base: rb, Disp: c * 32})
				return
			}
			VMOVUPS(z.AsY(), Mem{Base: rb, Disp: c * 32})
			VEXTRACTF64X4(U8(1), z, Mem{Base: rb, Disp: (m + c) * 32})
		})
		if r+1 < m {
			ADDQ(dRow, rb)
		}
	}
	ADDQ(sTile, src)
	if wide {
		ADDQ(sTile, src)
		ADDQ(U32(2*m*32), dst)
		SUBQ(U8(2), n)
	} else {
		ADDQ(U32(m*32), dst)
		DECQ(n)
	}
	JNE(LabelRef(loop))
	VZEROUPPER()
	RET()
}

// winoAll emits every routine of this file.
func winoAll() {
	for _, m := range []int{2, 4} {
		winoInput(m, false, false)
		winoInput(m, false, true)
		winoOutput(m, false)
		winoOutput(m, true)
		winoInput(m, true, false)
		winoInput(m, true, true)
	}
}
