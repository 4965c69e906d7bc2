package ir

import (
	"fmt"

	"github.com/wrnc/wrnc/runtime/contract"
)

// verifySelections checks what the selection pass recorded, once it has run (the first
// step of the first phase has a method): every step has a method that can compute it, a
// Winograd method only where the shape allows it, and a derived buffer exactly where its
// method reads one, of the size the contract gives, made by a weights step of every
// phase that reads it.
func verifySelections(p *Program) error {
	if len(p.Phases) == 0 || len(p.Phases[0].Steps) == 0 || p.Phases[0].Steps[0].Sel.Method == "" {
		return nil
	}
	for _, ph := range p.Phases {
		made := map[*Buffer]bool{}
		for _, st := range ph.Prepare {
			if st.Kind != SWeights || st.Derived == nil {
				return fmt.Errorf("phase %s: prepare step %s %s makes no derived buffer", ph.Kind, st.Kind, st.Name())
			}
			made[st.Derived] = true
		}
		for _, st := range append(append([]*Step(nil), ph.Prepare...), ph.Steps...) {
			if err := verifyStep(p, st); err != nil {
				return fmt.Errorf("phase %s: %s %s: %w", ph.Kind, st.Kind, st.Name(), err)
			}
			if b := st.Derived; b != nil && st.Kind != SWeights && !made[b] && ph.Kind != contract.Step {
				return fmt.Errorf("phase %s: %s %s reads %s, which no prepare step makes", ph.Kind, st.Kind, st.Name(), b.Name)
			}
		}
	}
	return nil
}

func verifyStep(p *Program, st *Step) error {
	if st.Sel.Method == "" && !(st.Kind == SConvBwd && st.DZ == nil) {
		return fmt.Errorf("no method selected")
	}
	if st.K == nil || st.K.Kind != KConv {
		if st.Derived != nil || st.WSel.Method != "" {
			return fmt.Errorf("a derived buffer or weight-gradient method on a step that is no convolution")
		}
		return nil
	}
	c := p.Conv(st.K)
	for _, sel := range []contract.Selection{st.Sel, st.WSel} {
		if (sel.Method == contract.Winograd || sel.Method == contract.WeightsWino) && (!c.Winograd3() || sel.Tile != 2 && sel.Tile != 4) {
			return fmt.Errorf("%s on a %dx%d/%d pad %d convolution", sel, c.R, c.R, c.S, c.P)
		}
		// The pointwise forward pass takes any stride, its backward passes stride 1.
		if sel.Method == contract.Pointwise && !c.Pointwise() && !(st.Kind == SConvFwd && c.OneByOne()) {
			return fmt.Errorf("pointwise method on a %dx%d/%d convolution", c.R, c.R, c.S)
		}
	}
	dgrad := st.Kind == SConvBwd || st.Kind == SWeights && st.Dgrad
	want := 0
	switch st.Sel.Method {
	case contract.Winograd, contract.WeightsWino:
		want = contract.WinogradWeightsLen(&c, st.Sel.Tile, dgrad)
	case contract.Im2row, contract.WeightsRow:
		want = contract.RowWeightsLen(&c, dgrad)
	}
	switch {
	case want == 0 && st.Derived != nil:
		return fmt.Errorf("%s reads no derived buffer, but the step has %s", st.Sel, st.Derived.Name)
	case want > 0 && st.Derived == nil:
		return fmt.Errorf("%s needs a derived buffer of %d floats", st.Sel, want)
	case want > 0 && (!st.Derived.Derived || st.Derived.Size(1) != want || st.Derived.PerImage != 0):
		return fmt.Errorf("derived buffer %s of %d floats, %s needs %d", st.Derived.Name, st.Derived.Size(1), st.Sel, want)
	}
	return nil
}
