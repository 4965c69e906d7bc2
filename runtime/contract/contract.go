// Package contract is what the compiler, the code generators and the runtime share: the
// shape of a convolution, the roles and names of parameters, the training recipe, the
// phases of a compiled network and the methods the selection pass chooses between, with
// the sizes of the buffers each method needs. It is defined once, here; it imports nothing
// of the project, so the compiler can use it without linking a runtime kernel package.
package contract

import "fmt"

// Conv describes one convolution: input C x H x W, K output channels, R x R kernel, stride
// S, padding P, output OH x OW.
type Conv struct{ C, H, W, K, R, S, P, OH, OW int }

// Validate reports whether c is a consistent convolution: positive sizes, P >= 0, a kernel
// no larger than the padded input, and OH, OW equal to (H+2P-R)/S+1, (W+2P-R)/S+1.
func (c *Conv) Validate() error {
	if c.C < 1 || c.H < 1 || c.W < 1 || c.K < 1 || c.R < 1 || c.S < 1 || c.P < 0 {
		return fmt.Errorf("conv %+v: want C, H, W, K, R, S >= 1 and P >= 0", *c)
	}
	if c.H+2*c.P < c.R || c.W+2*c.P < c.R {
		return fmt.Errorf("conv %+v: kernel %dx%d larger than the padded input %dx%d", *c, c.R, c.R, c.H+2*c.P, c.W+2*c.P)
	}
	if oh, ow := (c.H+2*c.P-c.R)/c.S+1, (c.W+2*c.P-c.R)/c.S+1; c.OH != oh || c.OW != ow {
		return fmt.Errorf("conv %+v: output %dx%d, want %dx%d", *c, c.OH, c.OW, oh, ow)
	}
	return nil
}

// MACs returns the multiply-accumulates of the convolution of one image.
func (c *Conv) MACs() int { return c.K * c.C * c.R * c.R * c.OH * c.OW }

// Pointwise reports a 1x1, stride 1, unpadded convolution, whose CHW input already is its
// column matrix.
func (c *Conv) Pointwise() bool { return c.R == 1 && c.S == 1 && c.P == 0 }

// OneByOne reports a 1x1 unpadded convolution of any stride: the CPU's pointwise forward
// pass takes it (a strided one reads every S-th pixel of every S-th row).
func (c *Conv) OneByOne() bool { return c.R == 1 && c.P == 0 }

// Winograd3 reports a 3x3, stride 1, pad 1 convolution, the shape Winograd F(m x m, 3 x 3)
// takes.
func (c *Conv) Winograd3() bool { return c.R == 3 && c.S == 1 && c.P == 1 }

// Pool describes one max pool: C channels of H x W to OH x OW, an R x R window at stride S
// with padding P (padded positions never win).
type Pool struct{ C, H, W, R, S, P, OH, OW int }

// Validate reports whether p is a consistent pool: positive sizes, 0 <= P < R (every window
// holds a real position), and OH, OW equal to (H+2P-R)/S+1, (W+2P-R)/S+1.
func (p *Pool) Validate() error {
	if p.C < 1 || p.H < 1 || p.W < 1 || p.R < 1 || p.S < 1 || p.P < 0 || p.P >= p.R {
		return fmt.Errorf("pool %+v: want C, H, W, R, S >= 1 and 0 <= P < R", *p)
	}
	if p.H+2*p.P < p.R || p.W+2*p.P < p.R {
		return fmt.Errorf("pool %+v: window %dx%d larger than the padded input %dx%d", *p, p.R, p.R, p.H+2*p.P, p.W+2*p.P)
	}
	if oh, ow := (p.H+2*p.P-p.R)/p.S+1, (p.W+2*p.P-p.R)/p.S+1; p.OH != oh || p.OW != ow {
		return fmt.Errorf("pool %+v: output %dx%d, want %dx%d", *p, p.OH, p.OW, oh, ow)
	}
	return nil
}

// WeightLen is the floats of the weights, K*C*R*R.
func (c *Conv) WeightLen() int { return c.K * c.C * c.R * c.R }

// Role says what a parameter is for.
type Role string

// Parameter roles.
const (
	ConvWeight Role = "conv"
	BNWeight   Role = "bn.weight"
	BNBias     Role = "bn.bias"
	BNMean     Role = "bn.running_mean"
	BNVar      Role = "bn.running_var"
	FCWeight   Role = "fc.weight"
	FCBias     Role = "fc.bias"
)

// Trainable reports whether the optimizer updates a tensor of role r (running statistics
// are not trained).
func (r Role) Trainable() bool { return r != BNMean && r != BNVar }

// Recipe is the training recipe of a `train { }` block with its defaults filled in.
type Recipe struct {
	Epochs      int     `json:"epochs"`
	LR          float64 `json:"lr"`
	Momentum    float64 `json:"momentum"`
	Nesterov    bool    `json:"nesterov"`
	WeightDecay float64 `json:"weight_decay"`
	Dampening   float64 `json:"dampening"`
	Gamma       float64 `json:"gamma"`
	Milestones  []int   `json:"milestones"`
	Flip        bool    `json:"flip"`
	Crop        int     `json:"crop"`      // padding of the random crop; 0 for none
	Padding     string  `json:"padding"`   // reflect or zero
	Normalize   string  `json:"normalize"` // meanstd, zca, scale or imagenet
	Seed        int64   `json:"seed"`
	// ResizedCrop is `augment resized_crop`: torchvision's RandomResizedCrop to the input
	// size for training and resize-then-centre-crop for evaluation, on images of any size
	// streamed from an image folder (Crop is then 0).
	ResizedCrop bool `json:"resized_crop,omitempty"`
}

// Phase is one entry point of a compiled network.
type Phase uint8

// The phases. Train is the training forward and backward pass at the compiled batch (the
// loss between them), Infer inference at the compiled batch, Infer1 inference of one image,
// and Step what follows the backward pass of a training step: the SGD update and the
// transforms of the updated weights.
const (
	Train Phase = iota
	Infer
	Infer1
	Step
	NumPhases
)

var phaseNames = [NumPhases]string{Train: "train", Infer: "infer", Infer1: "infer1", Step: "step"}

// String is the phase's name as `inspect --json` and `info --json` write it.
func (p Phase) String() string {
	if p < NumPhases {
		return phaseNames[p]
	}
	return fmt.Sprintf("phase(%d)", uint8(p))
}

// MarshalText writes the phase's name.
func (p Phase) MarshalText() ([]byte, error) {
	if p >= NumPhases {
		return nil, fmt.Errorf("contract: no phase %d", uint8(p))
	}
	return []byte(p.String()), nil
}

// Phases lists every phase in order.
func Phases() []Phase { return []Phase{Train, Infer, Infer1, Step} }
