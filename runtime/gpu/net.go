package gpu

import (
	"fmt"
	"math"

	"github.com/wrnc/wrnc/runtime/model"
	"github.com/wrnc/wrnc/runtime/nn"
)

// Net runs a network's Program on a Device and implements model.Net. The device owns the
// State's tensors (weights, gradients, momentum buffers, running statistics) from their
// first upload: a training step copies in only the images and the labels and copies out
// only the loss and correct flags of its images; the host's copies are brought up to date
// by Sync (for a checkpoint), and Loaded sends the host's tensors again after it changed
// them. All device memory is one allocation: parameters, gradients, momentum, statistics,
// the arena of the largest plan, the input, the labels and the per-image losses.
type Net struct {
	dev    Device
	spec   *model.Spec
	prog   *Program
	base   [numBuffers]uint64
	logits []float32
	loss   []float32 // the summed loss and the correct count (as uint32 bits) of a step
	labels []float32 // the labels as int32 bits
	err    error

	uploaded bool   // the device holds the State's tensors
	newer    bool   // the device's tensors have changed since the host's were copied
	folded   uint64 // State.Step+1 when Program.Fold last ran on the current tensors, 0 for stale
	count    model.Counters
}

// NewNet loads prog's PTX on dev and lays out the device memory of spec.
func NewNet(dev Device, spec *model.Spec, prog *Program) (*Net, error) {
	if err := model.CheckPlan(spec); err != nil {
		return nil, err
	}
	if err := dev.Load(prog.PTX); err != nil {
		return nil, err
	}
	in := spec.Input[0] * spec.Input[1] * spec.Input[2]
	var sizes [numBuffers]int
	sizes[Params], sizes[Grads], sizes[Momentum], sizes[Stats] = spec.ParamsSize, spec.ParamsSize, spec.ParamsSize, spec.StatsSize
	sizes[Arena] = max(spec.TrainArena, spec.InferArena, spec.Infer1Arena)
	sizes[Input], sizes[Labels], sizes[Loss], sizes[LossOut] = spec.Batch*in, spec.Batch, 2*spec.Batch, 2
	total := 0
	var offs [numBuffers]int
	for i, s := range sizes {
		offs[i] = total
		total += (s*4 + 255) &^ 255
	}
	addr, err := dev.Alloc(total)
	if err != nil {
		return nil, fmt.Errorf("%s: allocating %d MiB of device memory: %w", dev.Name(), total>>20, err)
	}
	g := &Net{dev: dev, spec: spec, prog: prog, logits: make([]float32, spec.Batch*spec.Classes),
		loss: make([]float32, 2), labels: make([]float32, spec.Batch)}
	for i := range offs {
		g.base[i] = addr + uint64(offs[i])
	}
	return g, nil
}

// Spec implements model.Net.
func (g *Net) Spec() *model.Spec { return g.spec }

// Err is the first error of a device computation; after one, calls do nothing.
func (g *Net) Err() error { return g.err }

// Counters implements model.Counted: every copy back to the host waits for the device,
// and is its only synchronization.
func (g *Net) Counters() model.Counters { return g.count }

// Loaded implements model.Net: the host's tensors go to the device before the next call.
func (g *Net) Loaded(*model.State) error {
	g.uploaded = false
	return g.err
}

// Sync implements model.Net: the device's tensors are copied back when they changed.
func (g *Net) Sync(s *model.State) error {
	if g.uploaded && g.newer {
		g.read(Params, 0, s.Params)
		g.read(Grads, 0, s.Grads)
		g.read(Momentum, 0, s.Momentum)
		g.read(Stats, 0, s.Stats)
		g.newer = g.err != nil
	}
	return g.err
}

// upload copies the State's tensors to the device unless it holds them already.
func (g *Net) upload(s *model.State) {
	if !g.uploaded {
		g.write(Params, 0, s.Params)
		g.write(Stats, 0, s.Stats)
		g.write(Momentum, 0, s.Momentum)
		g.uploaded, g.newer, g.folded = g.err == nil, false, 0
	}
}

// fold runs the BN folds of inference unless they were made from the current weights and
// statistics.
func (g *Net) fold(s *model.State) {
	if g.folded != s.Step+1 {
		g.run(call{s: s}, g.prog.Fold)
		g.folded = s.Step + 1
	}
}

func (g *Net) write(sp Space, off int64, v []float32) {
	if g.err == nil && len(v) > 0 {
		g.err = g.dev.Write(g.base[sp]+uint64(off)*4, v)
		g.count.H2DBytes += 4 * int64(len(v))
	}
}

func (g *Net) read(sp Space, off int64, v []float32) {
	if g.err == nil && len(v) > 0 {
		g.err = g.dev.Read(g.base[sp]+uint64(off)*4, v)
		g.count.D2HBytes += 4 * int64(len(v))
		g.count.Syncs++
	}
}

// call holds the run-time arguments of a launch list.
type call struct {
	n     int
	s     *model.State
	h     model.Hyper
	first bool
}

func flagArg(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// run launches a list.
func (g *Net) run(c call, list []Launch) {
	args := make([]uint64, 0, 16)
	for _, l := range list {
		if g.err != nil {
			return
		}
		args = args[:0]
		for _, a := range l.Args {
			switch a.Space {
			case Images:
				args = append(args, uint64(c.n))
			case DropSeed:
				args = append(args, nn.DropSeed(c.s.Seed, c.s.Step, int(a.Off)))
			case Const:
				args = append(args, uint64(a.Off))
			case Float:
				args = append(args, floatBits(a.Value))
			case LR:
				args = append(args, floatBits(float32(c.h.LR)))
			case Mom:
				args = append(args, floatBits(float32(c.h.Momentum)))
			case Damp:
				args = append(args, floatBits(float32(1-c.h.Dampening))) // rounded as nn.SGDStep rounds it
			case WD:
				args = append(args, floatBits(float32(c.h.WeightDecay)))
			case Nesterov:
				args = append(args, flagArg(c.h.Nesterov))
			case First:
				args = append(args, flagArg(c.first))
			default:
				args = append(args, g.base[a.Space]+uint64(a.Off)*4)
			}
		}
		grid := l.Grid
		if l.PerImage {
			grid[2] *= c.n
		}
		g.count.Launches++
		if err := g.dev.Launch(l.Kernel, grid, l.Block, args); err != nil {
			g.err = fmt.Errorf("%s: kernel %s: %w", g.dev.Name(), l.Kernel, err)
		}
	}
}

// check validates the arguments of a call.
func (g *Net) check(n int, x []float32) error {
	if g.err != nil {
		return g.err
	}
	return model.CheckCall(g.spec, n, x)
}

func (g *Net) out(n int, off int64) ([]float32, error) {
	y := g.logits[:n*g.spec.Classes]
	g.read(Arena, off, y)
	return y, g.err
}

// TrainStep implements model.Net: the whole step runs on the device, the SGD update with
// h's hyperparameters as kernel arguments.
func (g *Net) TrainStep(s *model.State, n int, x []float32, labels []int32, h model.Hyper) (model.StepResult, error) {
	if err := g.check(n, x); err != nil {
		return model.StepResult{}, err
	}
	if h.Momentum != 0 && len(s.Momentum) != len(s.Params) {
		return model.StepResult{}, fmt.Errorf("%s: momentum buffers of %d floats for %d parameters", g.spec.Name, len(s.Momentum), len(s.Params))
	}
	if len(labels) < n {
		return model.StepResult{}, fmt.Errorf("%s: %d labels for %d images", g.spec.Name, len(labels), n)
	}
	if s.ReduceGrads != nil {
		return model.StepResult{}, fmt.Errorf("%s: data-parallel training (gradients reduced between the backward pass and the update) runs on the CPU only; the GPU's training step is one fused program", g.spec.Name)
	}
	for i, y := range labels[:n] {
		if y < 0 || int(y) >= g.spec.Classes {
			return model.StepResult{}, fmt.Errorf("label %d of image %d outside [0, %d)", y, i, g.spec.Classes)
		}
		g.labels[i] = math.Float32frombits(uint32(y))
	}
	g.upload(s)
	g.write(Input, 0, x[:n*g.imageSize()])
	g.write(Labels, 0, g.labels[:n])
	g.run(call{n: n, s: s, h: h, first: !s.Started}, g.prog.TrainStep)
	g.newer = true
	// One copy back: the summed loss and the count of correct images (two words).
	g.read(LossOut, 0, g.loss[:2])
	if g.err != nil {
		return model.StepResult{}, g.err
	}
	res := model.StepResult{Loss: float64(g.loss[0]) / float64(n), Correct: int(math.Float32bits(g.loss[1]))}
	s.Started = true
	s.Step++
	return res, nil
}

func (g *Net) imageSize() int { return g.spec.Input[0] * g.spec.Input[1] * g.spec.Input[2] }

// TrainForward implements model.Net.
func (g *Net) TrainForward(s *model.State, n int, x []float32) ([]float32, error) {
	if err := g.check(n, x); err != nil {
		return nil, err
	}
	g.upload(s)
	g.write(Input, 0, x[:n*g.imageSize()])
	g.run(call{n: n, s: s}, g.prog.TrainForward)
	g.newer, g.folded = true, 0 // the running statistics
	return g.out(n, g.prog.TrainLogits)
}

// TrainBackward implements model.Net.
func (g *Net) TrainBackward(s *model.State, n int, dlogits []float32) error {
	if err := g.check(n, nil); err != nil {
		return err
	}
	if k := g.spec.Classes; len(dlogits) < n*k {
		return fmt.Errorf("%s: %d gradients of the logits for %d images of %d classes", g.spec.Name, len(dlogits), n, k)
	}
	g.write(Arena, g.prog.TrainDLogits, dlogits[:n*g.spec.Classes])
	g.run(call{n: n, s: s}, g.prog.TrainBackward)
	g.newer = true
	return g.err
}

// Infer implements model.Net.
func (g *Net) Infer(s *model.State, n int, x []float32) ([]float32, error) {
	if err := g.check(n, x); err != nil {
		return nil, err
	}
	g.upload(s)
	g.write(Input, 0, x[:n*g.imageSize()])
	g.fold(s)
	g.run(call{n: n, s: s}, g.prog.Infer)
	return g.out(n, g.prog.InferLogits)
}

// Infer1 implements model.Net.
func (g *Net) Infer1(s *model.State, x []float32) ([]float32, error) {
	if err := g.check(1, x); err != nil {
		return nil, err
	}
	g.upload(s)
	g.write(Input, 0, x[:g.imageSize()])
	g.fold(s)
	g.run(call{n: 1, s: s}, g.prog.Infer1)
	return g.out(1, g.prog.Infer1Logits)
}
