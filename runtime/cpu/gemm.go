package cpu

import "fmt"

// Cache blocking. A packed B micro-panel (kc x nr) stays in L1 while the
// micro-kernel streams the A block (mc x kc, read in place, kept in L2) past
// it; the packed B block (kc x nc) lives in L2/L3. K is cut into equal blocks
// of at most kcMax. A needs no packing: the kernels read it row-major or
// transposed with its leading dimension.
const (
	kcMax = 320
	mcMax = 120  // a multiple of mr (the AVX-512 family has its own, mcAVX512)
	ncMax = 3072 // a multiple of nr
	// parallelMin is the work (M*N*K multiply-adds) below which Do stays on the
	// calling thread: waking a worker costs more than it saves.
	parallelMin = 1 << 16
)

// Gemm is a reusable GEMM context: it holds the pack buffers, one set per pool
// thread, so that steady-state calls do not allocate. A Gemm is not safe for
// concurrent use; give each goroutine its own (they may share a Pool).
type Gemm struct {
	pool    *Pool
	kernels kernelSet
	block   blocking
	bufs    []gemmBuf
	call    gemmCall
	byN     bool
	mr      int                     // rows per tile in the Do in progress (kernelSet.tileRows)
	body    func(chunk, lo, hi int) // g.chunk, bound once
	f       fault
}

// Err is the first error of a Do whose arguments were inconsistent, or nil.
func (g *Gemm) Err() error { return g.f.get() }

// blocking holds the block limits (kcMax, the kernel family's mc, ncMax by
// default; tests shrink them to reach every blocking path with small matrices).
// mc is rounded up to a multiple of the family's mr where it is used.
type blocking struct{ kc, mc, nc int }

// gemmBuf is one thread's scratch.
type gemmBuf struct {
	b    []float32           // packed B block
	edge [maxMR * nr]float32 // a partial tile, before it is added into C
}

// gemmCall holds the arguments of the Do in progress.
type gemmCall struct {
	transA, transB bool
	m, n, k        int
	a              []float32
	lda            int
	b              []float32
	ldb            int
	c              []float32
	ldc            int
	acc            bool
}

// NewGemm returns a context that runs on p's threads with the fastest
// micro-kernels this machine supports.
func NewGemm(p *Pool) *Gemm {
	return newGemmWith(p, bestKernels())
}

func newGemmWith(p *Pool, ks kernelSet) *Gemm {
	g := &Gemm{pool: p, kernels: ks, block: blocking{kcMax, ks.mc, ncMax}, bufs: make([]gemmBuf, p.Threads())}
	g.body = g.chunk
	return g
}

// Kernel names the micro-kernel family in use ("avx512", "avx2" or "go").
func (g *Gemm) Kernel() string { return g.kernels.kind.String() }

// Check reports whether Do's arguments describe matrices that fit in the
// slices given: dimensions >= 0, leading dimensions at least the row length
// (and >= 1), and slices long enough. Do panics with this error when it fails;
// generated code, whose shapes are constants, checks once up front.
func (g *Gemm) Check(transA, transB bool, M, N, K int, A []float32, lda int, B []float32, ldb int, C []float32, ldc int) error {
	if M < 0 || N < 0 || K < 0 {
		return fmt.Errorf("cpu.Gemm: negative dimension M=%d N=%d K=%d", M, N, K)
	}
	ar, ac := M, K
	if transA {
		ar, ac = K, M
	}
	br, bc := K, N
	if transB {
		br, bc = N, K
	}
	if err := checkMatrix("A", ar, ac, A, lda); err != nil {
		return err
	}
	if err := checkMatrix("B", br, bc, B, ldb); err != nil {
		return err
	}
	return checkMatrix("C", M, N, C, ldc)
}

func checkMatrix(name string, rows, cols int, s []float32, ld int) error {
	if ld < max(cols, 1) {
		return fmt.Errorf("cpu.Gemm: ld%s=%d, want >= %d (columns of %s)", name, ld, max(cols, 1), name)
	}
	if rows == 0 || cols == 0 {
		return nil
	}
	if need := (rows-1)*ld + cols; len(s) < need {
		return fmt.Errorf("cpu.Gemm: %s has %d elements, want >= %d for %dx%d with ld %d", name, len(s), need, rows, cols, ld)
	}
	return nil
}

// Do computes C = op(A)*op(B), or C += op(A)*op(B) when acc, for row-major
// float32 matrices: op(A) is M x K (A is stored K x M when transA), op(B) is
// K x N (B is stored N x K when transB), C is M x N. The work is split over
// the pool's threads by column panels, or by row panels when N has too few
// panels to share evenly (see splitByN). When the arguments are inconsistent Do
// computes nothing and keeps Check's error for Err.
func (g *Gemm) Do(transA, transB bool, M, N, K int, A []float32, lda int, B []float32, ldb int, C []float32, ldc int, acc bool) {
	if err := g.Check(transA, transB, M, N, K, A, lda, B, ldb, C, ldc); err != nil {
		g.f.fail(err)
		return
	}
	if M == 0 || N == 0 {
		return
	}
	if K == 0 {
		if !acc {
			for i := 0; i < M; i++ {
				clear(C[i*ldc : i*ldc+N])
			}
		}
		return
	}
	g.call = gemmCall{transA, transB, M, N, K, A, lda, B, ldb, C, ldc, acc}
	defer func() { g.call = gemmCall{} }() // drop references to the caller's slices
	mr := g.kernels.tileRows(transA, lda)
	g.mr = mr
	mp, np := (M+mr-1)/mr, (N+nr-1)/nr
	g.byN = splitByN(mp, np, mr, g.pool.Threads())
	panels := mp
	if g.byN {
		panels = np
	}
	if g.pool.Threads() == 1 || M*N*K < parallelMin || panels == 1 {
		g.chunk(0, 0, panels)
		return
	}
	g.pool.ForChunk(panels, g.body)
}

// splitByN reports whether to give each thread a range of the np column
// panels rather than of the mp row panels (of mr rows). Splitting N costs
// nothing extra (A is read in place, each thread packs only its own columns of
// B), while splitting M makes every thread pack all of B; so N wins unless its
// busiest thread gets clearly more work than with an M split.
func splitByN(mp, np, mr, threads int) bool {
	busiestN := (np + threads - 1) / threads * nr * mp * mr
	busiestM := (mp + threads - 1) / threads * mr * np * nr
	return busiestN*10 <= busiestM*11
}

// chunk computes the panels [lo, hi) of the current call (N panels when
// byN, else M panels) with thread t's buffers.
func (g *Gemm) chunk(t, lo, hi int) {
	c := &g.call
	i0, i1, j0, j1 := 0, c.m, 0, c.n
	if g.byN {
		j0, j1 = lo*nr, min(hi*nr, c.n)
	} else {
		i0, i1 = lo*g.mr, min(hi*g.mr, c.m)
	}
	g.serial(&g.bufs[t], i0, i1, j0, j1)
}

// blocks returns the size of each of the fewest equal blocks (at most limit,
// rounded up to a multiple of align) that cover n.
func blocks(n, limit, align int) int {
	count := (n + limit - 1) / limit
	size := (n + count - 1) / count
	return (size + align - 1) / align * align
}

// serial computes C[i0:i1, j0:j1] on the calling thread.
func (g *Gemm) serial(buf *gemmBuf, i0, i1, j0, j1 int) {
	c := &g.call
	kc := blocks(c.k, g.block.kc, 1)
	mc := blocks(i1-i0, g.block.mc, g.mr)
	nc := blocks(j1-j0, g.block.nc, nr)
	if need := kc * nc; len(buf.b) < need {
		buf.b = make([]float32, need)
	}
	for jc := j0; jc < j1; jc += nc {
		n := min(nc, j1-jc)
		for pc := 0; pc < c.k; pc += kc {
			k := min(kc, c.k-pc)
			acc := c.acc || pc > 0
			if i1-i0 <= mc {
				// One row block: pack each B micro-panel just before its tiles
				// use it, while it is still in L1 (measured 2-5% faster than
				// packing the whole block first).
				for jr := 0; jr < n; jr += nr {
					cols := min(nr, n-jr)
					packB(&g.kernels, buf.b, c.b, c.ldb, c.transB, pc, k, jc+jr, cols)
					g.macro(buf, i0, i1-i0, pc, jc+jr, cols, k, acc)
				}
				continue
			}
			packB(&g.kernels, buf.b, c.b, c.ldb, c.transB, pc, k, jc, n)
			for ic := i0; ic < i1; ic += mc {
				m := min(mc, i1-ic)
				g.macro(buf, ic, m, pc, jc, n, k, acc)
			}
		}
	}
}

// macro runs the micro-kernel over the m x k block of op(A) at (ic, pc), read
// in place, and the packed k x n block of B, writing C[ic:ic+m, jc:jc+n].
func (g *Gemm) macro(buf *gemmBuf, ic, m, pc, jc, n, k int, acc bool) {
	c := &g.call
	mr := g.mr
	for jr := 0; jr < n; jr += nr {
		cols := min(nr, n-jr)
		bp := &buf.b[jr*k]
		for ir := 0; ir < m; ir += mr {
			rows := min(mr, m-ir)
			off := (ic+ir)*c.ldc + jc + jr
			dst, ldd, add := &c.c[off], c.ldc, acc
			if cols < nr {
				dst, ldd, add = &buf.edge[0], nr, false
			}
			if c.transA {
				g.kernels.colA[rows](k, &c.a[pc*c.lda+ic+ir], c.lda, bp, dst, ldd, add)
			} else {
				g.kernels.rowA[rows](k, &c.a[(ic+ir)*c.lda+pc], c.lda, bp, dst, ldd, add)
			}
			if cols == nr {
				continue
			}
			for i := 0; i < rows; i++ {
				dst := c.c[off+i*c.ldc : off+i*c.ldc+cols]
				src := buf.edge[i*nr : i*nr+cols]
				if acc {
					for j, v := range src {
						dst[j] += v
					}
				} else {
					copy(dst, src)
				}
			}
		}
	}
}
