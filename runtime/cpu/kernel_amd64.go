package cpu

// features reports what the processor and the OS support, from CPUID and XCR0.
type features struct {
	avx2, fma bool // usable: the OS also saves the ymm state
	avx512f   bool // usable: the OS also saves the opmask and zmm state
}

func detect() features {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return features{}
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const (
		fmaBit     = 1 << 12
		osxsaveBit = 1 << 27
		avxBit     = 1 << 28
	)
	if ecx1&osxsaveBit == 0 || ecx1&avxBit == 0 {
		return features{}
	}
	xcr0, _ := xgetbv()
	const sseAVXState = 1<<1 | 1<<2
	if xcr0&sseAVXState != sseAVXState {
		return features{}
	}
	_, ebx7, _, _ := cpuid(7, 0)
	const (
		avx2Bit    = 1 << 5
		avx512FBit = 1 << 16
		// XCR0 bits 5, 6, 7: the opmask registers, the upper halves of
		// zmm0..15 and zmm16..31.
		avx512State = 1<<5 | 1<<6 | 1<<7
	)
	return features{
		avx2:    ebx7&avx2Bit != 0,
		fma:     ecx1&fmaBit != 0,
		avx512f: ebx7&avx512FBit != 0 && xcr0&avx512State == avx512State,
	}
}

func avx2Kernels() (kernelSet, bool) {
	f := detect()
	if !f.avx2 || !f.fma {
		return kernelSet{}, false
	}
	return kernelSet{
		kind:    kernelAVX2,
		mr:      mr,
		mc:      mcMax,
		aliasMR: mr,
		rowA: [maxMR + 1]kernelFunc{
			nil, kernAVX2Nx1, kernAVX2Nx2, kernAVX2Nx3, kernAVX2Nx4, kernAVX2Nx5, kernAVX2Nx6,
		},
		colA: [maxMR + 1]kernelFunc{
			nil, kernAVX2Tx1, kernAVX2Tx2, kernAVX2Tx3, kernAVX2Tx4, kernAVX2Tx5, kernAVX2Tx6,
		},
		packB:  packBRows,
		packBT: packBTrans,
		packBP: packBRowsPre,
	}, true
}

// avx512Kernels is the AVX-512 family: 16x16 tiles (one zmm accumulator per
// row, A broadcast from memory by the FMAs; 8x16 where the rows of A alias in
// L1, see tileRows) on the AVX2 family's B panels and packers. It needs AVX2 and FMA too (every AVX-512 processor has them), for the
// packers and for the Winograd and statistics kernels that the family reuses.
func avx512Kernels() (kernelSet, bool) {
	f := detect()
	if !f.avx512f || !f.avx2 || !f.fma {
		return kernelSet{}, false
	}
	return kernelSet{
		kind:    kernelAVX512,
		mr:      mrAVX512,
		mc:      mcAVX512,
		aliasMR: 8,
		wideA: [maxWideMR + 1]wideFunc{
			nil, kernAVX512Wx1, kernAVX512Wx2, kernAVX512Wx3, kernAVX512Wx4, kernAVX512Wx5, kernAVX512Wx6,
			kernAVX512Wx7, kernAVX512Wx8, kernAVX512Wx9, kernAVX512Wx10, kernAVX512Wx11, kernAVX512Wx12,
		},
		wideT: [maxWideMR + 1]wideFunc{
			nil, kernAVX512WTx1, kernAVX512WTx2, kernAVX512WTx3, kernAVX512WTx4, kernAVX512WTx5, kernAVX512WTx6,
			kernAVX512WTx7, kernAVX512WTx8, kernAVX512WTx9, kernAVX512WTx10, kernAVX512WTx11, kernAVX512WTx12,
		},
		wideMR:      maxWideMR,
		wideAliasMR: 8,
		rowA: [maxMR + 1]kernelFunc{
			nil, kernAVX512Nx1, kernAVX512Nx2, kernAVX512Nx3, kernAVX512Nx4, kernAVX512Nx5,
			kernAVX512Nx6, kernAVX512Nx7, kernAVX512Nx8, kernAVX512Nx9, kernAVX512Nx10,
			kernAVX512Nx11, kernAVX512Nx12, kernAVX512Nx13, kernAVX512Nx14, kernAVX512Nx15, kernAVX512Nx16,
		},
		colA: [maxMR + 1]kernelFunc{
			nil, kernAVX512Tx1, kernAVX512Tx2, kernAVX512Tx3, kernAVX512Tx4, kernAVX512Tx5,
			kernAVX512Tx6, kernAVX512Tx7, kernAVX512Tx8, kernAVX512Tx9, kernAVX512Tx10,
			kernAVX512Tx11, kernAVX512Tx12, kernAVX512Tx13, kernAVX512Tx14, kernAVX512Tx15, kernAVX512Tx16,
		},
		packB:  packBRows,
		packBT: packBTrans,
		packBP: packBRowsPre,
	}, true
}

func avx2Wino() (winoSet, bool) {
	f := detect()
	if !f.avx2 || !f.fma {
		return winoSet{}, false
	}
	var s winoSet
	s.in[2], s.in[4] = winoIn2AVX2, winoIn4AVX2
	s.out[2], s.out[4] = winoOut2AVX2, winoOut4AVX2
	s.dy[2], s.dy[4] = winoDY2AVX2, winoDY4AVX2
	s.pack, s.unpack = packC8AVX2, unpackC8AVX2
	s.rows = gatherRowsC8AVX2
	return s, true
}

// avx512Wino adds the AVX-512 tile transforms to s where the CPU has AVX-512F. On 8 tiles
// (BenchmarkWinoTransforms, AMD EPYC Zen 5), against AVX2: the F(4x4) input 130 against
// 225 ns, F(2x2) 57 against 69 ns; the F(4x4) output 108 against 153 ns, F(2x2) 47
// against 52 ns; the F(4x4) dy transform 113 against 176 ns, F(2x2) 49 against 59 ns;
// the c8 pack of a 32x32 image of 8 channels through a BN-ReLU (BenchmarkPackC8) 422
// against 755 ns.
func avx512Wino(s *winoSet) {
	if detect().avx512f {
		s.in2[2], s.in2[4] = winoIn2AVX512, winoIn4AVX512
		s.out2[2], s.out2[4] = winoOut2AVX512, winoOut4AVX512
		s.dy2[2], s.dy2[4] = winoDY2AVX512, winoDY4AVX512
		s.pack16, s.unpack16 = packC8AVX512, unpackC8AVX512
	}
}

func avx2Stats() (statsSet, bool) {
	f := detect()
	if !f.avx2 || !f.fma {
		return statsSet{}, false
	}
	return statsSet{axpy: axpyF64AVX2, axpyN: 8, max3: max3AVX2, add: addReLUAVX2, addBN: addReLUBNAVX2, mask: reluMaskAVX2, sum: sumF64AVX2, sqDev: sqDevF64AVX2, sums: reluGradSumsAVX2, dx: reluGradDxAVX2}, true
}

// avx512Stats puts the AVX-512 BN reductions into s where the CPU has AVX-512F.
func avx512Stats(s *statsSet) {
	if detect().avx512f {
		s.sum, s.sqDev, s.sums, s.dx = sumF64AVX512, sqDevF64AVX512, reluGradSumsAVX512, reluGradDxAVX512
		s.axpy, s.axpyN = axpyF64AVX512, 16
	}
}
