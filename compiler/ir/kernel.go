package ir

// KernelKind names a fused unit of work.
type KernelKind string

// Kernel kinds made by the fuse pass.
const (
	// KConv is a convolution that loads its input through a BN-ReLU (and dropout) and
	// stores its output through a residual add.
	KConv KernelKind = "conv"
	// KBN computes the scale and shift of a batch norm: from batch statistics in training,
	// from running statistics in inference. Convolutions and the head apply them on load.
	KBN KernelKind = "bn"
	// KHead is BN-ReLU, global average pooling and the fully connected layer.
	KHead KernelKind = "head"
)

// Kernel is one fused unit: what the fuse pass makes of a run of ops.
type Kernel struct {
	Kind KernelKind
	Name string
	Op   *Op // the conv (KConv), the BN (KBN) or the FC layer (KHead)
	In   int // the value loaded
	Out  int // the value stored: KConv's output (after the residual add), KHead's logits; -1 for KBN

	Pre  *Kernel // KConv, KHead: the KBN whose BN-ReLU is applied on load, or nil
	Drop float64 // KConv: dropout probability applied after the BN-ReLU on load
	Res  int     // KConv: the value added on store, or -1
}
