// Package model is the contract between a generated network and the runtime: the static
// description of the network (Spec), the buffers one run of it needs (State), and the
// functions the generated code provides (Net).
package model

import (
	"github.com/wrnc/wrnc/runtime/contract"
	"github.com/wrnc/wrnc/runtime/nn"
)

// Role says what a parameter tensor is for (the contract's roles).
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

// Param is one named tensor, shaped as PyTorch has it. Trainable tensors live in
// State.Params (and their gradients at the same offset in State.Grads); running statistics
// live in State.Stats.
type Param struct {
	Name   string
	Shape  []int
	Role   Role
	Offset int // into Params or Stats, in float32s
	FanIn  int // for initialisation: in*kh*kw of a conv, in of the FC layer
}

// Size is the number of elements of p.
func (p *Param) Size() int {
	n := 1
	for _, d := range p.Shape {
		n *= d
	}
	return n
}

// Trainable reports whether p lives in Params (true) or Stats (false).
func (p *Param) Trainable() bool { return p.Role.Trainable() }

// Recipe is the training recipe of the .wrn file, defaults filled in (the contract's).
type Recipe = contract.Recipe

// Spec describes a compiled network.
type Spec struct {
	Name string
	// Family is the layout family of DSL.md, FamilyCifar or FamilyImageNet ("" is
	// cifar): it decides the parameter names, and that checkpoints of the imagenet
	// family carry every batch normalization's num_batches_tracked (TracksBatches).
	Family     string
	Input      [3]int // C, H, W
	Classes    int
	Batch      int // the compiled batch: the most images one call of the batch kernels takes
	Dropout    float64
	Params     []Param // every tensor, in the order of the original code
	ParamsSize int     // floats in State.Params
	StatsSize  int     // floats in State.Stats
	Recipe     Recipe
	Info       string // `info --json`: the fields of `wrnc inspect --json` plus peak_bytes
	MACs       int64  // per image, forward

	// Arena sizes in float32s of the plans: training (forward, backward) at Batch,
	// inference at Batch, inference at batch 1; each includes the Shared floats at the start
	// that hold the derived buffers (transformed weights).
	TrainArena, InferArena, Infer1Arena, Shared int
	// Workspace is the float32s of kernel workspace (im2col columns and the like) that
	// nn.NewCtx must provide for every kernel of this network.
	Workspace int
	// Plan is every buffer of the memory plans and Convs every convolution's shape, which
	// CheckPlan validates once before a network computes.
	Plan  []Extent
	Convs []contract.Conv
	// Graph is the network as the compiler lowered it, before fusion (what export
	// writes), and Values every value it computes, with its per-image shape; Values[0]
	// is the input image.
	Graph  []contract.Op
	Values []contract.Value
}

// State is what one network instance computes with. Params, Grads and Stats are shared
// between plans; Arena is sized for the plan in use.
type State struct {
	Params []float32 // trainable tensors, flat, Param.Offset
	Grads  []float32 // same layout as Params; written (not accumulated) by Backward
	Stats  []float32 // running means and variances
	// Momentum holds SGD's momentum buffers in the layout of Params; Started is false until
	// the first step fills them (torch.optim.SGD's "no momentum_buffer yet"). A checkpoint
	// saves them and a resumed run puts them back.
	Momentum []float32
	Started  bool
	Arena    []float32 // activations, gradients and workspace, laid out by the memory plan

	// Tracked holds, for a network whose checkpoints carry PyTorch's num_batches_tracked
	// (Spec.TracksBatches), each batch normalization's count (in the order of
	// Spec.BatchNorms) as of step TrackedAt: the counts of the checkpoint loaded, 0 for a
	// fresh initialisation (or a nil Tracked). Every training step runs each batch
	// normalization once in training mode, so the count now is BatchesTracked.
	Tracked   []int64
	TrackedAt uint64

	// Ctx holds the thread pool, GEMM packing buffers and kernel workspace (runtime/nn);
	// make it with nn.NewCtx and the workspace size the Spec asks for.
	Ctx *nn.Ctx

	// Dropout draws its mask from a counter-based generator keyed by Seed, Step and the
	// layer, so that Backward sees the same mask as the Forward of the same step. Step is
	// also the version of Params: whoever changes Params between calls (the optimizer)
	// increments it, since kernels and devices keep what they derive from the weights
	// (Winograd transforms, device copies) for as long as Step stays the same. Loading
	// weights before the first call needs no increment.
	Seed, Step uint64

	// ReduceGrads, when set, is called by TrainStep between the backward pass and the SGD
	// update with s.Grads, which it may change in place: data-parallel training averages
	// the gradients of all its processes there. An error stops the step before the update.
	// A Net that cannot call it (a device whose step is one fused program) refuses a
	// State that sets it.
	ReduceGrads func(grads []float32) error

	// GradsReady, when set, is called by the CPU backward pass as soon as a suffix of
	// s.Grads is final: GradsReady(lo) says that Grads[lo:] will not change in this step
	// (the backward pass runs from the last layers, whose tensors come last, to the
	// first; lo only decreases within a step, and the last call of a step has lo 0).
	// Data-parallel training starts the averaging of those gradients there, while the
	// backward pass goes on; ReduceGrads still follows the backward pass. The hook must
	// not change Grads[:lo].
	GradsReady func(lo int)

	// Prepared[ph] is Step+1 as of the last time the derived buffers (transformed weights,
	// BNs folded into weights) that phase ph reads were made, 0 for never or stale.
	Prepared [contract.NumPhases]uint64
}

// Net is one compiled network on one device, what the command line drives. Every call
// takes n, the images in this call: 1 <= n <= Spec.Batch. Inputs are float32 [n, C, H, W],
// already normalized. A device that keeps the tensors of the State (weights, gradients,
// momentum, statistics) in its own memory is their owner between Loaded and Sync.
type Net interface {
	Spec() *Spec
	// Loaded says that the host changed s.Params, s.Stats or the momentum buffers (a fresh
	// initialisation, a checkpoint): what was derived from them is made again before the
	// next call.
	Loaded(s *State) error
	// TrainStep runs one compiled training step: the training-mode forward pass (batch
	// statistics, running statistics updated, dropout), the softmax cross-entropy loss
	// against labels, the backward pass and the SGD update with h, after which s.Step
	// counts one more step.
	TrainStep(s *State, n int, x []float32, labels []int32, h Hyper) (StepResult, error)
	// TrainForward runs the training-mode forward pass of x and returns the logits
	// [n, classes], a view valid until the next call; TrainBackward then takes dlogits
	// (d loss / d logits) and writes the gradient of every trainable tensor into s.Grads
	// (on a device: after Sync). They are the training step without its loss and update,
	// for tests of the gradients.
	TrainForward(s *State, n int, x []float32) ([]float32, error)
	TrainBackward(s *State, n int, dlogits []float32) error
	// Infer runs the inference forward pass (running statistics, no dropout) and returns
	// the logits, a view valid until the next call.
	Infer(s *State, n int, x []float32) ([]float32, error)
	// Infer1 is Infer for one image, with kernels and a plan specialized for batch 1.
	Infer1(s *State, x []float32) ([]float32, error)
	// Sync makes the host's s.Params, s.Grads, s.Stats and momentum buffers current (a
	// device copies back what it changed; the CPU's are always current).
	Sync(s *State) error
}

// Hyper are the SGD hyperparameters of one training step (torch.optim.SGD's), from the
// recipe and the learning rate schedule.
type Hyper struct {
	LR, Momentum, Dampening, WeightDecay float64
	Nesterov                             bool
}

// StepResult is what a training step reports: the mean loss of its images and how many
// of them the network classified correctly (by the logits of the forward pass).
type StepResult struct {
	Loss    float64
	Correct int
}

// Counters are what a device did, cumulative: kernel launches, synchronizations with the
// host, and bytes copied to and from it. A Net on a device reports them through Counted.
type Counters struct {
	Launches, Syncs, H2DBytes, D2HBytes int64
}

// Counted is a Net that counts what its device does (the CPU does not: its counters are 0).
type Counted interface {
	Counters() Counters
}

// GradsDone is called by the generated backward pass when Grads[lo:] is final; it calls
// GradsReady when set.
func (s *State) GradsDone(lo int) {
	if s.GradsReady != nil {
		s.GradsReady(lo)
	}
}
