package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// mr512 is the rows of a full AVX-512 micro-tile (mrAVX512 in package cpu). The
// tile stays nr = 16 columns wide, one zmm per row, so the B micro-panels are
// the same as for AVX2; the 32 zmm registers could hold up to 28 accumulators
// besides the 4 B rows of an unrolled iteration. 16 rows measured as fast as 12
// or 14 on Zen 4 and divide every M of the WRN convolutions (16k channels, 9*16k
// for the transposed backward GEMM), so no partial row tiles there.
const mr512 = 16

// zmm lists the 32 zmm registers in order.
var zmm = []VecPhysical{
	Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
	Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31,
}

// aOperand addresses rows of A for a micro-kernel: element (i, depth u of the unrolled
// iteration) and the advance of A's pointers by steps depths. Row-major A (element (i, k)
// at a + i*lda + k) is reached from a and the bases of extra, one per 5 rows (each base
// + {0, 1, 2, 4}*lda, or + 3*lda from lda3); transposed A (at a + k*lda + i) from a
// (depths 0, 1) and extra[0] = a + 2*lda (depths 2, 3). lda is in bytes.
func aOperand(rows int, transA bool, a, lda, lda3 Register, extra []Register) (elem func(i, u int) Mem, advance func(steps int)) {
	if !transA {
		bases := append([]Register{a}, extra...)
		LEAQ(Mem{Base: lda, Index: lda, Scale: 2}, lda3)
		for g := 1; g*5 < rows; g++ {
			// bases[g] = a + 5g*lda = bases[g-1] + 4*lda + lda
			LEAQ(Mem{Base: bases[g-1], Index: lda, Scale: 4}, bases[g])
			ADDQ(lda, bases[g])
		}
		elem = func(i, u int) Mem {
			m := Mem{Base: bases[i/5], Disp: 4 * u}
			switch i % 5 {
			case 1:
				m.Index, m.Scale = lda, 1
			case 2:
				m.Index, m.Scale = lda, 2
			case 3:
				m.Index, m.Scale = lda3, 1
			case 4:
				m.Index, m.Scale = lda, 4
			}
			return m
		}
		advance = func(steps int) {
			for g := 0; g*5 < rows; g++ {
				ADDQ(U32(4*steps), bases[g])
			}
		}
		return elem, advance
	}
	a2 := extra[0]
	LEAQ(Mem{Base: a, Index: lda, Scale: 2}, a2)
	elem = func(i, u int) Mem {
		base := a
		if u >= 2 {
			base, u = a2, u-2
		}
		m := Mem{Base: base, Disp: 4 * i}
		if u > 0 {
			m.Index, m.Scale = lda, uint8(u)
		}
		return m
	}
	advance = func(steps int) {
		for _, r := range []Register{a, a2} {
			if steps == 1 {
				ADDQ(lda, r)
			} else {
				LEAQ(Mem{Base: r, Index: lda, Scale: uint8(steps)}, r)
			}
		}
	}
	return elem, advance
}

// kernelAVX512 emits kernAVX512NxR (A row-major: element (i, k) at a + i*lda + k)
// or kernAVX512TxR (A stored transposed: element (i, k) at a + k*lda + i):
// C[0:rows, 0:16] = A*B (+ C when acc) for rows rows of A, read in place, and one
// packed B micro-panel (16 floats per k), the contract of the AVX2 kernels.
//
// Register plan: accumulator of row i in Z(i) (rows <= 28); the B row of
// unrolled step u (0..3) in Z(28+u), loaded once per step; each A element is
// broadcast from memory by the FMA itself (VFMADD231PS.BCST m32, Z(28+u), Z(i)),
// so a k step is one load, one prefetch (bAhead) and rows FMAs. General registers: CX the depths left,
// DI the B panel, DX/R9 C, R8 ldc and R11 lda in bytes, R10B acc; row-major A: SI
// rows 0..4, R12 rows 5..9, R13 rows 10..14, AX rows 15..19 (each base + {0, 1,
// 2, 4}*lda, or + 3*lda from BX); transposed A: SI depths 0, 1 (+ lda), R12
// depths 2, 3 of the unrolled iteration.
func kernelAVX512(rows int, transA bool) error {
	name := fmt.Sprintf("kernAVX512Nx%d", rows)
	layout := "row-major A (element (i, k) at a[i*lda+k])"
	if transA {
		name = fmt.Sprintf("kernAVX512Tx%d", rows)
		layout = "transposed A (element (i, k) at a[k*lda+i])"
	}
	if rows > 28 || rows > 20 && !transA {
		return fmt.Errorf("kernelAVX512: %d rows of %s A do not fit the registers", rows, map[bool]string{false: "row-major", true: "transposed"}[transA])
	}
	TEXT(name, NOSPLIT, "func(k int, a *float32, lda int, b, c *float32, ldc int, acc bool)")
	Doc(fmt.Sprintf("%s computes a %dx%d tile of C from %s", name, rows, nr, layout),
		"and a packed panel of B with AVX-512 FMA. k must be at least 1; lda and ldc are in elements.")
	k := Load(Param("k"), RCX)
	a := Load(Param("a"), RSI)
	b := Load(Param("b"), RDI)
	c := Load(Param("c"), RDX)
	ldc := Load(Param("ldc"), R8)
	SHLQ(U8(2), ldc)
	lda := Load(Param("lda"), R11)
	SHLQ(U8(2), lda)
	aElem, advanceA := aOperand(rows, transA, a, lda, RBX, []Register{R12, R13, RAX})
	advance := func(steps int) {
		advanceA(steps)
		ADDQ(U32(steps*nr*4), b)
	}

	accs := zmm[:rows]
	for _, z := range accs {
		VPXORD(z, z, z)
	}
	// Warm the C rows the tile will write at the end.
	row := R9
	MOVQ(c, row)
	for i := 0; i < rows; i++ {
		PREFETCHT0(Mem{Base: row})
		PREFETCHT0(Mem{Base: row, Disp: 60})
		if i+1 < rows {
			ADDQ(ldc, row)
		}
	}

	step := func(u int) {
		bv := zmm[28+u]
		VMOVUPS(Mem{Base: b, Disp: u * nr * 4}, bv)
		PREFETCHT0(Mem{Base: b, Disp: u*nr*4 + bAhead}) // see bAhead
		for i, z := range accs {
			VFMADD231PS_BCST(aElem(i, u), bv, z)
		}
	}

	kLoop(name, k, step, advance)
	flag := Load(Param("acc"), R10B)
	MOVQ(c, row)
	TESTB(flag, flag)
	JE(LabelRef(name + "_plain"))
	for i, z := range accs {
		VADDPS(Mem{Base: row}, z, z)
		VMOVUPS(z, Mem{Base: row})
		if i+1 < rows {
			ADDQ(ldc, row)
		}
	}
	VZEROUPPER()
	RET()

	Label(name + "_plain")
	for i, z := range accs {
		VMOVUPS(z, Mem{Base: row})
		if i+1 < rows {
			ADDQ(ldc, row)
		}
	}
	VZEROUPPER()
	RET()
	return nil
}

// fmaPeak512 emits fmaPeak512: n iterations of 24 independent zmm FMAs, the
// 512-bit FMA throughput ceiling. 24 chains cover a 4-cycle latency at two
// full-width FMAs per cycle (Zen 5, Intel server cores) with room to spare.
// Register plan: accumulators Z0..Z23, multiplicands Z24, Z25.
func fmaPeak512() {
	TEXT("fmaPeak512", NOSPLIT, "func(n int)")
	Doc("fmaPeak512 runs n iterations of 24 independent 16-wide FMAs (768 flops each).")
	n := Load(Param("n"), RCX)
	accs := zmm[:24]
	for _, r := range append(accs, Z24, Z25) {
		VPXORD(r, r, r)
	}
	TESTQ(n, n)
	JE(LabelRef("fmaPeak512_done"))
	Label("fmaPeak512_loop")
	for _, r := range accs {
		VFMADD231PS(Z24, Z25, r)
	}
	DECQ(n)
	JNE(LabelRef("fmaPeak512_loop"))
	Label("fmaPeak512_done")
	VZEROUPPER()
	RET()
}

// mrWide is the most rows of a two-panel AVX-512 tile (mrWideAVX512 in package cpu):
// 2*rows accumulators, the two B rows of a step and a broadcast A element fit the 32
// zmm registers up to 14 rows; 12 leaves room and divides the row blocks.
const mrWide = 12

// kernelWide512 emits kernAVX512Wx{rows}: C[0:rows, 0:32] = A*B (+ C when acc) for rows
// rows of a row-major A read in place and two packed B micro-panels, b and b + pstride
// floats (columns 0-15 and 16-31). Each A element is broadcast once into a register and
// feeds two FMAs, so a k step is 2 + rows loads for 2*rows FMAs (the one-panel kernels
// take rows + 1 for rows): the FMA units rather than the load ports bound it. Every
// element of C is the same sequence of FMAs over k as in kernAVX512NxR, so the results
// are the same bits.
//
// Register plan: accumulators of row i in Z(i) (panel 0) and Z(rows+i) (panel 1); the B
// rows of a step in Z30 and Z31, the broadcast A element in Z28 or Z29 (alternating rows).
// General registers as in kernelAVX512 (A bases SI, R12, R13), with AX the second panel.
func kernelWide512(rows int, transA bool) error {
	name := fmt.Sprintf("kernAVX512Wx%d", rows)
	layout := "row-major A (element (i, k) at a[i*lda+k])"
	if transA {
		name = fmt.Sprintf("kernAVX512WTx%d", rows)
		layout = "transposed A (element (i, k) at a[k*lda+i])"
	}
	if rows > 14 {
		return fmt.Errorf("kernelWide512: %d rows do not fit the registers", rows)
	}
	TEXT(name, NOSPLIT, "func(k int, a *float32, lda int, b *float32, pstride int, c *float32, ldc int, acc bool)")
	Doc(fmt.Sprintf("%s computes a %dx%d tile of C from %s", name, rows, 2*nr, layout),
		"and two packed panels of B, b and b + pstride floats, with AVX-512 FMA. k must be at least 1;",
		"lda, pstride and ldc are in elements.")
	k := Load(Param("k"), RCX)
	a := Load(Param("a"), RSI)
	b := Load(Param("b"), RDI)
	b2 := Load(Param("pstride"), RAX)
	LEAQ(Mem{Base: b, Index: b2, Scale: 4}, b2)
	c := Load(Param("c"), RDX)
	ldc := Load(Param("ldc"), R8)
	SHLQ(U8(2), ldc)
	lda := Load(Param("lda"), R11)
	SHLQ(U8(2), lda)
	aElem, advanceA := aOperand(rows, transA, a, lda, RBX, []Register{R12, R13})
	advance := func(steps int) {
		advanceA(steps)
		ADDQ(U32(steps*nr*4), b)
		ADDQ(U32(steps*nr*4), b2)
	}
	acc0, acc1 := zmm[:rows], zmm[rows:2*rows]
	for _, z := range zmm[:2*rows] {
		VPXORD(z, z, z)
	}
	row := R9
	MOVQ(c, row)
	for i := 0; i < rows; i++ {
		PREFETCHT0(Mem{Base: row})
		PREFETCHT0(Mem{Base: row, Disp: 124})
		if i+1 < rows {
			ADDQ(ldc, row)
		}
	}
	step := func(u int) {
		VMOVUPS(Mem{Base: b, Disp: u * nr * 4}, Z30)
		VMOVUPS(Mem{Base: b2, Disp: u * nr * 4}, Z31)
		PREFETCHT0(Mem{Base: b, Disp: u*nr*4 + bAhead}) // see bAhead
		PREFETCHT0(Mem{Base: b2, Disp: u*nr*4 + bAhead})
		for i := range acc0 {
			t := zmm[28+i%2]
			VBROADCASTSS(aElem(i, u), t)
			VFMADD231PS(Z30, t, acc0[i])
			VFMADD231PS(Z31, t, acc1[i])
		}
	}
	kLoop(name, k, step, advance)
	flag := Load(Param("acc"), R10B)
	MOVQ(c, row)
	TESTB(flag, flag)
	JE(LabelRef(name + "_plain"))
	for i := range acc0 {
		VADDPS(Mem{Base: row}, acc0[i], acc0[i])
		VMOVUPS(acc0[i], Mem{Base: row})
		VADDPS(Mem{Base: row, Disp: 64}, acc1[i], acc1[i])
		VMOVUPS(acc1[i], Mem{Base: row, Disp: 64})
		if i+1 < rows {
			ADDQ(ldc, row)
		}
	}
	VZEROUPPER()
	RET()

	Label(name + "_plain")
	for i := range acc0 {
		VMOVUPS(acc0[i], Mem{Base: row})
		VMOVUPS(acc1[i], Mem{Base: row, Disp: 64})
		if i+1 < rows {
			ADDQ(ldc, row)
		}
	}
	VZEROUPPER()
	RET()
	return nil
}
