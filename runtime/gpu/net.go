package gpu

import (
	"fmt"

	"github.com/wrnc/wrnc/runtime/model"
	"github.com/wrnc/wrnc/runtime/nn"
)

// Net runs a network's Program on a Device and implements model.Net: a call copies the
// images (and the State's tensors, when they may have changed) to the device, runs the
// launches of its phase, and copies back what the CPU path would have written into the
// State (logits, gradients, running statistics). All device memory is one allocation:
// parameters, gradients, statistics, the arena of the largest plan, the input and the
// loss gradient.
//
// The tensors are copied on the first call and whenever State.Step has changed since the
// last copy: the optimizer step is the only change to them between calls (the command
// line loads weights before the first call and counts every update in Step).
type Net struct {
	dev    Device
	spec   *model.Spec
	prog   *Program
	base   [DLogits + 1]uint64
	logits []float32
	err    error

	uploaded bool   // the device holds the State's tensors as of step
	step     uint64 //
}

// NewNet loads prog's PTX on dev and lays out the device memory of spec.
func NewNet(dev Device, spec *model.Spec, prog *Program) (*Net, error) {
	if err := dev.Load(prog.PTX); err != nil {
		return nil, err
	}
	in := spec.Input[0] * spec.Input[1] * spec.Input[2]
	sizes := [DLogits + 1]int{
		Params: spec.ParamsSize, Grads: spec.ParamsSize, Stats: spec.StatsSize,
		Arena: max(spec.TrainArena, spec.InferArena, spec.Infer1Arena),
		Input: spec.Batch * in, DLogits: spec.Batch * spec.Classes,
	}
	total := 0
	var offs [DLogits + 1]int
	for i, s := range sizes {
		offs[i] = total
		total += (s*4 + 255) &^ 255
	}
	addr, err := dev.Alloc(total)
	if err != nil {
		return nil, fmt.Errorf("%s: allocating %d MiB of device memory: %w", dev.Name(), total>>20, err)
	}
	g := &Net{dev: dev, spec: spec, prog: prog, logits: make([]float32, spec.Batch*spec.Classes)}
	for i := range offs {
		g.base[i] = addr + uint64(offs[i])
	}
	return g, nil
}

// Spec implements model.Net.
func (g *Net) Spec() *model.Spec { return g.spec }

// Err is the first error of a device computation; after one, calls do nothing.
func (g *Net) Err() error { return g.err }

// upload copies the images, and the tensors of s when they may have changed, to the device.
func (g *Net) upload(s *model.State, x []float32) {
	if !g.uploaded || g.step != s.Step {
		g.write(Params, s.Params)
		g.write(Stats, s.Stats)
		g.uploaded, g.step = true, s.Step
	}
	g.write(Input, x)
}

func (g *Net) write(sp Space, v []float32) {
	if g.err == nil && len(v) > 0 {
		g.err = g.dev.Write(g.base[sp], v)
	}
}

func (g *Net) read(sp Space, off int64, v []float32) {
	if g.err == nil && len(v) > 0 {
		g.err = g.dev.Read(g.base[sp]+uint64(off)*4, v)
	}
}

// run launches a list for n images.
func (g *Net) run(s *model.State, n int, list []Launch) {
	args := make([]uint64, 0, 16)
	for _, l := range list {
		if g.err != nil {
			return
		}
		args = args[:0]
		for _, a := range l.Args {
			switch a.Space {
			case Images:
				args = append(args, uint64(n))
			case DropSeed:
				args = append(args, nn.DropSeed(s.Seed, s.Step, int(a.Off)))
			case Const:
				args = append(args, uint64(a.Off))
			case Float:
				args = append(args, floatBits(a.Value))
			default:
				args = append(args, g.base[a.Space]+uint64(a.Off)*4)
			}
		}
		grid := l.Grid
		if l.PerImage {
			grid[2] *= n
		}
		if err := g.dev.Launch(l.Kernel, grid, l.Block, args); err != nil {
			g.err = fmt.Errorf("%s: kernel %s: %w", g.dev.Name(), l.Kernel, err)
		}
	}
}

func (g *Net) out(n int, off int64) []float32 {
	y := g.logits[:n*g.spec.Classes]
	g.read(Arena, off, y)
	return y
}

// TrainForward implements model.Net.
func (g *Net) TrainForward(s *model.State, n int, x []float32) []float32 {
	g.upload(s, x)
	g.run(s, n, g.prog.TrainForward)
	g.read(Stats, 0, s.Stats)
	return g.out(n, g.prog.TrainLogits)
}

// TrainBackward implements model.Net.
func (g *Net) TrainBackward(s *model.State, n int, dlogits []float32) {
	g.write(DLogits, dlogits[:n*g.spec.Classes])
	g.run(s, n, g.prog.TrainBackward)
	g.read(Grads, 0, s.Grads)
}

// Infer implements model.Net.
func (g *Net) Infer(s *model.State, n int, x []float32) []float32 {
	g.upload(s, x)
	g.run(s, n, g.prog.Infer)
	return g.out(n, g.prog.InferLogits)
}

// Infer1 implements model.Net.
func (g *Net) Infer1(s *model.State, x []float32) []float32 {
	g.upload(s, x)
	g.run(s, 1, g.prog.Infer1)
	return g.out(1, g.prog.Infer1Logits)
}
