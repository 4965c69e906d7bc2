package pass

import (
	"github.com/wrnc/wrnc/compiler/ir"
	"github.com/wrnc/wrnc/runtime/contract"
)

// The rules of the selection pass: for one pass of one convolution at the batch of a
// phase, the first rule whose condition holds gives the method. They are data, in this
// one table, each with a unit test (rules_test.go). The conditions read only the shape,
// the pass and the batch, so a network always computes with the same methods.

// convQuery is what a rule looks at.
type convQuery struct {
	c         contract.Conv
	pass      contract.Pass
	batch     int    // the images of one call of the phase
	precision string // fp32, tf32 or bf16 (the GPU's math)
}

// in and out are the input and output channels of the pass: the input gradient runs the
// convolution backwards, from K channels to C.
func (q convQuery) in() int {
	if q.pass == contract.Dgrad {
		return q.c.K
	}
	return q.c.C
}

func (q convQuery) out() int {
	if q.pass == contract.Dgrad {
		return q.c.C
	}
	return q.c.K
}

// tiles is the output tiles of m x m of one call.
func (q convQuery) tiles(m int) int {
	return q.batch * ((q.c.OH + m - 1) / m) * ((q.c.OW + m - 1) / m)
}

// winogradFits reports a 3x3 stride-1 pad-1 convolution wide enough to fill Winograd's
// channel GEMMs (16 channels in and out) with outputs of at least one 4x4 tile.
func winogradFits(q convQuery) bool {
	return q.c.Winograd3() && q.in() >= 16 && q.out() >= 16 && q.c.OH >= 4 && q.c.OW >= 4
}

// convRule is one row of the table: when When holds, the method is Sel, with its
// parameters filled in by Tile when the rule has one.
type convRule struct {
	Name string
	Why  string
	When func(q convQuery) bool
	Sel  contract.Selection
	Tile func(q convQuery, sel contract.Selection) contract.Selection
}

// winogradFewTiles is the tile count under which F(2x2) beats F(4x4).
const winogradFewTiles = 12

// rowMinChannels is the fewest input channels im2row takes: fewer would leave most of
// each 8-channel vector of its channel-blocked input as padding.
const rowMinChannels = contract.RowMinChannels

// cpuConvRules chooses the CPU method of every convolution pass.
var cpuConvRules = []convRule{
	{
		Name: "winograd-f2-few-tiles",
		Why: "F(4x4) needs a fourth of the direct method's multiplies and F(2x2) four ninths, but F(4x4)'s " +
			"transformed weights are four times the weights: with few tiles its GEMMs have too few rows to pay for streaming them",
		When: func(q convQuery) bool { return winogradFits(q) && q.tiles(4) < winogradFewTiles },
		Sel:  contract.Selection{Method: contract.Winograd, Tile: 2},
	},
	{
		Name: "winograd-f4",
		Why:  "3x3 stride-1 convolutions with enough tiles: 36 multiplies per 16 outputs instead of 144",
		When: winogradFits,
		Sel:  contract.Selection{Method: contract.Winograd, Tile: 4},
	},
	{
		Name: "im2row",
		Why:  "strided and other non-Winograd convolutions with at least 8 input channels: one GEMM per chunk of pixels on channel-blocked input",
		When: func(q convQuery) bool { return q.c.C >= rowMinChannels && !q.c.Pointwise() },
		Sel:  contract.Selection{Method: contract.Im2row},
	},
	{
		Name: "pointwise",
		Why: "1x1 stride-1 unpadded convolutions: the input planes are already the column matrix, packed through the BN-ReLU " +
			"as the GEMM consumes them; at 56x56 this beats im2row's channel-blocked GEMM in the forward pass by 20-35% at batch 1 " +
			"and by 25% (256 to 128 channels) or loses 4% (128 to 256) at batch 16 (WRN-50-2's first stage, BenchmarkConvForwardWRN50, " +
			"2 threads on an AVX-512 Xeon), and wins at 28x28 and below and in the backward passes",
		When: func(q convQuery) bool { return q.c.Pointwise() },
		Sel:  contract.Selection{Method: contract.Pointwise},
	},
	{
		Name: "im2col",
		Why:  "the rest (few input channels, such as the first convolution on the image): im2col and one GEMM per image",
		When: func(convQuery) bool { return true },
		Sel:  contract.Selection{Method: contract.Im2col},
	},
}

// gpuConvRules chooses the GPU kernel of every convolution pass: an implicit GEMM whose
// block tile fits the GEMM's M x N (64x64 where the matrix is large, smaller powers of two
// down to the fragment size where it is not).
var gpuConvRules = []convRule{
	{
		Name: "mma",
		Why:  "tf32 and bf16 run on the tensor cores: warps of 32x32 in 64-wide tiles, 16x16 in smaller ones, so that small tiles still have several warps to share their loads",
		When: func(q convQuery) bool { return q.precision == "tf32" || q.precision == "bf16" },
		Sel:  contract.Selection{Method: contract.GemmMMA, BK: 16},
		Tile: func(q convQuery, s contract.Selection) contract.Selection {
			m, n, _, _ := gpuGemm(q.c, q.pass)
			s.BM, s.BN = fit(m, 16, 64), fit(n, 8, 64)
			wm, wn := min(s.BM, 16), min(s.BN, 16)
			if s.BM == 64 {
				wm = 32
			}
			if s.BN == 64 {
				wn = 32
			}
			s.WM, s.WN = s.BM/wm, s.BN/wn
			s.Threads = 32 * s.WM * s.WN
			return withGrid(q, s)
		},
	},
	{
		Name: "fma",
		Why:  "fp32 runs on FMA: 4x4 outputs per thread, fewer where that would leave a block under 128 threads",
		When: func(convQuery) bool { return true },
		Sel:  contract.Selection{Method: contract.GemmFMA, BK: 8, TM: 4, TN: 4},
		Tile: func(q convQuery, s contract.Selection) contract.Selection {
			m, n, _, _ := gpuGemm(q.c, q.pass)
			s.BM, s.BN = fit(m, 16, 64), fit(n, 16, 64)
			for s.BM/s.TM*(s.BN/s.TN) < 128 && (s.TM > 1 || s.TN > 1) {
				if s.TM >= s.TN {
					s.TM /= 2
				} else {
					s.TN /= 2
				}
			}
			s.Threads = s.BM / s.TM * (s.BN / s.TN)
			return withGrid(q, s)
		},
	},
}

// gpuGemm is the GEMM of one pass of a convolution on the GPU: M x N, reducing over K; with
// images the reduction also runs over the images of the call (the weight gradient),
// otherwise each image is a GEMM of its own.
func gpuGemm(c contract.Conv, pass contract.Pass) (m, n, k int, images bool) {
	switch pass {
	case contract.Dgrad:
		return c.C, c.H * c.W, c.K * c.R * c.R, false
	case contract.Wgrad:
		return c.K, c.C * c.R * c.R, c.OH * c.OW, true
	}
	return c.K, c.OH * c.OW, c.C * c.R * c.R, false
}

// withGrid sets the launch grid of a GEMM tiling: one block per tile, and per image unless
// the reduction runs over the images.
func withGrid(q convQuery, s contract.Selection) contract.Selection {
	m, n, _, images := gpuGemm(q.c, q.pass)
	s.Grid = [3]int{(n + s.BN - 1) / s.BN, (m + s.BM - 1) / s.BM, 1}
	s.PerImage = !images
	return s
}

// fit is the power of two from lo that first reaches x, at most hi.
func fit(x, lo, hi int) int {
	v := lo
	for v < x && v < hi {
		v *= 2
	}
	return v
}

// selectConv returns the method of one pass and the rule that chose it.
func selectConv(rules []convRule, q convQuery) (contract.Selection, string) {
	for _, r := range rules {
		if r.When(q) {
			if r.Tile != nil {
				return r.Tile(q, r.Sel), r.Name
			}
			return r.Sel, r.Name
		}
	}
	return contract.Selection{}, ""
}

// GPUConv is the GPU kernel the selection pass chooses for one pass of convolution c in
// precision (fp32, tf32 or bf16), for code generators and their tests.
func GPUConv(c contract.Conv, pass contract.Pass, precision string) contract.Selection {
	sel, _ := selectConv(gpuConvRules, convQuery{c: c, pass: pass, precision: precision})
	return sel
}

// stepMethods are the methods of the steps that have one way of being computed.
var stepMethods = map[ir.StepKind]contract.Method{
	ir.SBNTrain:   contract.BNBatchStats,
	ir.SBNInfer:   contract.BNRunning,
	ir.SFold:      contract.BNFold,
	ir.SBNReLUBwd: contract.BNReLUBack,
	ir.SHeadFwd:   contract.HeadDirect,
	ir.SHeadBwd:   contract.HeadDirect,
	ir.SLoss:      contract.SoftmaxCE,
	ir.SSGD:       contract.SGD,
	ir.SBNBwd:     contract.BNBack,
	ir.SPoolFwd:   contract.MaxPool,
	ir.SPoolBwd:   contract.MaxPool,
	ir.SAddFwd:    contract.AddReLU,
	ir.SAddBwd:    contract.AddReLU,
}
