package ir

import "github.com/wrnc/wrnc/runtime/contract"

// Buffer is a region of a phase's arena: PerImage floats for every image of the phase's
// batch, plus Fixed floats. External buffers are passed in by the caller (the input images,
// the gradient of the loss) and take no arena space.
type Buffer struct {
	Name     string
	PerImage int
	Fixed    int
	External bool
	// Derived buffers hold what a compiled step derives from the weights (transformed or
	// packed weights): they persist from one call to the next, in the region at the start
	// of the arena that every phase shares.
	Derived bool
	Offset  int // in float32s, set by PlanMemory
}

// Size is the floats b takes at batch n.
func (b *Buffer) Size(n int) int { return b.PerImage*n + b.Fixed }

// BNBuffers are the per-channel buffers of one batch norm.
type BNBuffers struct{ Mean, Invstd, Scale, Shift *Buffer }

// StepKind names a call of the runtime's kernels.
type StepKind string

// Steps.
const (
	SBNTrain   StepKind = "bn-train"    // batch statistics of X → BN (mean, invstd, scale, shift); running stats updated
	SBNInfer   StepKind = "bn-infer"    // running statistics → BN scale, shift
	SConvFwd   StepKind = "conv-fwd"    // Y = conv(pre(X)) (+ Res)
	SConvBwd   StepKind = "conv-bwd"    // DY → weight gradient, DZ (gradient w.r.t. pre(X))
	SBNReLUBwd StepKind = "bnrelu-bwd"  // DZ → DX, BN weight and bias gradients
	SHeadFwd   StepKind = "head-fwd"    // Pooled, Y (logits) from pre(X)
	SHeadBwd   StepKind = "head-bwd"    // DY (dlogits) → FC gradients, DZ
	SLoss      StepKind = "loss"        // Y (logits) and the labels → the loss, DY (dlogits)
	SSGD       StepKind = "sgd"         // every trainable tensor updated from its gradient
	SWeights   StepKind = "weights"     // a conv's weights → Derived (transformed or packed)
	SBNBwd     StepKind = "bn-bwd"      // DZ (gradient w.r.t. BN(X), no ReLU) → DX, BN weight and bias gradients
	SPoolFwd   StepKind = "pool-fwd"    // Y = maxpool(pre(X))
	SPoolBwd   StepKind = "pool-bwd"    // DY → DZ (gradient w.r.t. pre(X))
	SAddFwd    StepKind = "addrelu-fwd" // Y = ReLU(BN(X) + Res, through ResPre when set)
	SAddBwd    StepKind = "addrelu-bwd" // DY → DZ = DY where Y > 0 (the gradient of both BN outputs, or of the identity shortcut)
	// SFold folds a BN's running statistics into the conv before it (inference): W = the
	// conv's weights times the BN's scale, per output channel; Pre.Scale = 1 and Pre.Shift =
	// the bias that is left (beta - runMean*scale), applied where the conv's output is loaded.
	SFold StepKind = "bn-fold"
)

// Step is one kernel call of a phase, with the buffers it reads and writes.
type Step struct {
	Kind   StepKind
	K      *Kernel
	Layer  int        // the kernel's index in Program.Fused (seeds dropout)
	X      *Buffer    // the stored input
	Y      *Buffer    // the output (conv) or logits (head)
	Res    *Buffer    // conv-fwd: added on store
	Pre    *BNBuffers // the BN-ReLU applied on load (conv, head, pool), the BN computed (bn-*), or addrelu's BN of X
	ResPre *BNBuffers // addrelu-fwd: the BN applied to Res, or nil
	Pooled *Buffer    // head
	DY     *Buffer    // gradient w.r.t. Y
	DZ     *Buffer    // gradient w.r.t. the loaded input pre(X)
	DX     *Buffer    // gradient w.r.t. X (bnrelu-bwd)
	Acc    bool       // conv-bwd: accumulate into DZ; bnrelu-bwd: accumulate into DX
	// Dropout applied after the BN-ReLU on load (training only), and the index in
	// Program.Fused of the BN kernel whose output it drops, which keys its mask.
	Drop     float64
	DropSeed int

	// Set by Select: the method of the step (conv-fwd: the forward pass; conv-bwd: the
	// input gradient; weights: the transform), and of conv-bwd's weight gradient.
	Sel, WSel contract.Selection
	// GPU and GPUW are the GPU kernels of a convolution step: the forward pass or the
	// input gradient, and the weight gradient.
	GPU, GPUW contract.Selection
	// The derived buffer the step reads (conv-fwd, conv-bwd: transformed weights of its
	// method) or writes (weights), or nil.
	Derived *Buffer
	// weights: derive for the input gradient (a Winograd transform of the rotated,
	// transposed kernel; im2row's transposed packing), not the forward pass.
	Dgrad bool
	// W is the derived buffer of a conv's weights with a BN folded in: written by bn-fold,
	// read instead of the parameter by conv-fwd and by the weights step that transforms it.
	W *Buffer
	// Conv is bn-fold's conv, whose weights it folds the BN K into.
	Conv *Kernel
}

// Name is the layer of the step, or its kind for a step of the whole network (sgd).
func (s *Step) Name() string {
	if s.K == nil {
		return string(s.Kind)
	}
	return s.K.Name
}

// Buffers lists the buffers s uses, without duplicates, in a fixed order.
func (s *Step) Buffers() []*Buffer {
	var out []*Buffer
	add := func(bs ...*Buffer) {
		for _, b := range bs {
			if b == nil {
				continue
			}
			dup := false
			for _, o := range out {
				dup = dup || o == b
			}
			if !dup {
				out = append(out, b)
			}
		}
	}
	add(s.X, s.Y, s.Res, s.Pooled, s.DY, s.DZ, s.DX, s.Derived, s.W)
	for _, b := range []*BNBuffers{s.Pre, s.ResPre} {
		if b != nil {
			add(b.Mean, b.Invstd, b.Scale, b.Shift)
		}
	}
	return out
}

// Phase is one entry point of the generated network with its steps and memory plan.
type Phase struct {
	Kind     contract.Phase
	Batch    int // the most images one call takes
	Steps    []*Step
	Backward int     // train: index of the first backward step (the loss step is just before)
	Input    *Buffer // external, but in training (the backward pass reads it again)
	DLogits  *Buffer // train: d loss / d logits, written by the loss step
	Logits   *Buffer
	Buffers  []*Buffer // every arena buffer, in order of first use, derived ones included
	Peak     int       // arena floats at Batch, set by PlanMemory
	// Prepare are the steps that make the derived buffers the phase reads: the BN folds of
	// inference (set by Schedule), then the weights steps (set by Select); run after weights
	// are loaded, and before a call when the weights or statistics have changed since.
	Prepare []*Step
}

// Phase returns the phase of kind k, or nil.
func (p *Program) Phase(k contract.Phase) *Phase {
	for _, ph := range p.Phases {
		if ph.Kind == k {
			return ph
		}
	}
	return nil
}

// Derived lists the derived buffers of every phase, without duplicates, in order of
// first use.
func (p *Program) Derived() []*Buffer {
	var out []*Buffer
	seen := map[*Buffer]bool{}
	for _, ph := range p.Phases {
		for _, st := range append(append([]*Step(nil), ph.Steps...), ph.Prepare...) {
			for _, b := range st.Buffers() {
				if b.Derived && !seen[b] {
					seen[b] = true
					out = append(out, b)
				}
			}
		}
	}
	return out
}

// Conv is the shape of conv kernel k.
func (p *Program) Conv(k *Kernel) contract.Conv {
	in, out := p.Values[k.In].Shape, p.Values[k.Out].Shape
	op := k.Op
	return contract.Conv{C: in[0], H: in[1], W: in[2], K: out[0], R: op.Kernel, S: op.Stride, P: op.Pad, OH: out[1], OW: out[2]}
}

// Pool is the shape of pool kernel k.
func (p *Program) Pool(k *Kernel) contract.Pool {
	in, out := p.Values[k.In].Shape, p.Values[k.Out].Shape
	op := k.Op
	return contract.Pool{C: in[0], H: in[1], W: in[2], R: op.Kernel, S: op.Stride, P: op.Pad, OH: out[1], OW: out[2]}
}
