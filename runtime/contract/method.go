package contract

import "fmt"

// Pass is one computation of a convolution in a phase.
type Pass string

// The passes of a convolution.
const (
	Forward Pass = "forward" // y = conv(pre(x), w) (+ res)
	Dgrad   Pass = "dgrad"   // the gradient w.r.t. the loaded input pre(x)
	Wgrad   Pass = "wgrad"   // the gradient w.r.t. the weights
)

// Method is how one pass of a convolution (or another step) is computed.
type Method string

// The methods of the CPU and of the GPU.
const (
	// Winograd is F(m x m, 3 x 3) for 3x3 stride-1 pad-1 convolutions, Tile = m (2 or 4):
	// tiles transformed, T = (m+2)^2 GEMMs over channels, transformed back.
	Winograd Method = "winograd"
	// Im2row is one GEMM per chunk of output pixels on a channel-blocked (c8) copy of the
	// input: strided and other non-Winograd convolutions with at least 8 input channels.
	Im2row Method = "im2row"
	// Im2col is im2col of the NCHW planes and one GEMM per image: few input channels.
	Im2col Method = "im2col"
	// Pointwise is a 1x1 stride-1 unpadded convolution: one GEMM per image on the input
	// planes (through the BN-ReLU when there is one), no column matrix.
	Pointwise Method = "pointwise"

	// GemmFMA and GemmMMA are the GPU's implicit-GEMM convolution kernels: FMA on fp32, or
	// the tensor cores' mma.sync (tf32 or bf16).
	GemmFMA Method = "implicit-gemm-fma"
	GemmMMA Method = "implicit-gemm-mma"

	// The other steps.
	BNBatchStats Method = "bn-batch-stats" // training BN: batch statistics, running averages
	BNRunning    Method = "bn-running"     // inference BN: scale and shift from running statistics
	BNFold       Method = "bn-fold"        // inference BN folded into the conv before it: scaled weights, a bias
	BNReLUBack   Method = "bnrelu-backward"
	BNBack       Method = "bn-backward"      // BN backward without a ReLU (post-activation blocks)
	MaxPool      Method = "max-pool"         // max pool through a BN-ReLU, forward or backward
	AddReLU      Method = "bn-add-relu"      // ReLU(BN(x) + shortcut), forward or backward
	HeadDirect   Method = "pool-fc"          // BN-ReLU, global average pool and the FC layer
	SoftmaxCE    Method = "softmax-ce"       // the loss and d loss / d logits
	SGD          Method = "sgd"              // torch.optim.SGD over every trainable tensor
	WeightsWino  Method = "winograd-weights" // U = G g G^T of the updated weights
	WeightsRow   Method = "im2row-weights"   // the weights packed as the im2row GEMM's operand
)

// Selection is the method of one pass of one step and its parameters, as the selection
// pass records it and `inspect --json` prints it.
type Selection struct {
	Method Method `json:"method"`
	// Winograd: the output tile m (2 or 4).
	Tile int `json:"tile,omitempty"`
	// GPU GEMM tiles: the block tile BM x BN x BK and the threads of a block, and the grid
	// (its z multiplied by the images of a call).
	BM      int `json:"bm,omitempty"`
	BN      int `json:"bn,omitempty"`
	BK      int `json:"bk,omitempty"`
	Threads int `json:"threads,omitempty"`
	// GemmFMA: each thread's TM x TN sub-tile; GemmMMA: WM x WN warps, each a
	// (BM/WM) x (BN/WN) tile of mma fragments.
	TM int `json:"tm,omitempty"`
	TN int `json:"tn,omitempty"`
	WM int `json:"wm,omitempty"`
	WN int `json:"wn,omitempty"`
	// Grid is the launch grid; its z is multiplied by the images of a call when PerImage.
	Grid     [3]int `json:"grid,omitzero"`
	PerImage bool   `json:"per_image,omitempty"`
}

// String is the selection in a few words, as `inspect` prints it.
func (s Selection) String() string {
	switch {
	case s.Method == Winograd:
		return fmt.Sprintf("winograd F(%dx%d,3x3)", s.Tile, s.Tile)
	case s.Method == WeightsWino:
		return fmt.Sprintf("winograd F(%dx%d,3x3) weight transform", s.Tile, s.Tile)
	case s.BM > 0:
		return fmt.Sprintf("%s %dx%dx%d/%d", s.Method, s.BM, s.BN, s.BK, s.Threads)
	}
	return string(s.Method)
}

func round8(n int) int  { return (n + 7) &^ 7 }
func round16(n int) int { return (n + 15) &^ 15 }

// WinogradWeightsLen is the floats of the transformed weights of the Winograd convolution
// of c with tile m: (m+2)^2 x round8(in) x round16(out), with in and out the input and
// output channels of the pass (C and K forward; K and C for the input gradient).
func WinogradWeightsLen(c *Conv, m int, dgrad bool) int {
	in, out := c.C, c.K
	if dgrad {
		in, out = c.K, c.C
	}
	return (m + 2) * (m + 2) * round8(in) * round16(out)
}

// RowDepth is the depth of the im2row matrix of c: R*R*round8(C).
func RowDepth(c *Conv) int { return c.R * c.R * round8(c.C) }

// RowWeightsLen is the floats of the im2row path's packed forward weights (round16(K) x
// depth) and, for the input gradient, of its transposed weights (K x depth rounded up to 16).
func RowWeightsLen(c *Conv, dgrad bool) int {
	if dgrad {
		return c.K * round16(RowDepth(c))
	}
	return round16(c.K) * RowDepth(c)
}
