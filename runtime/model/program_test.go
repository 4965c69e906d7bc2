package model

import (
	"strings"
	"testing"

	"github.com/wrnc/wrnc/runtime/contract"
	"github.com/wrnc/wrnc/runtime/cpu"
	"github.com/wrnc/wrnc/runtime/nn"
)

// fakeProgram records which of its phases ran.
type fakeProgram struct {
	spec     Spec
	prepared []contract.Phase
	calls    []string
}

func (f *fakeProgram) Spec() *Spec { return &f.spec }
func (f *fakeProgram) Prepare(_ *State, ph contract.Phase) {
	f.prepared = append(f.prepared, ph)
}
func (f *fakeProgram) TrainForward(s *State, n int, x []float32) []float32 {
	f.calls = append(f.calls, "forward")
	return s.Arena[:n*f.spec.Classes]
}
func (f *fakeProgram) Loss(_ *State, n int, labels []int32) (StepResult, error) {
	f.calls = append(f.calls, "loss")
	return StepResult{Loss: 1, Correct: n}, nil
}
func (f *fakeProgram) DLogits(s *State, n int) []float32 { return s.Arena[:n*f.spec.Classes] }
func (f *fakeProgram) TrainBackward(*State, int)         { f.calls = append(f.calls, "backward") }
func (f *fakeProgram) Update(*State, Hyper)              { f.calls = append(f.calls, "update") }
func (f *fakeProgram) Infer(s *State, n int, x []float32) []float32 {
	f.calls = append(f.calls, "infer")
	return s.Arena[:n*f.spec.Classes]
}
func (f *fakeProgram) Infer1(s *State, x []float32) []float32 {
	f.calls = append(f.calls, "infer1")
	return s.Arena[:f.spec.Classes]
}

func newFake(t *testing.T) (*fakeProgram, Net, *State) {
	f := &fakeProgram{spec: Spec{Name: "F", Input: [3]int{1, 2, 2}, Classes: 3, Batch: 4, ParamsSize: 5, StatsSize: 1,
		TrainArena: 16, InferArena: 16, Infer1Arena: 16}}
	net, err := NewNet(f)
	if err != nil {
		t.Fatal(err)
	}
	pool := cpu.NewPool(1)
	t.Cleanup(pool.Close)
	s := &State{Params: make([]float32, 5), Grads: make([]float32, 5), Momentum: make([]float32, 5), Stats: make([]float32, 1),
		Arena: make([]float32, 16), Ctx: nn.NewCtx(pool, nil, 0)}
	return f, net, s
}

// TestNetSteps checks the order of a training step, that derived weights are made once per
// version of the weights (and again after Loaded), and the Step and Started bookkeeping.
func TestNetSteps(t *testing.T) {
	f, net, s := newFake(t)
	x, labels := make([]float32, 16), []int32{0, 1, 2, 0}
	h := Hyper{LR: 0.1, Momentum: 0.9}
	for range 2 {
		if _, err := net.Infer(s, 4, x); err != nil {
			t.Fatal(err)
		}
	}
	if r, err := net.TrainStep(s, 4, x, labels, h); err != nil || r.Correct != 4 {
		t.Fatalf("TrainStep: %+v, %v", r, err)
	}
	if s.Step != 1 || !s.Started {
		t.Errorf("after a step: Step %d, Started %t", s.Step, s.Started)
	}
	// The step's Update made training's transforms of the new weights: no Prepare(Train)
	// before the next step; inference must make its own again.
	net.TrainStep(s, 4, x, labels, h)
	net.Infer(s, 2, x)
	net.Loaded(s)
	net.Infer1(s, x)
	want := []contract.Phase{contract.Infer, contract.Train, contract.Infer, contract.Infer1}
	if got := f.prepared; len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] || got[3] != want[3] {
		t.Errorf("prepared %v, want %v", got, want)
	}
	wantCalls := "infer infer forward loss backward update forward loss backward update infer infer1"
	if got := strings.Join(f.calls, " "); got != wantCalls {
		t.Errorf("calls %q, want %q", got, wantCalls)
	}
}

// TestNetErrors checks that bad arguments are errors, not panics, and run nothing.
func TestNetErrors(t *testing.T) {
	f, net, s := newFake(t)
	x, labels := make([]float32, 16), []int32{0, 1, 2, 0}
	h := Hyper{LR: 0.1, Momentum: 0.9}
	cases := map[string]func() error{
		"no images":     func() error { _, err := net.Infer(s, 0, x); return err },
		"too many":      func() error { _, err := net.Infer(s, 5, make([]float32, 20)); return err },
		"short input":   func() error { _, err := net.TrainForward(s, 4, x[:15]); return err },
		"short labels":  func() error { _, err := net.TrainStep(s, 4, x, labels[:3], h); return err },
		"short dlogits": func() error { return net.TrainBackward(s, 4, make([]float32, 11)) },
		"no gradients": func() error {
			_, err := net.TrainStep(&State{Params: s.Params, Stats: s.Stats, Arena: s.Arena, Ctx: s.Ctx}, 4, x, labels, h)
			return err
		},
		"no momentum": func() error {
			_, err := net.TrainStep(&State{Params: s.Params, Grads: s.Grads, Stats: s.Stats, Arena: s.Arena, Ctx: s.Ctx}, 4, x, labels, h)
			return err
		},
		"small arena": func() error {
			_, err := net.Infer(&State{Params: s.Params, Stats: s.Stats, Arena: s.Arena[:15], Ctx: s.Ctx}, 1, x)
			return err
		},
	}
	for name, call := range cases {
		if err := call(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if len(f.calls) != 0 {
		t.Errorf("refused calls ran %v", f.calls)
	}
}
