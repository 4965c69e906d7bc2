package gpu

import "math"

// Space names the device buffer an argument points into.
type Space uint8

// The buffers of a network on a device.
const (
	Params   Space = iota // trainable tensors (model.State.Params)
	Grads                 // their gradients
	Momentum              // SGD's momentum buffers, laid out as Params
	Stats                 // running statistics
	Arena                 // activations, gradients and workspace of the memory plan
	Input                 // the images of a call
	Labels                // the labels of a training step, int32
	Loss                  // the loss of every image of a training step, then its correct flags
	LossOut               // their sum and the count of correct images: what the host reads back
	Images                // not a pointer: the image count n of the call
	DropSeed              // not a pointer: nn.DropSeed(seed, step, Off) of the call
	Const                 // not a pointer: Off itself
	Float                 // not a pointer: the float32 bits of FloatValue
	LR                    // not a pointer: the float32 bits of the step's learning rate
	Mom                   // not a pointer: the float32 bits of its momentum
	Damp                  // not a pointer: the float32 bits of 1 - its dampening
	WD                    // not a pointer: the float32 bits of its weight decay
	Nesterov              // not a pointer: 1 for Nesterov momentum
	First                 // not a pointer: 1 on the step that starts the momentum buffers
)

// numBuffers is the number of Spaces that are device buffers.
const numBuffers = int(LossOut) + 1

// Arg is one kernel argument: a pointer Off float32s into a Space, or a value.
type Arg struct {
	Space Space
	Off   int64
	Value float32 // Float
}

// Launch is one kernel launch of a phase.
type Launch struct {
	Kernel   string
	Grid     [3]int // for one image when PerImage (z is multiplied by n)
	PerImage bool
	Block    [3]int
	Args     []Arg
}

// Program is a network's GPU code, as codegen writes it.
type Program struct {
	PTX                         string
	TrainForward, TrainBackward []Launch
	// TrainStep is the whole training step: forward, loss, backward, SGD update.
	TrainStep     []Launch
	Infer, Infer1 []Launch
	// Fold folds the BNs of inference into the weights (into the arena's shared region):
	// run before inference whenever the weights or running statistics changed.
	Fold []Launch
	// Arena offsets of the logits of each plan, and of the training plan's d loss / d
	// logits, in float32s.
	TrainLogits, InferLogits, Infer1Logits, TrainDLogits int64
}

func floatBits(f float32) uint64 { return uint64(math.Float32bits(f)) }
