package ptx

import (
	"fmt"

	"github.com/wrnc/wrnc/runtime/contract"
)

// The tiled GEMM every convolution kernel is made of: D[m][n] = sum over k of A[m][k]*B[k][n]
// with M, N and the reduction length constants, A and B produced element by element by the
// kernel's loaders (gathers from activations, weights, output gradients, with the BN-ReLU and
// dropout applied as loaded) and each D element handed to the kernel's store.
//
// A block computes a BM x BN tile of D. Each reduction step of BK loads an A tile and a B tile
// into shared memory (k-major: As[k][m], Bs[k][n], rows padded), one barrier, the products,
// another barrier. The products are FMAs (each thread a TM x TN sub-tile, rows and columns
// interleaved so that a warp's stores are contiguous) or tensor-core mma.sync (each warp a
// 16x8 grid of fragments), with fp32 accumulators either way.

// Math is how a kernel multiplies.
type Math int

// The math modes: plain fp32 FMA; TF32 tensor cores (operands rounded to tf32, fp32
// accumulation: mma.sync m16n8k8); BF16 tensor cores (operands rounded to bf16, fp32
// accumulation: mma.sync m16n8k16).
const (
	FP32 Math = iota
	TF32
	BF16
)

func (m Math) String() string {
	switch m {
	case FP32:
		return "fp32"
	case TF32:
		return "tf32"
	case BF16:
		return "bf16"
	}
	return fmt.Sprintf("Math(%d)", int(m))
}

// loader produces the elements of one GEMM operand. For A the fixed coordinate is m, for B
// it is n; k is the reduction index.
type loader interface {
	// kFast reports whether consecutive threads should load consecutive k (the operand is
	// contiguous along k in memory) rather than consecutive m or n.
	kFast() bool
	// prepare is emitted once per element slot per image, before the reduction loop, with the
	// slot's fixed coordinate; it returns what load needs.
	prepare(b *builder, fixed, img reg) any
	// load emits the element at reduction index k (only where fixed and k are in range) into
	// a fresh f32 register.
	load(b *builder, st any, k reg) reg
}

// storer writes one element of D (only where m < M and n < N) of image img (meaningless for
// a gemm over Images).
type storer func(b *builder, m, n, img reg, v reg)

// gemm describes one GEMM kernel body.
type gemm struct {
	M, N, K int // K: the reduction length of one image
	// Images: the reduction also runs over the images of the call (weight gradients): the
	// loaders are prepared per image in a run-time loop over n images. Otherwise each image
	// is its own GEMM, image ctaid.z.
	Images bool
	Math   Math
	A, B   loader
	Store  storer
}

// tiling is the block shape of a gemm.
type tiling struct {
	BM, BN, BK int
	TM, TN     int // FMA: each thread's sub-tile
	WM, WN     int // MMA: warps along m and n; each warp (BM/WM) x (BN/WN)
	threads    int
}

// tilingOf checks that sel (chosen by the compiler's selection pass) is a tiling the GEMM
// of g can use, and returns it.
func (g *gemm) tilingOf(sel contract.Selection) (tiling, error) {
	t := tiling{BM: sel.BM, BN: sel.BN, BK: sel.BK, TM: sel.TM, TN: sel.TN, WM: sel.WM, WN: sel.WN, threads: sel.Threads}
	pow2 := func(v int) bool { return v > 0 && v&(v-1) == 0 }
	bad := func(why string) (tiling, error) {
		return tiling{}, fmt.Errorf("ptx: GEMM %dx%dx%d (%s): tiling %s: %s", g.M, g.N, g.K, g.Math, sel, why)
	}
	switch {
	case !pow2(t.BM) || !pow2(t.BN) || !pow2(t.BK):
		return bad("tiles must be powers of two")
	case g.Math == FP32 && sel.Method != contract.GemmFMA, g.Math != FP32 && sel.Method != contract.GemmMMA:
		return bad("the wrong kernel variant for the math mode")
	case g.Math == FP32 && (!pow2(t.TM) || !pow2(t.TN) || t.BM%t.TM != 0 || t.BN%t.TN != 0 || t.threads != t.BM/t.TM*(t.BN/t.TN)):
		return bad("FMA thread tiles must divide the block tile, one thread each")
	case g.Math != FP32 && (!pow2(t.WM) || !pow2(t.WN) || t.BM%(16*t.WM) != 0 || t.BN%(8*t.WN) != 0 || t.threads != 32*t.WM*t.WN):
		return bad("MMA warp tiles must be whole 16x8 fragments, one warp each")
	case g.Math == BF16 && t.BK%16 != 0, g.Math == TF32 && t.BK%8 != 0:
		return bad("the reduction step must be a whole mma k")
	}
	return t, nil
}

// pad is the padding of a shared tile row: 8 words keeps the mma fragment reads (lanes
// g + 8*tig) on distinct banks.
const pad = 8

// emitGemm writes the kernel body of g. It returns the grid (z per image) the body expects.
func emitGemm(b *builder, g *gemm, t tiling) [3]int {
	grid := [3]int{ceil(g.N, t.BN), ceil(g.M, t.BM), 1}
	tid := b.special("%tid.x")
	n0 := b.mul(b.special("%ctaid.x"), u32(t.BN))
	m0 := b.mul(b.special("%ctaid.y"), u32(t.BM))
	sa := b.sharedArray("a", t.BK*(t.BM+pad)*4)
	sb := b.sharedArray("b", t.BK*(t.BN+pad)*4)
	slotsA := newTileSlots(b, tid, t, t.BM, g.A.kFast(), m0, sa)
	slotsB := newTileSlots(b, tid, t, t.BN, g.B.kFast(), n0, sb)
	var c compute
	if g.Math == FP32 {
		c = newFMA(b, tid, t, sa, sb)
	} else {
		c = newMMA(b, tid, t, g.Math, sa, sb)
	}
	reduce := func(img reg) {
		stA := slotsA.prepare(b, g.A, img)
		stB := slotsB.prepare(b, g.B, img)
		b.loop(u32(0), u32(g.K), t.BK, func(k0 reg) {
			slotsA.fill(b, stA, g.A, k0, g.M, g.K)
			slotsB.fill(b, stB, g.B, k0, g.N, g.K)
			b.bar()
			c.step(b)
			b.bar()
		})
	}
	var img reg // the image of the stores: none when the reduction runs over the images
	if g.Images {
		b.loop(u32(0), b.param32("n"), 1, func(i reg) { reduce(i) })
	} else {
		img = b.special("%ctaid.z")
		reduce(img)
	}
	c.epilogue(b, func(mi, ni int, mOff, nOff reg, v reg) {
		m := b.add(m0, mOff)
		n := b.add(n0, nOff)
		if mi >= 0 {
			m = b.add(m, u32(mi))
		}
		if ni >= 0 {
			n = b.add(n, u32(ni))
		}
		in := b.and(b.setp("lo", m, u32(g.M)), b.setp("lo", n, u32(g.N)))
		b.ifThen(in, func() { g.Store(b, m, n, img, v) })
	})
	return grid
}

func ceil(a, b int) int { return (a + b - 1) / b }

// slot is one element a thread loads into a shared tile per reduction step. Threads and tile
// widths are powers of two, so element e = tid + i*threads of the tile sits at the thread's
// own (k, f) plus constants: (tid % BK, tid / BK) + i*threads split the same way when kFast,
// else (tid / width, tid % width) + split(i*threads).
type slot struct {
	dk, df int // constant offsets of the slot from the thread's (k, f)
	state  int // index of the prepared loader state (one per distinct df)
	guard  bool
}

// tileSlots spreads a BK x width tile over the block's threads.
type tileSlots struct {
	f, k  reg // the thread's own coordinates in the tile; f is global (base + f)
	saddr reg // shared byte address of the thread's element Tile[k][f]
	live  reg // the thread holds an element at all (false only for threads past a tiny tile)
	width int
	slots []slot
	dfs   []int // the distinct df, in order
}

func newTileSlots(b *builder, tid reg, t tiling, width int, kFast bool, base reg, s sym) *tileSlots {
	ts := &tileSlots{width: width}
	total := t.BK * width
	split := func(e int) (k, f int) {
		if kFast {
			return e % t.BK, e / t.BK
		}
		return e / width, e % width
	}
	var k, f reg
	if kFast {
		k, f = b.and(tid, u32(t.BK-1)), b.shr(tid, log2(t.BK))
	} else {
		k, f = b.shr(tid, log2(width)), b.and(tid, u32(width-1))
	}
	ts.k, ts.f = k, b.add(base, f)
	ts.saddr = b.add(b.sharedBase(s), b.shl(b.mad(k, u32(width+pad), f), 2))
	if t.threads > total {
		ts.live = b.setp("lo", tid, u32(total))
	}
	for i := 0; i*t.threads < total; i++ {
		dk, df := split(i * t.threads)
		st := -1
		for j, d := range ts.dfs {
			if d == df {
				st = j
			}
		}
		if st < 0 {
			st = len(ts.dfs)
			ts.dfs = append(ts.dfs, df)
		}
		ts.slots = append(ts.slots, slot{dk: dk, df: df, state: st, guard: t.threads > total})
	}
	return ts
}

func log2(x int) int {
	n := 0
	for 1<<n < x {
		n++
	}
	return n
}

// prepare runs the loader's per-image preparation for every distinct fixed coordinate.
func (ts *tileSlots) prepare(b *builder, l loader, img reg) []any {
	st := make([]any, len(ts.dfs))
	for i, df := range ts.dfs {
		f := ts.f
		if df != 0 {
			f = b.add(f, u32(df))
		}
		st[i] = l.prepare(b, f, img)
	}
	return st
}

// fill loads each slot's element for the step at k0 (0 outside the matrix) and stores it into
// shared memory.
func (ts *tileSlots) fill(b *builder, st []any, l loader, k0 reg, fixedMax, kMax int) {
	kt := b.add(k0, ts.k)
	for _, s := range ts.slots {
		k, f := kt, ts.f
		if s.dk != 0 {
			k = b.add(k, u32(s.dk))
		}
		if s.df != 0 {
			f = b.add(f, u32(s.df))
		}
		in := b.and(b.setp("lo", k, u32(kMax)), b.setp("lo", f, u32(fixedMax)))
		if s.guard {
			in = b.and(in, ts.live)
		}
		v := b.mov(tF32, f32(0))
		b.ifThen(in, func() { b.set(v, l.load(b, st[s.state], k)) })
		a := addr{base: ts.saddr, off: (s.dk*(ts.width+pad) + s.df) * 4}
		if s.guard {
			b.guarded(ts.live, false, func() { b.st("shared", tF32, a, v) })
			continue
		}
		b.st("shared", tF32, a, v)
	}
}

// compute is the inner product of one reduction step and the epilogue that hands out the
// accumulators.
type compute interface {
	step(b *builder)
	// epilogue calls out for every accumulator with its coordinates within the block tile:
	// mOff + mi, nOff + ni (a negative mi or ni adds nothing).
	epilogue(b *builder, out func(mi, ni int, mOff, nOff reg, v reg))
}

// fma is the CUDA-core product: thread (tx, ty) owns rows ty + i*BM/TM and columns
// tx + j*BN/TN of the tile.
type fma struct {
	t        tiling
	acc      [][]reg
	pa, pb   reg // shared addresses of As[0][ty], Bs[0][tx]
	tx, ty   reg
	rowsStep int
	colsStep int
}

func newFMA(b *builder, tid reg, t tiling, sa, sb sym) *fma {
	c := &fma{t: t, rowsStep: t.BM / t.TM, colsStep: t.BN / t.TN}
	c.tx = b.rem(tid, u32(c.colsStep))
	c.ty = b.div(tid, u32(c.colsStep))
	c.pa = b.add(b.sharedBase(sa), b.shl(c.ty, 2))
	c.pb = b.add(b.sharedBase(sb), b.shl(c.tx, 2))
	c.acc = make([][]reg, t.TM)
	for i := range c.acc {
		c.acc[i] = make([]reg, t.TN)
		for j := range c.acc[i] {
			c.acc[i][j] = b.mov(tF32, f32(0))
		}
	}
	return c
}

func (c *fma) step(b *builder) {
	t := c.t
	for kk := 0; kk < t.BK; kk++ {
		a := make([]reg, t.TM)
		for i := range a {
			a[i] = b.ld("shared", tF32, addr{c.pa, (kk*(t.BM+pad) + i*c.rowsStep) * 4})
		}
		bv := make([]reg, t.TN)
		for j := range bv {
			bv[j] = b.ld("shared", tF32, addr{c.pb, (kk*(t.BN+pad) + j*c.colsStep) * 4})
		}
		for i := range a {
			for j := range bv {
				b.to(c.acc[i][j], opFma, a[i], bv[j], c.acc[i][j])
			}
		}
	}
}

func (c *fma) epilogue(b *builder, out func(mi, ni int, mOff, nOff reg, v reg)) {
	for i := range c.acc {
		for j := range c.acc[i] {
			out(i*c.rowsStep, j*c.colsStep, c.ty, c.tx, c.acc[i][j])
		}
	}
}
