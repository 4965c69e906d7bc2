package model

import (
	"fmt"

	"github.com/wrnc/wrnc/runtime/contract"
)

// Program is what the generated code of a network provides for the CPU: the straight-line
// kernel calls of each phase, without checks (NewNet validates the plan once and every
// call's arguments).
type Program interface {
	Spec() *Spec
	// Prepare makes the derived buffers that phase ph reads from the weights.
	Prepare(s *State, ph contract.Phase)
	// TrainForward copies x into the training arena, runs the forward pass and returns
	// the logits; Loss computes the loss and d loss / d logits into the arena; DLogits is
	// that buffer, for TrainBackward, which runs the backward pass into s.Grads.
	TrainForward(s *State, n int, x []float32) []float32
	Loss(s *State, n int, labels []int32) (StepResult, error)
	DLogits(s *State, n int) []float32
	TrainBackward(s *State, n int)
	// Update is the step phase: the SGD update with h and the transforms of the updated
	// weights that training reads.
	Update(s *State, h Hyper)
	Infer(s *State, n int, x []float32) []float32
	Infer1(s *State, x []float32) []float32
}

// NewNet returns the Net that runs p on the CPU, after checking p's memory plan.
func NewNet(p Program) (Net, error) {
	if err := CheckPlan(p.Spec()); err != nil {
		return nil, err
	}
	return cpuNet{p}, nil
}

type cpuNet struct{ p Program }

func (c cpuNet) Spec() *Spec { return c.p.Spec() }

// Loaded implements Net: the derived buffers are made again before the next call.
func (c cpuNet) Loaded(s *State) error {
	s.Prepared = [contract.NumPhases]uint64{}
	return nil
}

// Sync implements Net: the CPU computes in the State itself.
func (cpuNet) Sync(*State) error { return nil }

// prepare makes the derived buffers of ph when the weights changed since they were made.
func (c cpuNet) prepare(s *State, ph contract.Phase) {
	if s.Prepared[ph] != s.Step+1 {
		c.p.Prepare(s, ph)
		s.Prepared[ph] = s.Step + 1
	}
}

func (c cpuNet) TrainStep(s *State, n int, x []float32, labels []int32, h Hyper) (StepResult, error) {
	if err := c.check(s, n, x, true); err != nil {
		return StepResult{}, err
	}
	if len(labels) < n {
		return StepResult{}, fmt.Errorf("%s: %d labels for %d images", c.Spec().Name, len(labels), n)
	}
	if h.Momentum != 0 && len(s.Momentum) != len(s.Params) {
		return StepResult{}, fmt.Errorf("%s: momentum buffers of %d floats for %d parameters", c.Spec().Name, len(s.Momentum), len(s.Params))
	}
	c.prepare(s, contract.Train)
	c.p.TrainForward(s, n, x)
	r, err := c.p.Loss(s, n, labels)
	if err != nil {
		return r, err
	}
	c.p.TrainBackward(s, n)
	if err := c.fault(s); err != nil {
		return r, err // before the update: the weights stay as they were
	}
	if s.ReduceGrads != nil {
		if err := s.ReduceGrads(s.Grads); err != nil {
			return r, err
		}
	}
	c.p.Update(s, h)
	s.Started = true
	s.Step++
	s.Prepared[contract.Train] = s.Step + 1 // Update transformed the new weights
	return r, c.fault(s)
}

// fault is the broken precondition a kernel of the last call met, as an error.
func (c cpuNet) fault(s *State) error {
	if err := s.Ctx.Err(); err != nil {
		return fmt.Errorf("%s: a kernel refused its arguments (a bug of the generated plan; please report it): %w", c.Spec().Name, err)
	}
	return nil
}

func (c cpuNet) TrainForward(s *State, n int, x []float32) ([]float32, error) {
	if err := c.check(s, n, x, true); err != nil {
		return nil, err
	}
	c.prepare(s, contract.Train)
	y := c.p.TrainForward(s, n, x)
	s.statsChanged()
	return y, c.fault(s)
}

func (c cpuNet) TrainBackward(s *State, n int, dlogits []float32) error {
	if err := c.check(s, n, nil, true); err != nil {
		return err
	}
	if k := c.Spec().Classes; len(dlogits) < n*k {
		return fmt.Errorf("%s: %d gradients of the logits for %d images of %d classes", c.Spec().Name, len(dlogits), n, k)
	}
	copy(c.p.DLogits(s, n), dlogits)
	c.p.TrainBackward(s, n)
	return c.fault(s)
}

func (c cpuNet) Infer(s *State, n int, x []float32) ([]float32, error) {
	if err := c.check(s, n, x, false); err != nil {
		return nil, err
	}
	c.prepare(s, contract.Infer)
	y := c.p.Infer(s, n, x)
	return y, c.fault(s)
}

func (c cpuNet) Infer1(s *State, x []float32) ([]float32, error) {
	if err := c.check(s, 1, x, false); err != nil {
		return nil, err
	}
	c.prepare(s, contract.Infer1)
	y := c.p.Infer1(s, x)
	return y, c.fault(s)
}

// check validates the arguments of a call: the image count, the input, and a State made
// for the spec (with gradients and a training arena when train).
func (c cpuNet) check(s *State, n int, x []float32, train bool) error {
	sp := c.Spec()
	if err := CheckCall(sp, n, x); err != nil {
		return err
	}
	arena := max(sp.InferArena, sp.Infer1Arena)
	if train {
		arena = max(arena, sp.TrainArena)
	}
	switch {
	case len(s.Params) != sp.ParamsSize || len(s.Stats) != sp.StatsSize:
		return fmt.Errorf("%s: a State of %d parameters and %d statistics, want %d and %d", sp.Name, len(s.Params), len(s.Stats), sp.ParamsSize, sp.StatsSize)
	case train && len(s.Grads) != sp.ParamsSize:
		return fmt.Errorf("%s: a State without gradients cannot train", sp.Name)
	case len(s.Arena) < arena:
		return fmt.Errorf("%s: an arena of %d floats, the plan needs %d", sp.Name, len(s.Arena), arena)
	case s.Ctx == nil:
		return fmt.Errorf("%s: a State without kernel context", sp.Name)
	}
	return nil
}

// CheckCall validates the image count and input of a call of any Net of sp: 1 to
// sp.Batch images, and x (when not nil) holding at least n of them.
func CheckCall(sp *Spec, n int, x []float32) error {
	if n < 1 || n > sp.Batch {
		return fmt.Errorf("%s: a call takes 1 to %d images, got %d", sp.Name, sp.Batch, n)
	}
	if d := sp.Input[0] * sp.Input[1] * sp.Input[2]; x != nil && len(x) < n*d {
		return fmt.Errorf("%s: %d input values for %d images of %d", sp.Name, len(x), n, d)
	}
	return nil
}

// statsChanged marks the derived buffers of inference stale after the running statistics
// changed (a training forward pass): inference folds them into its weights.
func (s *State) statsChanged() {
	s.Prepared[contract.Infer], s.Prepared[contract.Infer1] = 0, 0
}
