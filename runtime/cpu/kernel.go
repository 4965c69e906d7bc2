package cpu

import (
	"os"
	"unsafe"
)

// Micro-tile geometry, shared with asmgen: a kernel reads up to mr rows of A in
// place (mrAVX512 for the AVX-512 family; a kernelSet carries its own) and a
// packed B micro-panel of nr columns, k-major (nr floats per k, zero columns past
// N). maxMR bounds the rows of every family (edge buffers, kernel tables).
const (
	mr       = 6
	mrAVX512 = 16
	mcAVX512 = 128 // a multiple of mrAVX512
	maxMR    = mrAVX512
	nr       = 16
)

// kernelFunc computes C[0:rows, 0:nr] = A*B (+ C when acc) for rows rows of
// A read in place and one packed B micro-panel b, of depth k >= 1; rows is
// fixed by the function (see kernelSet); lda and ldc are in elements.
type kernelFunc func(k int, a *float32, lda int, b, c *float32, ldc int, acc bool)

// wideFunc computes C[0:rows, 0:2*nr] = A*B (+ C when acc) for rows rows of a row-major
// A read in place and two packed B micro-panels, b and b + pstride floats, of depth
// k >= 1: the same bits as kernelFunc on each panel, with each A element loaded once for
// both.
type wideFunc func(k int, a *float32, lda int, b *float32, pstride int, c *float32, ldc int, acc bool)

// maxWideMR bounds the rows of the two-panel kernels (mrWide in asmgen).
const maxWideMR = 12

// packBTransFunc packs panels full nr-column groups of op(B) = B^T (B
// stored N x K, leading dimension ldb) over the first k8 of k depths (k8 a
// multiple of 8, >= 8) into micro-panels, panel p at dst + p*k*nr.
type packBTransFunc func(dst, src *float32, ldb, k, k8, panels int)

// packBFunc packs k rows of panels full nr-column groups of a row-major B
// (leading dimension ldb) into micro-panels, panel p at dst + p*k*nr.
type packBFunc func(dst, src *float32, ldb, k, panels int)

// packBPreFunc is packBFunc with row r packed as max(0, v*scale[r]+shift[r]) (see
// bnReLU).
type packBPreFunc func(dst, src *float32, ldb, k, panels int, scale, shift *float32)

// kernelKind names a family of micro-kernels.
type kernelKind int

const (
	kernelGo     kernelKind = iota // portable Go, every GOARCH
	kernelAVX2                     // AVX2 + FMA assembly, amd64
	kernelAVX512                   // AVX-512F assembly (16x16 tiles), amd64
)

// kernelKinds lists every family, fastest last.
var kernelKinds = []kernelKind{kernelGo, kernelAVX2, kernelAVX512}

func (k kernelKind) String() string {
	switch k {
	case kernelGo:
		return "go"
	case kernelAVX2:
		return "avx2"
	case kernelAVX512:
		return "avx512"
	}
	return "unknown"
}

// kernelSet is one family: the rows of its full tile (mr <= maxMR), the row
// block of the cache blocking (mc, a multiple of mr), kernels per row count
// (rowA[r] and colA[r] compute r rows, 1 <= r <= mr; rowA reads a row-major A,
// element (i, k) at a[i*lda+k], colA a transposed one, at a[k*lda+i]) and the B
// packers.
type kernelSet struct {
	kind   kernelKind
	mr, mc int
	// aliasMR (<= mr) replaces mr for a row-major A whose rows alias in L1
	// (see tileRows).
	aliasMR int
	rowA    [maxMR + 1]kernelFunc
	colA    [maxMR + 1]kernelFunc
	// wideA[r] (1 <= r <= wideMR, nil in families without them) computes r rows of a
	// row-major A by two B panels, 32 columns (see wideFunc); wideAliasMR replaces
	// wideMR as aliasMR replaces mr.
	wideA               [maxWideMR + 1]wideFunc
	wideMR, wideAliasMR int
	// wideT[r] is wideA for a transposed A (element (i, k) at a[k*lda+i]), wideMR rows.
	wideT  [maxWideMR + 1]wideFunc
	packB  packBFunc
	packBT packBTransFunc
	packBP packBPreFunc
}

// tileRows returns the rows per tile for an A of leading dimension lda, read
// row-major unless transA. A tile reads its rows of a row-major A in parallel, one
// cache line of each at a time; when lda is a multiple of 512 floats (2 KiB) those
// lines fall into at most 2 of the 64 sets of the 32 KiB 8-way L1 (Zen 4; 4 KiB
// aliasing elsewhere too), so 16 rows evict each other on every k step: measured
// at half speed (dW of WRN group0, N = OH*OW = 1024; a 1024-square GEMM), while 8
// rows run at full speed. A transposed A reads one line per k step and does not
// alias.
func (s *kernelSet) tileRows(transA bool, lda int) int {
	if !transA && lda%512 == 0 {
		return s.aliasMR
	}
	return s.mr
}

// wideRows is tileRows for the two-panel kernels (row-major A only).
func (s *kernelSet) wideRows(lda int) int {
	if lda%512 == 0 {
		return s.wideAliasMR
	}
	return s.wideMR
}

// goKernels is the portable kernel family.
func goKernels() kernelSet {
	s := kernelSet{kind: kernelGo, mr: mr, mc: mcMax, aliasMR: mr, packB: goPackBRows, packBT: goPackBTrans, packBP: goPackBRowsPre}
	for r := 1; r <= mr; r++ {
		s.rowA[r] = func(k int, a *float32, lda int, b, c *float32, ldc int, acc bool) {
			goTile(r, k, a, lda, 1, b, c, ldc, acc)
		}
		s.colA[r] = func(k int, a *float32, lda int, b, c *float32, ldc int, acc bool) {
			goTile(r, k, a, 1, lda, b, c, ldc, acc)
		}
	}
	return s
}

// goTile is the portable micro-kernel: the same inputs and the same result as
// the assembly, with a 6x16 accumulator array in Go. Element (i, p) of A is
// at a + i*rowStride + p*kStride.
func goTile(rows, k int, a *float32, rowStride, kStride int, b, c *float32, ldc int, acc bool) {
	ap := unsafe.Slice(a, (rows-1)*rowStride+(k-1)*kStride+1)
	bp := unsafe.Slice(b, k*nr)
	var t [mr][nr]float32
	for i := 0; i < rows; i++ {
		ti := &t[i]
		ar := ap[i*rowStride:]
		for p := 0; p < k; p++ {
			bv := (*[nr]float32)(bp[p*nr:])
			ai := ar[p*kStride]
			for j := range ti {
				ti[j] += ai * bv[j]
			}
		}
	}
	cs := unsafe.Slice(c, (rows-1)*ldc+nr)
	for i := 0; i < rows; i++ {
		ci := (*[nr]float32)(cs[i*ldc:])
		if acc {
			for j := range ci {
				ci[j] += t[i][j]
			}
		} else {
			*ci = t[i]
		}
	}
}

// kernelsFor returns the kernel family of the given kind, or false when this
// machine cannot run it.
func kernelsFor(kind kernelKind) (kernelSet, bool) {
	switch kind {
	case kernelGo:
		return goKernels(), true
	case kernelAVX2:
		return avx2Kernels()
	case kernelAVX512:
		return avx512Kernels()
	}
	return kernelSet{}, false
}

// KernelsEnv is the environment variable that caps the kernel family NewGemm and
// NewKernels pick: "go", "avx2" or "avx512" picks the fastest family this machine
// runs that is no faster than the one named (to compare families in benchmarks
// and compiled binaries); unset or anything else picks the fastest. It is read
// once, at start-up.
const KernelsEnv = "WRNC_CPU_KERNELS"

// kernelCap is the fastest family bestKernels may pick, from KernelsEnv.
var kernelCap = capFromEnv(os.Getenv(KernelsEnv))

// capFromEnv returns the family named by name, or the fastest one.
func capFromEnv(name string) kernelKind {
	for _, k := range kernelKinds {
		if k.String() == name {
			return k
		}
	}
	return kernelKinds[len(kernelKinds)-1]
}

// bestKernels returns the fastest kernel family this machine runs, up to kernelCap.
func bestKernels() kernelSet {
	return bestKernelsUpTo(kernelCap)
}

// bestKernelsUpTo returns the fastest kernel family this machine runs that is no
// faster than limit.
func bestKernelsUpTo(limit kernelKind) kernelSet {
	for i := len(kernelKinds) - 1; i > 0; i-- {
		if kernelKinds[i] > limit {
			continue
		}
		if s, ok := kernelsFor(kernelKinds[i]); ok {
			return s
		}
	}
	return goKernels()
}

// goPackBRows is the portable packBFunc.
func goPackBRows(dst, src *float32, ldb, k, panels int) {
	d := unsafe.Slice(dst, panels*k*nr)
	s := unsafe.Slice(src, (k-1)*ldb+panels*nr)
	for r := 0; r < k; r++ {
		row := s[r*ldb : r*ldb+panels*nr]
		for p := 0; p < panels; p++ {
			copy(d[(p*k+r)*nr:(p*k+r+1)*nr], row[p*nr:(p+1)*nr])
		}
	}
}

// goPackBTrans is the portable packBTransFunc.
func goPackBTrans(dst, src *float32, ldb, k, k8, panels int) {
	d := unsafe.Slice(dst, panels*k*nr)
	s := unsafe.Slice(src, (panels*nr-1)*ldb+k8)
	for p := 0; p < panels; p++ {
		for c := 0; c < nr; c++ {
			row := s[(p*nr+c)*ldb : (p*nr+c)*ldb+k8]
			for r, v := range row {
				d[(p*k+r)*nr+c] = v
			}
		}
	}
}

// bnReLU is max(0, v*sc+sh) with the product rounded before the sum (the explicit
// conversion forbids a fused multiply-add), as the assembly packers compute it.
func bnReLU(v, sc, sh float32) float32 { return max(0, float32(v*sc)+sh) }

// goPackBRowsPre is the portable packBPreFunc.
func goPackBRowsPre(dst, src *float32, ldb, k, panels int, scale, shift *float32) {
	d := unsafe.Slice(dst, panels*k*nr)
	s := unsafe.Slice(src, (k-1)*ldb+panels*nr)
	sc, sh := unsafe.Slice(scale, k), unsafe.Slice(shift, k)
	for r := 0; r < k; r++ {
		row := s[r*ldb : r*ldb+panels*nr]
		for p := 0; p < panels; p++ {
			out := d[(p*k+r)*nr : (p*k+r+1)*nr]
			for j, v := range row[p*nr : (p+1)*nr] {
				out[j] = bnReLU(v, sc[r], sh[r])
			}
		}
	}
}
