// Command asmgen writes the amd64 assembly of package cpu with avo: the AVX2/FMA
// GEMM micro-kernels (6x16 tiles, A read in place row-major or transposed), the
// AVX-512 ones (16x16 tiles, and 12x32 tiles on two B panels, avx512.go), the
// B packers, the Winograd tile transforms and c8 layout changes (wino.go), the
// batch-normalization reductions (stats.go), 256- and 512-bit
// FMA-throughput probes for the benchmarks, and the CPUID/XGETBV probes used for
// feature detection.
//
// Run it through go generate in runtime/cpu:
//
//	go run ./asmgen -out kernel_amd64.s -stubs kernel_stub_amd64.go -pkg cpu
package main

import (
	"fmt"
	"log"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The layout shared with gemm.go: A is read in place, mr rows at a time; a
// packed B micro-panel holds nr columns, k-major (nr floats per k).
const (
	mr     = 6  // rows of a full micro-tile
	nr     = 16 // columns of a micro-tile: two 8-float ymm vectors
	unroll = 4  // k steps per loop iteration
)

// bAhead is how far ahead of its loads a micro-kernel prefetches the B panel, in bytes:
// a page, one line per k step. At batch 1 the GEMMs of a convolution stream weights that
// come from memory (WRN-28-10's 8x8 F(2x2) layers 26 MB each) and use each line of them
// for only 16 FMAs; the hardware prefetchers stop at each 4 KiB page, so without this
// every page began with a miss. On AMD EPYC Zen 5 (2 cores) it took WRN-28-10 at batch 1
// on 2 threads from 33 to 58 images/s and WRN-16-4 from 507 to 616 (1 KiB ahead gave
// nothing measurable; 2 KiB 55, 8 KiB 52 images/s for WRN-28-10), and batch 64 and
// training 10-13% faster; the AVX2 kernels (WRNC_CPU_KERNELS=avx2 on the same machine)
// gained alike: WRN-28-10 28 -> 38, WRN-16-4 297 -> 368 images/s at batch 1.
const bAhead = 4096

// kLoop emits the depth loop of a micro-kernel: unroll steps per iteration while k holds
// at least unroll, then one step at a time, advancing the pointers after each; it ends at
// the label name+"_store", where the caller writes the tile.
func kLoop(name string, k Register, step func(u int), advance func(steps int)) {
	loop := name + "_loop"
	tail := name + "_tail"
	tailLoop := name + "_tailloop"
	store := name + "_store"
	CMPQ(k, U8(unroll))
	JL(LabelRef(tail))
	Label(loop)
	for u := 0; u < unroll; u++ {
		step(u)
	}
	advance(unroll)
	SUBQ(U8(unroll), k)
	CMPQ(k, U8(unroll))
	JGE(LabelRef(loop))

	Label(tail)
	TESTQ(k, k)
	JE(LabelRef(store))
	Label(tailLoop)
	step(0)
	advance(1)
	DECQ(k)
	JNE(LabelRef(tailLoop))

	Label(store)
}

func main() {
	for _, transA := range []bool{false, true} {
		for rows := 1; rows <= mr; rows++ {
			kernelAVX2(rows, transA)
		}
	}
	for _, transA := range []bool{false, true} {
		for rows := 1; rows <= mr512; rows++ {
			if err := kernelAVX512(rows, transA); err != nil {
				log.Fatalf("asmgen: %v", err)
			}
		}
	}
	for _, transA := range []bool{false, true} {
		for rows := 1; rows <= mrWide; rows++ {
			if err := kernelWide512(rows, transA); err != nil {
				log.Fatalf("asmgen: %v", err)
			}
		}
	}
	packBRows()
	packBRowsPre()
	packBTrans()
	winoAll()
	layoutAll()
	statsAll()
	fmaPeak()
	fmaPeak512()
	readPeak("readPeak", []VecPhysical{Y0, Y1, Y2, Y3}, 32)
	readPeak("readPeak512", []VecPhysical{Z0, Z1, Z2, Z3}, 64)
	cpuid()
	xgetbv()
	Generate()
}

// kernelAVX2 emits kernAVX2NxR (A row-major: element (i, k) at a + i*lda + k)
// or kernAVX2TxR (A stored transposed: element (i, k) at a + k*lda + i):
// C[0:rows, 0:16] = A*B (+ C when acc) for rows rows of A, read in place, and
// one packed B micro-panel (16 floats per k).
// Accumulators are Y0..Y(2*rows-1); Y12, Y13 hold the B row; Y14, Y15 take
// the broadcast A values in turn so that consecutive FMAs do not wait on one register.
func kernelAVX2(rows int, transA bool) {
	name := fmt.Sprintf("kernAVX2Nx%d", rows)
	layout := "row-major A (element (i, k) at a[i*lda+k])"
	if transA {
		name = fmt.Sprintf("kernAVX2Tx%d", rows)
		layout = "transposed A (element (i, k) at a[k*lda+i])"
	}
	TEXT(name, NOSPLIT, "func(k int, a *float32, lda int, b, c *float32, ldc int, acc bool)")
	Doc(fmt.Sprintf("%s computes a %dx%d tile of C from %s", name, rows, nr, layout),
		"and a packed panel of B with AVX2 FMA. k must be at least 1; lda and ldc are in elements.")
	k := Load(Param("k"), RCX)
	a := Load(Param("a"), RSI)
	b := Load(Param("b"), RDI)
	c := Load(Param("c"), RDX)
	ldc := Load(Param("ldc"), R8)
	SHLQ(U8(2), ldc)
	lda := Load(Param("lda"), R11)
	SHLQ(U8(2), lda)
	a2 := R12 // row 3 of A (N), or depth 2 (T)
	// aElem(i, u) addresses A[i, u] relative to the current depth;
	// advance(steps) moves the depth on.
	var aElem func(i, u int) Mem
	var advance func(steps int)
	if !transA {
		LEAQ(Mem{Base: a, Index: lda, Scale: 2}, a2)
		ADDQ(lda, a2)
		aElem = func(i, u int) Mem {
			base := a
			if i >= 3 {
				base, i = a2, i-3
			}
			m := Mem{Base: base, Disp: 4 * u}
			if i > 0 {
				m.Index, m.Scale = lda, uint8(i)
			}
			return m
		}
		advance = func(steps int) {
			ADDQ(U32(4*steps), a)
			ADDQ(U32(4*steps), a2)
			ADDQ(U32(steps*nr*4), b)
		}
	} else {
		var advanceA func(steps int)
		aElem, advanceA = aOperand(rows, true, a, lda, RBX, []Register{a2})
		advance = func(steps int) {
			advanceA(steps)
			ADDQ(U32(steps*nr*4), b)
		}
	}

	accs := make([][2]VecPhysical, rows)
	all := []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11}
	for i := range accs {
		accs[i] = [2]VecPhysical{all[2*i], all[2*i+1]}
		VXORPS(accs[i][0], accs[i][0], accs[i][0])
		VXORPS(accs[i][1], accs[i][1], accs[i][1])
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
		bOff := u * nr * 4
		VMOVUPS(Mem{Base: b, Disp: bOff}, Y12)
		VMOVUPS(Mem{Base: b, Disp: bOff + 32}, Y13)
		PREFETCHT0(Mem{Base: b, Disp: bOff + bAhead}) // see bAhead
		for i := 0; i < rows; i++ {
			bc := Y14
			if i%2 == 1 {
				bc = Y15
			}
			VBROADCASTSS(aElem(i, u), bc)
			VFMADD231PS(Y12, bc, accs[i][0])
			VFMADD231PS(Y13, bc, accs[i][1])
		}
	}

	kLoop(name, k, step, advance)
	flag := Load(Param("acc"), R10B)
	MOVQ(c, row)
	TESTB(flag, flag)
	JE(LabelRef(name + "_plain"))
	for i := 0; i < rows; i++ {
		VADDPS(Mem{Base: row}, accs[i][0], accs[i][0])
		VADDPS(Mem{Base: row, Disp: 32}, accs[i][1], accs[i][1])
		VMOVUPS(accs[i][0], Mem{Base: row})
		VMOVUPS(accs[i][1], Mem{Base: row, Disp: 32})
		if i+1 < rows {
			ADDQ(ldc, row)
		}
	}
	VZEROUPPER()
	RET()

	Label(name + "_plain")
	for i := 0; i < rows; i++ {
		VMOVUPS(accs[i][0], Mem{Base: row})
		VMOVUPS(accs[i][1], Mem{Base: row, Disp: 32})
		if i+1 < rows {
			ADDQ(ldc, row)
		}
	}
	VZEROUPPER()
	RET()
}

// cpuid emits cpuid: the CPUID instruction for leaf eaxArg, sub-leaf ecxArg.
func cpuid() {
	TEXT("cpuid", NOSPLIT, "func(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)")
	Doc("cpuid executes CPUID for leaf eaxArg and sub-leaf ecxArg.")
	Load(Param("eaxArg"), EAX)
	Load(Param("ecxArg"), ECX)
	CPUID()
	Store(EAX, Return("eax"))
	Store(EBX, Return("ebx"))
	Store(ECX, Return("ecx"))
	Store(EDX, Return("edx"))
	RET()
}

// xgetbv emits xgetbv: XCR0, the register state the OS saves on context switches.
func xgetbv() {
	TEXT("xgetbv", NOSPLIT, "func() (eax, edx uint32)")
	Doc("xgetbv returns XCR0 (call only when CPUID reports OSXSAVE).")
	XORL(ECX, ECX)
	XGETBV()
	Store(EAX, Return("eax"))
	Store(EDX, Return("edx"))
	RET()
}

// readPeak emits name: the read-bandwidth ceiling that BenchmarkBandwidth quotes, four
// vector loads (width bytes each) per iteration added into four independent
// accumulators, so that only the loads limit it. n is the bytes to read, a positive
// multiple of 4*width; the sum is returned so the loads cannot be dropped.
func readPeak(name string, accs []VecPhysical, width int) {
	TEXT(name, NOSPLIT, "func(p *float32, n int) float32")
	Doc(fmt.Sprintf("%s reads p[0:n/4] (n bytes, a positive multiple of %d) with %d-bit loads and returns one lane of their vector sum.", name, 4*width, 8*width))
	p := Load(Param("p"), RSI)
	n := Load(Param("n"), RCX)
	for _, r := range accs {
		VXORPS(r, r, r)
	}
	end := RDX
	LEAQ(Mem{Base: p, Index: n, Scale: 1}, end)
	Label(name + "_loop")
	for i, r := range accs {
		VADDPS(Mem{Base: p, Disp: i * width}, r, r)
	}
	ADDQ(U32(4*width), p)
	CMPQ(p, end)
	JB(LabelRef(name + "_loop"))
	VADDPS(accs[1], accs[0], accs[0])
	VADDPS(accs[3], accs[2], accs[2])
	VADDPS(accs[2], accs[0], accs[0])
	Store(X0, ReturnIndex(0))
	VZEROUPPER()
	RET()
}

// fmaPeak emits fmaPeak: n iterations of 12 independent ymm FMAs, the
// machine's FMA throughput ceiling that the benchmarks quote ratios against.
func fmaPeak() {
	TEXT("fmaPeak", NOSPLIT, "func(n int)")
	Doc("fmaPeak runs n iterations of 12 independent 8-wide FMAs (192 flops each).")
	n := Load(Param("n"), RCX)
	accs := []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11}
	for _, r := range append(accs, Y12, Y13) {
		VXORPS(r, r, r)
	}
	TESTQ(n, n)
	JE(LabelRef("fmaPeak_done"))
	Label("fmaPeak_loop")
	for _, r := range accs {
		VFMADD231PS(Y12, Y13, r)
	}
	DECQ(n)
	JNE(LabelRef("fmaPeak_loop"))
	Label("fmaPeak_done")
	VZEROUPPER()
	RET()
}
