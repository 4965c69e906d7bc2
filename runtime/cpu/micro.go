package cpu

// Kernels gives direct access to one micro-kernel family, for callers that lay out their
// own operands (the Winograd convolutions of package nn): a single-threaded GEMM whose B is
// already packed into micro-panels, its packer, the Winograd tile transforms
// (WinoInput, WinoOutput, WinoDY), the channel-blocked layout changes (PackC8,
// UnpackC8) and the reductions of batch normalization (SumF64, SqDevF64,
// ReLUGradSums, ReLUGradDx).
// A Kernels holds no state besides the family; it is safe for concurrent use.
type Kernels struct {
	ks kernelSet
	wt winoSet
	st statsSet
	f  fault
}

// Err is the first broken precondition of a call of k's kernels, or nil (see fault).
func (k *Kernels) Err() error { return k.f.get() }

// PanelCols is the columns of one packed B micro-panel (PackB).
const PanelCols = nr

// RowBlock returns the rows of A that one micro-kernel call of k's family computes (6 for
// the AVX2 and Go families, 16 for AVX-512; MulPanels takes 8 with AVX-512 when a
// row-major A's leading dimension is a multiple of 512, see kernelSet.tileRows).
func (k *Kernels) RowBlock() int { return k.ks.mr }

// NewKernels returns the fastest kernel family this machine runs.
func NewKernels() *Kernels {
	ks := bestKernels()
	return &Kernels{ks: ks, wt: winoFor(ks.kind), st: statsFor(ks.kind)}
}

// PortableKernels returns the portable Go family, which runs everywhere (for tests and
// for comparing against the assembly).
func PortableKernels() *Kernels {
	return &Kernels{ks: goKernels(), wt: winoFor(kernelGo)}
}

// Name names the family ("avx512", "avx2" or "go").
func (k *Kernels) Name() string { return k.ks.kind.String() }

// PackedLen returns the float32s that PackB writes for a K x N matrix: ceil(N/16) panels
// of K*16.
func PackedLen(K, N int) int { return (N + nr - 1) / nr * K * nr }

// PackB packs the K x N row-major matrix b (leading dimension ldb) into dst as
// ceil(N/16) micro-panels, panel j holding columns [16j, 16j+16) k-major
// (dst[(j*K+k)*16 + c] = b[k*ldb + 16j+c], zero past N). It panics when the slices are
// too short.
func (k *Kernels) PackB(dst, b []float32, ldb, K, N int) {
	if K < 1 || N < 1 || ldb < N || len(b) < (K-1)*ldb+N || len(dst) < PackedLen(K, N) {
		k.f.failf("cpu.Kernels.PackB: K=%d N=%d ldb=%d with len(b)=%d len(dst)=%d", K, N, ldb, len(b), len(dst))
		return
	}
	packB(&k.ks, dst, b, ldb, false, 0, K, 0, N)
}

// PackBPre is PackB with the BN-ReLU of a convolution's input applied as it packs: row k
// of b (an input channel) is packed as max(0, v*scale[k] + shift[k]), the product rounded
// before the sum (no fused multiply-add). It panics when the slices are too short.
func (k *Kernels) PackBPre(dst, b []float32, ldb, K, N int, scale, shift []float32) {
	if K < 1 || N < 1 || ldb < N || len(b) < (K-1)*ldb+N || len(dst) < PackedLen(K, N) || len(scale) < K || len(shift) < K {
		k.f.failf("cpu.Kernels.PackBPre: K=%d N=%d ldb=%d with len(b)=%d len(dst)=%d len(scale)=%d len(shift)=%d",
			K, N, ldb, len(b), len(dst), len(scale), len(shift))
		return
	}
	full := N / nr
	if full > 0 {
		k.ks.packBP(&dst[0], &b[0], ldb, K, full, &scale[0], &shift[0])
	}
	if cols := N - full*nr; cols > 0 {
		panel := dst[full*K*nr : (full+1)*K*nr]
		for r := 0; r < K; r++ {
			out := (*[nr]float32)(panel[r*nr:])
			*out = [nr]float32{}
			for j, v := range b[r*ldb+full*nr : r*ldb+N] {
				out[j] = bnReLU(v, scale[r], shift[r])
			}
		}
	}
}

// PackedALen returns the float32s that PackA writes for an M x K matrix: ceil(M/16)
// panels of K*16.
func PackedALen(M, K int) int { return (M + nr - 1) / nr * K * nr }

// PackA packs the M x K row-major matrix a (leading dimension lda) into dst as
// ceil(M/16) micro-panels of 16 rows, k-major (dst[(p*K+k)*16 + i] = a[(16p+i)*lda + k],
// zero past M), the layout MulPackedA reads: one contiguous line of A per depth instead
// of 16 rows lda apart (which alias in L1 when lda is a multiple of 512, see tileRows).
// It panics when the slices are too short.
func (k *Kernels) PackA(dst, a []float32, lda, M, K int) {
	if M < 1 || K < 1 || lda < K || len(a) < (M-1)*lda+K || len(dst) < PackedALen(M, K) {
		k.f.failf("cpu.Kernels.PackA: M=%d K=%d lda=%d with len(a)=%d len(dst)=%d", M, K, lda, len(a), len(dst))
		return
	}
	packB(&k.ks, dst, a, lda, true, 0, K, 0, M)
}

// MulPackedA computes C = A*B, or C += A*B when acc, on the calling thread, for A packed
// by PackA (ap, M x K) and B's micro-panels pstride floats apart as in MulPanels (bp, K x
// N); N must be a multiple of PanelCols. It computes every element as MulPanels does: the
// same products, summed in the same order, so the two agree bit for bit. It panics when
// the slices are too short.
func (k *Kernels) MulPackedA(M, N, K int, ap, bp []float32, pstride int, c []float32, ldc int, acc bool) {
	np := N / nr
	if M < 1 || N < 1 || K < 1 || N%nr != 0 || ldc < N || pstride < K*nr || len(ap) < PackedALen(M, K) ||
		len(bp) < (np-1)*pstride+K*nr || len(c) < (M-1)*ldc+N {
		k.f.failf("cpu.Kernels.MulPackedA: M=%d N=%d K=%d pstride=%d ldc=%d with len(ap)=%d len(bp)=%d len(c)=%d",
			M, N, K, pstride, ldc, len(ap), len(bp), len(c))
		return
	}
	kern, mr := &k.ks.colA, k.ks.mr
	// Two panels at a time where the family has two-panel kernels: 8 rows of a 16-row
	// packed panel a tile (the same sums, so the same bits).
	wide, wmr := k.ks.wideT[1] != nil, min(k.ks.wideMR, 8)
	kc := blocks(K, kcMax, 1)
	for pc := 0; pc < K; pc += kc {
		d := min(kc, K-pc)
		add := acc || pc > 0
		for jr := 0; jr < N; {
			b := &bp[jr/nr*pstride+pc*nr]
			two := wide && jr+2*nr <= N
			for pr := 0; pr < M; pr += nr {
				panel := ap[pr*K+pc*nr:]
				if two {
					for ir := pr; ir < min(M, pr+nr); ir += wmr {
						rows := min(wmr, M-ir, pr+nr-ir)
						k.ks.wideT[rows](d, &panel[ir-pr], nr, b, pstride, &c[ir*ldc+jr], ldc, add)
					}
					continue
				}
				for ir := pr; ir < min(M, pr+nr); ir += mr {
					rows := min(mr, M-ir, pr+nr-ir)
					kern[rows](d, &panel[ir-pr], nr, b, &c[ir*ldc+jr], ldc, add)
				}
			}
			if two {
				jr += 2 * nr
			} else {
				jr += nr
			}
		}
	}
}

// mulEdge is the scratch of a partial last panel: a micro-tile written by the kernel and
// then copied (or added) into C.
type mulEdge [maxMR * nr]float32

// MulPacked computes C = A*B, or C += A*B when acc, on the calling thread: A is M x K
// row-major (leading dimension lda), B is K x N packed by PackB (bp), C is M x N
// row-major (leading dimension ldc). K is cut into blocks of at most 320 so that a B
// micro-panel stays in L1. It does not allocate when N is a multiple of PanelCols. It
// panics when the slices are too short.
func (k *Kernels) MulPacked(M, N, K int, a []float32, lda int, bp []float32, c []float32, ldc int, acc bool) {
	k.MulPanels(false, M, N, K, a, lda, bp, K*nr, c, ldc, acc)
}

// mulPanelFirst is the most floats of A (M x K) for which MulPanels runs panel by panel
// (each panel's depth blocks together) rather than depth block by depth block: with few
// rows of A, as in Winograd's GEMMs of a batch-1 chunk (16 tiles by 512 channels, the
// transformed weights streamed from memory), the panels are then read in one sequential
// stream, which the prefetchers and bAhead follow, instead of half a panel at a time;
// WRN-50-2's 512x14x14 F(4x4) at batch 1 on 2 threads 1.66 -> 1.44 ms and 1024x7x7 F(2x2)
// 2.85 -> 2.33 ms (BenchmarkConvForwardWRN50, AMD EPYC Zen 5).
const mulPanelFirst = 32 << 10

// MulPanels is MulPacked with op(A) = A^T when transA (A stored K x M: element (i, k) at
// a[k*lda + i]) and B's micro-panels pstride floats apart (panel j, the K x 16 block of
// columns [16j, 16j+16), k-major at bp[j*pstride:]; pstride >= K*16).
func (k *Kernels) MulPanels(transA bool, M, N, K int, a []float32, lda int, bp []float32, pstride int, c []float32, ldc int, acc bool) {
	ar, ac := M, K
	if transA {
		ar, ac = K, M
	}
	np := (N + nr - 1) / nr
	if M < 1 || N < 1 || K < 1 || lda < ac || ldc < N || pstride < K*nr || len(a) < (ar-1)*lda+ac ||
		len(bp) < (np-1)*pstride+K*nr || len(c) < (M-1)*ldc+N {
		k.f.failf("cpu.Kernels.MulPanels: transA=%v M=%d N=%d K=%d lda=%d pstride=%d ldc=%d with len(a)=%d len(bp)=%d len(c)=%d",
			transA, M, N, K, lda, pstride, ldc, len(a), len(bp), len(c))
		return
	}
	kern, mr := &k.ks.rowA, k.ks.tileRows(transA, lda)
	if transA {
		kern = &k.ks.colA
	}
	kc := blocks(K, kcMax, 1)
	var edge *mulEdge // only for a partial last panel (the kernels' pointers escape)
	if N%nr != 0 {
		edge = new(mulEdge)
	}
	// tile computes rows [ir, ir+mr) of panel jr over depth block pc.
	tile := func(pc, jr, ir int) {
		d := min(kc, K-pc)
		add := acc || pc > 0
		cols := min(nr, N-jr)
		b := &bp[jr/nr*pstride+pc*nr]
		rows := min(mr, M-ir)
		var ap *float32
		if transA {
			ap = &a[pc*lda+ir]
		} else {
			ap = &a[ir*lda+pc]
		}
		off := ir*ldc + jr
		if cols == nr {
			kern[rows](d, ap, lda, b, &c[off], ldc, add)
			return
		}
		kern[rows](d, ap, lda, b, &edge[0], nr, false)
		for i := 0; i < rows; i++ {
			dst := c[off+i*ldc : off+i*ldc+cols]
			src := edge[i*nr : i*nr+cols]
			if add {
				for j, v := range src {
					dst[j] += v
				}
			} else {
				copy(dst, src)
			}
		}
	}
	wk, wmr := &k.ks.wideA, k.ks.wideRows(lda)
	if transA {
		wk, wmr = &k.ks.wideT, k.ks.wideMR
	}
	wide := wk[1] != nil
	// cols computes panel jr, or panels jr and jr+1 with the two-panel kernels where
	// both are full, over depth block pc, and returns the columns done.
	cols := func(pc, jr int) int {
		if wide && jr+2*nr <= N {
			d := min(kc, K-pc)
			b := &bp[jr/nr*pstride+pc*nr]
			for ir := 0; ir < M; ir += wmr {
				var ap *float32
				if transA {
					ap = &a[pc*lda+ir]
				} else {
					ap = &a[ir*lda+pc]
				}
				wk[min(wmr, M-ir)](d, ap, lda, b, pstride, &c[ir*ldc+jr], ldc, acc || pc > 0)
			}
			return 2 * nr
		}
		for ir := 0; ir < M; ir += mr {
			tile(pc, jr, ir)
		}
		return nr
	}
	if M*K <= mulPanelFirst {
		// A small A stays in L1 or L2 whole: each B panel is read once, its depth
		// blocks in order, as one stream (the same sums as below, in the same order).
		for jr := 0; jr < N; {
			w := 0
			for pc := 0; pc < K; pc += kc {
				w = cols(pc, jr)
			}
			jr += w
		}
		return
	}
	for pc := 0; pc < K; pc += kc {
		for jr := 0; jr < N; {
			jr += cols(pc, jr)
		}
	}
}
