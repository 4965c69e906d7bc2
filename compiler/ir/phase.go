package ir

// Buffer is a region of a phase's arena: PerImage floats for every image of the phase's
// batch, plus Fixed floats. External buffers are passed in by the caller (the input images,
// the gradient of the loss) and take no arena space.
type Buffer struct {
	Name     string
	PerImage int
	Fixed    int
	External bool
	Offset   int // in float32s, set by PlanMemory
}

// Size is the floats b takes at batch n.
func (b *Buffer) Size(n int) int { return b.PerImage*n + b.Fixed }

// BNBuffers are the per-channel buffers of one batch norm.
type BNBuffers struct{ Mean, Invstd, Scale, Shift *Buffer }

// StepKind names a call of the runtime's kernels.
type StepKind string

// Steps.
const (
	SBNTrain   StepKind = "bn-train"   // batch statistics of X → BN (mean, invstd, scale, shift); running stats updated
	SBNInfer   StepKind = "bn-infer"   // running statistics → BN scale, shift
	SConvFwd   StepKind = "conv-fwd"   // Y = conv(pre(X)) (+ Res)
	SConvBwd   StepKind = "conv-bwd"   // DY → weight gradient, DZ (gradient w.r.t. pre(X))
	SBNReLUBwd StepKind = "bnrelu-bwd" // DZ → DX, BN weight and bias gradients
	SHeadFwd   StepKind = "head-fwd"   // Pooled, Y (logits) from pre(X)
	SHeadBwd   StepKind = "head-bwd"   // DY (dlogits) → FC gradients, DZ
)

// Step is one kernel call of a phase, with the buffers it reads and writes.
type Step struct {
	Kind   StepKind
	K      *Kernel
	Layer  int        // the kernel's index in Program.Fused (seeds dropout)
	X      *Buffer    // the stored input
	Y      *Buffer    // the output (conv) or logits (head)
	Res    *Buffer    // conv-fwd: added on store
	Pre    *BNBuffers // the BN-ReLU applied on load (conv, head), or the BN computed (bn-*)
	Pooled *Buffer    // head
	DY     *Buffer    // gradient w.r.t. Y
	DZ     *Buffer    // gradient w.r.t. the loaded input pre(X)
	DX     *Buffer    // gradient w.r.t. X (bnrelu-bwd)
	Acc    bool       // conv-bwd: accumulate into DZ; bnrelu-bwd: accumulate into DX
	// Dropout applied after the BN-ReLU on load (training only), and the index in
	// Program.Fused of the BN kernel whose output it drops, which keys its mask.
	Drop     float64
	DropSeed int
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
	add(s.X, s.Y, s.Res, s.Pooled, s.DY, s.DZ, s.DX)
	if s.Pre != nil {
		add(s.Pre.Mean, s.Pre.Invstd, s.Pre.Scale, s.Pre.Shift)
	}
	return out
}

// Phase is one entry point of the generated network with its steps and memory plan.
type Phase struct {
	Name     string // train, infer or infer1
	Batch    int    // the most images one call takes
	Steps    []*Step
	Backward int     // train: index of the first backward step
	Input    *Buffer // external
	DLogits  *Buffer // external (train)
	Logits   *Buffer
	Buffers  []*Buffer // every arena buffer, in order of first use
	Peak     int       // arena floats at Batch, set by PlanMemory
}
