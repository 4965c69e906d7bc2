package cpu

// features reports what the processor and the OS support, from CPUID and XCR0.
type features struct {
	avx2, fma bool // usable: the OS also saves the ymm state
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
	const avx2Bit = 1 << 5
	return features{avx2: ebx7&avx2Bit != 0, fma: ecx1&fmaBit != 0}
}

func avx2Kernels() (kernelSet, bool) {
	f := detect()
	if !f.avx2 || !f.fma {
		return kernelSet{}, false
	}
	return kernelSet{
		kind: kernelAVX2,
		rowA: [mr + 1]kernelFunc{
			nil, kernAVX2Nx1, kernAVX2Nx2, kernAVX2Nx3, kernAVX2Nx4, kernAVX2Nx5, kernAVX2Nx6,
		},
		colA: [mr + 1]kernelFunc{
			nil, kernAVX2Tx1, kernAVX2Tx2, kernAVX2Tx3, kernAVX2Tx4, kernAVX2Tx5, kernAVX2Tx6,
		},
		packB:  packBRows,
		packBT: packBTrans,
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
	return s, true
}

func avx2Stats() (statsSet, bool) {
	f := detect()
	if !f.avx2 || !f.fma {
		return statsSet{}, false
	}
	return statsSet{sum: sumF64AVX2, sqDev: sqDevF64AVX2, sums: reluGradSumsAVX2, dx: reluGradDxAVX2}, true
}
