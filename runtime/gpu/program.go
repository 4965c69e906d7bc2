package gpu

import "math"

// Space names the device buffer an argument points into.
type Space uint8

// The buffers of a network on a device.
const (
	Params   Space = iota // trainable tensors (model.State.Params)
	Grads                 // their gradients
	Stats                 // running statistics
	Arena                 // activations, gradients and workspace of the memory plan
	Input                 // the images of a call
	DLogits               // d loss / d logits of a training step
	Images                // not a pointer: the image count n of the call
	DropSeed              // not a pointer: nn.DropSeed(seed, step, Off) of the call
	Const                 // not a pointer: Off itself
	Float                 // not a pointer: the float32 bits of FloatValue
)

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
	Infer, Infer1               []Launch
	// Arena offsets of the logits of each plan, in float32s.
	TrainLogits, InferLogits, Infer1Logits int64
}

func floatBits(f float32) uint64 { return uint64(math.Float32bits(f)) }
