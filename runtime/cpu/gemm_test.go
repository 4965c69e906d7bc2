package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
)

// gemmTol is the error bound of the GEMM tests, per element:
// |got - want| <= gemmTol * (sum_k |op(A)[i,k]| |op(B)[k,j]| + |C0[i,j]| when acc),
// with want computed in float64.
const gemmTol = 1e-5

// kernelCases lists every kernel family this machine runs (TestDetectMatchesCPUInfo
// checks that none is missing that /proc/cpuinfo promises).
func kernelCases(t testing.TB) []kernelSet {
	t.Helper()
	var sets []kernelSet
	for _, kind := range kernelKinds {
		if s, ok := kernelsFor(kind); ok {
			sets = append(sets, s)
		}
	}
	return sets
}

// forEachKernel runs f in a subtest per kernel family, named by the family, each
// forced through kernelsFor whatever bestKernels would pick; a family this machine
// cannot run is skipped, saying why.
func forEachKernel(t *testing.T, f func(t *testing.T, ks kernelSet)) {
	for _, kind := range kernelKinds {
		t.Run(kind.String(), func(t *testing.T) {
			ks, ok := kernelsFor(kind)
			if !ok {
				t.Skipf("this CPU or OS (GOARCH=%s) does not support the %s kernels", runtime.GOARCH, kind)
			}
			f(t, ks)
		})
	}
}

// TestKernelTiles calls every micro-kernel of every family directly (each row count,
// row-major and transposed A, with and without acc, depths around the unrolling) and
// checks the tile against float64; C around the tile must not change.
func TestKernelTiles(t *testing.T) {
	forEachKernel(t, func(t *testing.T, ks kernelSet) {
		if ks.mr < 1 || ks.mr > maxMR || ks.mc%ks.mr != 0 || ks.mc < ks.mr || ks.aliasMR < 1 || ks.aliasMR > ks.mr || ks.mc%ks.aliasMR != 0 {
			t.Fatalf("mr=%d mc=%d aliasMR=%d: want 1 <= aliasMR <= mr <= %d and mc a positive multiple of both",
				ks.mr, ks.mc, ks.aliasMR, maxMR)
		}
		for _, tc := range []struct {
			transA bool
			lda    int
			want   int
		}{{false, 576, ks.mr}, {false, 512, ks.aliasMR}, {false, 1024, ks.aliasMR}, {true, 1024, ks.mr}, {false, 1000, ks.mr}} {
			if got := ks.tileRows(tc.transA, tc.lda); got != tc.want {
				t.Errorf("tileRows(%v, %d) = %d, want %d", tc.transA, tc.lda, got, tc.want)
			}
		}
		r := rand.New(rand.NewPCG(8, uint64(ks.kind)))
		for rows := 1; rows <= ks.mr; rows++ {
			for _, transA := range []bool{false, true} {
				for _, k := range []int{1, 2, 3, 4, 5, 7, 8, 9, 17, 64} {
					for _, acc := range []bool{false, true} {
						checkTile(t, ks, r, rows, k, transA, acc)
					}
				}
			}
		}
	})
}

func checkTile(t *testing.T, ks kernelSet, r *rand.Rand, rows, k int, transA, acc bool) {
	t.Helper()
	lda := k + 3 // row-major: rows x lda
	if transA {
		lda = rows + 2 // k x lda
	}
	const ldc = nr + 5
	a := randSlice(r, max(rows, k)*lda)
	b := randSlice(r, k*nr)
	c := randSlice(r, (rows+2)*ldc) // one guard row above and below
	c0 := append([]float32(nil), c...)
	kern := ks.rowA[rows]
	if transA {
		kern = ks.colA[rows]
	}
	kern(k, &a[0], lda, &b[0], &c[ldc], ldc, acc)
	for i := -1; i <= rows; i++ {
		for j := 0; j < ldc; j++ {
			got, was := c[(i+1)*ldc+j], c0[(i+1)*ldc+j]
			if i < 0 || i == rows || j >= nr {
				if math.Float32bits(got) != math.Float32bits(was) {
					t.Fatalf("rows=%d k=%d transA=%v acc=%v: C[%d,%d] outside the tile changed", rows, k, transA, acc, i, j)
				}
				continue
			}
			want, mag := 0.0, 0.0
			for p := 0; p < k; p++ {
				av := a[i*lda+p]
				if transA {
					av = a[p*lda+i]
				}
				v := float64(av) * float64(b[p*nr+j])
				want += v
				mag += math.Abs(v)
			}
			if acc {
				want += float64(was)
				mag += math.Abs(float64(was))
			}
			if math.Abs(float64(got)-want) > gemmTol*mag || math.IsNaN(float64(got)) {
				t.Fatalf("rows=%d k=%d transA=%v acc=%v: C[%d,%d] = %v, want %v", rows, k, transA, acc, i, j, got, want)
			}
		}
	}
}

type gemmShape struct {
	transA, transB bool
	m, n, k        int
	padA, padB     int // extra leading-dimension elements
	padC           int
	acc            bool
}

func (s gemmShape) String() string {
	return fmt.Sprintf("tA=%v,tB=%v,%dx%dx%d,pad=%d/%d/%d,acc=%v", s.transA, s.transB, s.m, s.n, s.k, s.padA, s.padB, s.padC, s.acc)
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.Float64()*2 - 1)
	}
	return s
}

// gemmCase builds the operands of s, runs g.Do and checks C against float64.
func checkGemm(t *testing.T, g *Gemm, r *rand.Rand, s gemmShape) {
	t.Helper()
	ar, ac := s.m, s.k
	if s.transA {
		ar, ac = s.k, s.m
	}
	br, bc := s.k, s.n
	if s.transB {
		br, bc = s.n, s.k
	}
	lda, ldb, ldc := max(ac, 1)+s.padA, max(bc, 1)+s.padB, max(s.n, 1)+s.padC
	a := randSlice(r, ar*lda)
	b := randSlice(r, br*ldb)
	c := randSlice(r, s.m*ldc)
	c0 := append([]float32(nil), c...)
	opA := func(i, k int) float64 {
		if s.transA {
			return float64(a[k*lda+i])
		}
		return float64(a[i*lda+k])
	}
	opB := func(k, j int) float64 {
		if s.transB {
			return float64(b[j*ldb+k])
		}
		return float64(b[k*ldb+j])
	}
	g.Do(s.transA, s.transB, s.m, s.n, s.k, a, lda, b, ldb, c, ldc, s.acc)
	bad := 0
	for i := 0; i < s.m; i++ {
		for j := 0; j < ldc; j++ {
			got := c[i*ldc+j]
			if j >= s.n {
				if math.Float32bits(got) != math.Float32bits(c0[i*ldc+j]) {
					t.Errorf("C[%d,%d] past N changed: %v -> %v", i, j, c0[i*ldc+j], got)
					bad++
				}
				continue
			}
			want, mag := 0.0, 0.0
			for k := 0; k < s.k; k++ {
				p := opA(i, k) * opB(k, j)
				want += p
				mag += math.Abs(p)
			}
			if s.acc {
				want += float64(c0[i*ldc+j])
				mag += math.Abs(float64(c0[i*ldc+j]))
			}
			if math.Abs(float64(got)-want) > gemmTol*mag || math.IsNaN(float64(got)) {
				t.Errorf("C[%d,%d] = %v, want %v (bound %.3g)", i, j, got, want, gemmTol*mag)
				bad++
			}
			if bad > 10 {
				t.Fatal("too many errors")
			}
		}
	}
}

func gemmShapes(r *rand.Rand) []gemmShape {
	var shapes []gemmShape
	for _, tA := range []bool{false, true} {
		for _, tB := range []bool{false, true} {
			for _, acc := range []bool{false, true} {
				// Edges of the micro-tile: 1..7 rows, 1..17 columns.
				// Edges of the 16-row AVX-512 tile: 15..17, 31..33 rows.
				for _, mnk := range [][3]int{{1, 1, 1}, {6, 16, 1}, {7, 17, 3}, {5, 15, 4}, {13, 33, 5}, {12, 32, 2},
					{15, 16, 9}, {16, 31, 4}, {17, 48, 6}, {31, 1, 5}, {32, 47, 13}, {33, 16, 7}} {
					shapes = append(shapes, gemmShape{tA, tB, mnk[0], mnk[1], mnk[2], 0, 0, 0, acc})
				}
				for range 12 {
					shapes = append(shapes, gemmShape{tA, tB, 1 + r.IntN(70), 1 + r.IntN(70), 1 + r.IntN(70),
						r.IntN(4), r.IntN(4), r.IntN(4), acc})
				}
				// Several K blocks, several M blocks, wide N.
				shapes = append(shapes, gemmShape{tA, tB, 131, 70, 701, 3, 1, 2, acc})
				// lda = 512 and 1024 (row-major: the L1-aliasing tile rows of tileRows).
				shapes = append(shapes, gemmShape{tA, tB, 37, 33, 500, 12, 0, 1, acc},
					gemmShape{tA, tB, 20, 17, 1024, 0, 3, 0, acc})
			}
		}
	}
	// Empty and degenerate shapes.
	shapes = append(shapes,
		gemmShape{m: 0, n: 5, k: 3}, gemmShape{m: 4, n: 0, k: 3}, gemmShape{m: 4, n: 5, k: 0},
		gemmShape{m: 4, n: 5, k: 0, acc: true})
	return shapes
}

func TestGemm(t *testing.T) {
	forEachKernel(t, func(t *testing.T, ks kernelSet) {
		for _, threads := range []int{1, 2, 3} {
			for _, small := range []bool{false, true} {
				name := fmt.Sprintf("threads=%d", threads)
				if small {
					name += "/smallblocks"
				}
				t.Run(name, func(t *testing.T) {
					p := NewPool(threads)
					defer p.Close()
					g := newGemmWith(p, ks)
					if small {
						// Several K, M and N blocks even for the small shapes.
						g.block = blocking{kc: 7, mc: 2 * ks.mr, nc: 32}
					}
					r := rand.New(rand.NewPCG(1, uint64(threads)))
					for _, s := range gemmShapes(r) {
						t.Run(s.String(), func(t *testing.T) { checkGemm(t, g, r, s) })
					}
				})
			}
		}
	})
}

func TestGemmLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("large shapes in -short mode")
	}
	shapes := []gemmShape{
		{m: 256, n: 1024, k: 576},
		{m: 64, n: 1024, k: 576, acc: true},
		{transA: true, m: 128, n: 256, k: 1152, padA: 5},
		{transB: true, m: 256, n: 64, k: 2304, padB: 1, padC: 7},
		{transA: true, transB: true, m: 200, n: 3100, k: 40, acc: true},
	}
	forEachKernel(t, func(t *testing.T, ks kernelSet) {
		p := NewPool(2)
		defer p.Close()
		g := newGemmWith(p, ks)
		r := rand.New(rand.NewPCG(2, 3))
		for _, s := range shapes {
			t.Run(s.String(), func(t *testing.T) { checkGemm(t, g, r, s) })
		}
	})
}

// TestGemmKernelsAgree runs the same products through every kernel family and
// checks that the results agree with each other, not only with float64.
func TestGemmKernelsAgree(t *testing.T) {
	sets := kernelCases(t)
	if len(sets) < 2 {
		t.Skip("only the Go kernels run on this machine")
	}
	r := rand.New(rand.NewPCG(4, 5))
	const m, n, k = 37, 53, 300
	a, b := randSlice(r, m*k), randSlice(r, k*n)
	p := NewPool(2)
	defer p.Close()
	var results [][]float32
	for _, ks := range sets {
		c := make([]float32, m*n)
		newGemmWith(p, ks).Do(false, false, m, n, k, a, k, b, n, c, n, false)
		results = append(results, c)
	}
	for i := range results[0] {
		mag := 0.0
		for q := 0; q < k; q++ {
			mag += math.Abs(float64(a[(i/n)*k+q]) * float64(b[q*n+i%n]))
		}
		for s := 1; s < len(sets); s++ {
			if d := math.Abs(float64(results[s][i] - results[0][i])); d > 2*gemmTol*mag {
				t.Fatalf("C[%d]: %v %v, %v %v", i, sets[0].kind, results[0][i], sets[s].kind, results[s][i])
			}
		}
	}
}

func TestNewGemmPicksBest(t *testing.T) {
	if kernelCap != kernelKinds[len(kernelKinds)-1] {
		t.Skipf("%s caps the family at %v", KernelsEnv, kernelCap)
	}
	p := NewPool(1)
	defer p.Close()
	want := "go"
	if _, ok := kernelsFor(kernelAVX2); ok {
		want = "avx2"
	}
	if _, ok := kernelsFor(kernelAVX512); ok {
		want = "avx512"
	}
	if got := NewGemm(p).Kernel(); got != want {
		t.Errorf("Kernel() = %q, want %q", got, want)
	}
}

// TestKernelsEnvCap checks the family picked under each value of KernelsEnv.
func TestKernelsEnvCap(t *testing.T) {
	best := func(limit kernelKind) kernelKind {
		for i := len(kernelKinds) - 1; i > 0; i-- {
			if _, ok := kernelsFor(kernelKinds[i]); ok && kernelKinds[i] <= limit {
				return kernelKinds[i]
			}
		}
		return kernelGo
	}
	for _, tc := range []struct {
		env  string
		want kernelKind
	}{
		{"", best(kernelAVX512)}, {"bogus", best(kernelAVX512)}, {"avx512", best(kernelAVX512)},
		{"avx2", best(kernelAVX2)}, {"go", kernelGo},
	} {
		if got := bestKernelsUpTo(capFromEnv(tc.env)).kind; got != tc.want {
			t.Errorf("%s=%q: %v, want %v", KernelsEnv, tc.env, got, tc.want)
		}
	}
}

func TestGemmCheck(t *testing.T) {
	p := NewPool(1)
	defer p.Close()
	g := NewGemm(p)
	s := make([]float32, 100)
	tests := []struct {
		name           string
		transA, transB bool
		m, n, k        int
		a              []float32
		lda            int
		b              []float32
		ldb            int
		c              []float32
		ldc            int
		want           string // substring of the error; "" for none
	}{
		{"ok", false, false, 4, 5, 6, s, 6, s, 5, s, 5, ""},
		{"ok transposed", true, true, 4, 5, 6, s, 4, s, 6, s, 5, ""},
		{"negative", false, false, -1, 5, 6, s, 6, s, 5, s, 5, "negative dimension"},
		{"lda small", false, false, 4, 5, 6, s, 5, s, 5, s, 5, "ldA=5, want >= 6"},
		{"ldb small transB", false, true, 4, 5, 6, s, 6, s, 5, s, 5, "ldB=5, want >= 6"},
		{"ldc small", false, false, 4, 5, 6, s, 6, s, 5, s, 4, "ldC=4, want >= 5"},
		{"A short", false, false, 4, 5, 6, s[:23], 6, s, 5, s, 5, "A has 23 elements, want >= 24"},
		{"B short", false, false, 4, 5, 6, s, 6, s[:29], 5, s, 5, "B has 29 elements, want >= 30"},
		{"C short", false, false, 4, 5, 6, s, 6, s, 5, s[:19], 5, "C has 19 elements, want >= 20"},
		{"empty ok", false, false, 0, 5, 6, nil, 6, s, 5, nil, 5, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := g.Check(tt.transA, tt.transB, tt.m, tt.n, tt.k, tt.a, tt.lda, tt.b, tt.ldb, tt.c, tt.ldc)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Check: %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Check: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestGemmDoesNotAllocate(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	g := NewGemm(p)
	r := rand.New(rand.NewPCG(6, 7))
	const m, n, k = 64, 256, 300
	a, b, c := randSlice(r, m*k), randSlice(r, k*n), make([]float32, m*n)
	g.Do(false, false, m, n, k, a, k, b, n, c, n, false) // sizes the buffers
	if got := testing.AllocsPerRun(10, func() {
		g.Do(false, false, m, n, k, a, k, b, n, c, n, true)
	}); got != 0 {
		t.Errorf("Do allocates %v times per call in steady state, want 0", got)
	}
}

func TestSplitByN(t *testing.T) {
	tests := []struct {
		mp, np, mr, threads int
		want                bool
	}{
		{11, 64, 6, 2, true},  // WRN group0: M=64, N=1024
		{43, 4, 6, 2, true},   // group2: M=256, N=64, two column panels each
		{384, 4, 6, 2, true},  // dcol of group2: M=2304, N=64
		{100, 1, 6, 2, false}, // one column panel: rows are the only way to share
		{100, 3, 6, 2, false}, // 2 of 3 column panels on one thread
		{2, 100, 6, 2, true},
		{5, 64, 14, 2, true},   // group0 with 14-row tiles
		{165, 4, 14, 2, true},  // dcol of group2 with 14-row tiles
		{100, 3, 14, 2, false}, // 2 of 3 column panels on one thread
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("mp=%d,np=%d,mr=%d,threads=%d", tt.mp, tt.np, tt.mr, tt.threads), func(t *testing.T) {
			if got := splitByN(tt.mp, tt.np, tt.mr, tt.threads); got != tt.want {
				t.Errorf("splitByN = %v, want %v", got, tt.want)
			}
		})
	}
}
