// Package ir is wrnc's intermediate representation: a network as a list of operations on
// values with static shapes, its named parameters, and the recipe that trains it.
package ir

import "github.com/wrnc/wrnc/runtime/contract"

// Family is the layout family of DSL.md.
type Family string

// The two families.
const (
	Cifar    Family = "cifar"
	ImageNet Family = "imagenet"
)

// Program is one network and its training recipe.
type Program struct {
	Name       string  // canonical name, e.g. "WRN-40-4" or "WRN-22-2-B(3,1,3)"
	Source     string  // the file it came from
	Family     Family  //
	Depth      int     //
	Width      float64 // k
	Kernels    []int   // B(M) for cifar; nil for imagenet
	Bottleneck bool    // imagenet bottleneck blocks
	Input      [3]int  // C, H, W
	Classes    int     //
	Dropout    float64 //
	Batch      int     // the compiled batch
	Precision  string  // fp32, tf32, bf16
	Recipe     Recipe  //
	// Tuned are forward methods measured on a machine (wrnc tune): where one names a
	// convolution and batch of a phase, Select takes it instead of the rules.
	Tuned []contract.TunedConv

	Params []*Param // in definition order (the order of the original code)
	Values []*Value // Values[i].ID == i; Values[0] is the input image
	Ops    []*Op    // in execution order

	// Set by the backend passes: the fused kernels in execution order (Fuse), the steps of
	// every phase (Schedule) and their memory plans (PlanMemory).
	Fused  []*Kernel
	Phases []*Phase
	// Shared is the floats at the start of every phase's arena that hold the derived
	// buffers (set by PlanMemory); the phases' own buffers lie above it.
	Shared int
}

// Recipe is the training recipe of a `train { }` block with its defaults filled in.
type Recipe = contract.Recipe

// Role says what a parameter is for.
type Role = contract.Role

// Parameter roles.
const (
	ConvWeight = contract.ConvWeight
	BNWeight   = contract.BNWeight
	BNBias     = contract.BNBias
	BNMean     = contract.BNMean
	BNVar      = contract.BNVar
	FCWeight   = contract.FCWeight
	FCBias     = contract.FCBias
)

// Param is a named tensor of the network, shaped as PyTorch has it.
type Param struct {
	Name   string
	Shape  []int
	Role   Role
	Offset int // in the flat trainable or statistics buffer, set by PlanMemory
}

// Trainable reports whether the optimizer updates p (running statistics are not trained).
func (p *Param) Trainable() bool { return p.Role.Trainable() }

// Size is the number of elements of p.
func (p *Param) Size() int { return Prod(p.Shape) }

// Value is a tensor computed by the network, per image: [C, H, W] or [F]. The batch
// dimension is implicit.
type Value = contract.Value

// OpKind names an operation.
type OpKind = contract.OpKind

// Operations. Attributes are those of Op.
const (
	OpInput   = contract.OpInput
	OpConv    = contract.OpConv
	OpBN      = contract.OpBN
	OpReLU    = contract.OpReLU
	OpBNReLU  = contract.OpBNReLU
	OpDropout = contract.OpDropout
	OpAdd     = contract.OpAdd
	OpMaxPool = contract.OpMaxPool
	OpAvgPool = contract.OpAvgPool
	OpFC      = contract.OpFC
)

// Op is one operation of the network.
type Op = contract.Op

// Prod is the product of dims (1 for none).
func Prod(dims []int) int {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}
