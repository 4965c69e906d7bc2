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
	// KPool is a max pool that loads its input through a BN-ReLU (the imagenet stem's).
	KPool KernelKind = "pool"
	// KAddReLU ends a post-activation block: ReLU(BN(In) + shortcut), the shortcut being
	// the stored value Res, through the BN ResPre when the block has a downsample.
	KAddReLU KernelKind = "addrelu"
)

// Kernel is one fused unit: what the fuse pass makes of a run of ops.
type Kernel struct {
	Kind KernelKind
	Name string
	Op   *Op // the conv (KConv), the BN (KBN), the FC layer (KHead), the pool (KPool) or the add (KAddReLU)
	In   int // the value loaded
	Out  int // the value stored: KConv's output (after the residual add), KHead's logits; -1 for KBN

	Pre  *Kernel // KConv, KHead, KPool: the KBN whose BN-ReLU is applied on load, or nil; KAddReLU: the BN (no ReLU) of In
	Drop float64 // KConv: dropout probability applied after the BN-ReLU on load
	Res  int     // KConv: the value added on store, or -1; KAddReLU: the shortcut
	// ResPre is KAddReLU's BN of the shortcut (a downsample's), or nil for the identity.
	ResPre *Kernel
}
