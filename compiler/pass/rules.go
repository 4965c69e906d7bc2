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
	c     contract.Conv
	pass  contract.Pass
	batch int // the images of one call of the phase
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

// convRule is one row of the table.
type convRule struct {
	Name string
	Why  string
	When func(q convQuery) bool
	Sel  contract.Selection
}

// winogradFewTiles is the tile count under which F(2x2) beats F(4x4).
const winogradFewTiles = 12

// rowMinChannels is the fewest input channels im2row takes: fewer would leave most of
// each 8-channel vector of its channel-blocked input as padding.
const rowMinChannels = 8

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
		Why:  "1x1 stride-1 unpadded convolutions: the input planes are already the column matrix",
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

// selectConv returns the method of one pass and the rule that chose it.
func selectConv(rules []convRule, q convQuery) (contract.Selection, string) {
	for _, r := range rules {
		if r.When(q) {
			return r.Sel, r.Name
		}
	}
	return contract.Selection{}, ""
}

// stepMethods are the methods of the steps that have one way of being computed.
var stepMethods = map[ir.StepKind]contract.Method{
	ir.SBNTrain:   contract.BNBatchStats,
	ir.SBNInfer:   contract.BNRunning,
	ir.SBNReLUBwd: contract.BNReLUBack,
	ir.SHeadFwd:   contract.HeadDirect,
	ir.SHeadBwd:   contract.HeadDirect,
	ir.SLoss:      contract.SoftmaxCE,
	ir.SSGD:       contract.SGD,
}
