package nn

// The choice of method per convolution pass: Winograd F(m x m, 3 x 3) for 3x3, stride 1,
// pad 1 convolutions wide enough to fill its GEMMs (wino*.go); im2row on channel-blocked
// input for the others with at least 8 input channels, but 1x1 stride-1 ones
// (direct*.go); im2col and GEMM for the rest (conv.go, convback.go). The choice depends
// only on the shape and the batch, so a network computes the same values every time.

// Values of Ctx.algo.
const (
	algoAuto   = 0  // choose by shape (winoTile)
	algoDirect = -1 // always im2col and GEMM (the reference-bound direct method)
)

// The passes of a convolution.
const (
	dirForward = iota
	dirDgrad   // the input gradient
	dirWgrad   // the weight gradient
)

// winoTile returns the Winograd tile size m to use for pass dir of conv c over n images,
// or 0 for im2col and GEMM.
func (ctx *Ctx) winoTile(c *Conv, n int, dir int) int {
	if c.R != 3 || c.S != 1 || c.P != 1 || ctx.algo == algoDirect {
		return 0
	}
	if ctx.algo > 0 {
		return ctx.algo
	}
	cin, kout := c.C, c.K
	if dir == dirDgrad {
		cin, kout = kout, cin
	}
	if cin < 16 || kout < 16 || c.OH < 4 || c.OW < 4 {
		return 0
	}
	// F(4x4) needs a fourth of the direct method's multiplies, F(2x2) four ninths, but
	// F(4x4)'s transformed weights are four times the weights: with few tiles (a small
	// image at a small batch) its GEMMs have too few rows to pay for streaming them.
	if tiles := n * ((c.OH + 3) / 4) * ((c.OW + 3) / 4); tiles < 12 {
		return 2
	}
	return 4
}

// useRows reports whether conv c, where Winograd does not take it, runs by im2row on
// channel-blocked input rather than im2col: with fewer than 8 input channels most of each
// 8-channel vector would be padding, and a 1x1 stride-1 conv needs no im2col at all.
func (ctx *Ctx) useRows(c *Conv) bool {
	return ctx.algo != algoDirect && c.C >= rowMinC && !c.Pointwise()
}
