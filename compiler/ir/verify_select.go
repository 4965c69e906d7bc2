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
			if st.Kind != SWeights && st.Kind != SFold || len(prepared(st)) == 0 {
				return fmt.Errorf("phase %s: prepare step %s %s makes no derived buffer", ph.Kind, st.Kind, st.Name())
			}
		}
		for i, st := range append(append([]*Step(nil), ph.Prepare...), ph.Steps...) {
			if err := verifyStep(p, st); err != nil {
				return fmt.Errorf("phase %s: %s %s: %w", ph.Kind, st.Kind, st.Name(), err)
			}
			mine := prepared(st)
			for _, b := range st.Buffers() {
				if b.Derived && !made[b] && !contains(mine, b) && ph.Kind != contract.Step {
					return fmt.Errorf("phase %s: %s %s reads %s, which no earlier prepare step makes", ph.Kind, st.Kind, st.Name(), b.Name)
				}
			}
			if i < len(ph.Prepare) {
				for _, b := range mine {
					made[b] = true
				}
			}
		}
	}
	return nil
}

// prepared are the derived buffers a prepare step writes.
func prepared(st *Step) []*Buffer {
	switch {
	case st.Kind == SWeights && st.Derived != nil:
		return []*Buffer{st.Derived}
	case st.Kind == SFold && st.W != nil && st.Pre != nil:
		return []*Buffer{st.W, st.Pre.Scale, st.Pre.Shift}
	}
	return nil
}

func contains(bs []*Buffer, b *Buffer) bool {
	for _, x := range bs {
		if x == b {
			return true
		}
	}
	return false
}

func verifyStep(p *Program, st *Step) error {
	if st.Sel.Method == "" && !(st.Kind == SConvBwd && st.DZ == nil) {
		return fmt.Errorf("no method selected")
	}
	if st.Kind == SFold {
		return verifyFold(p, st)
	}
	if st.W != nil && (st.Kind != SConvFwd && st.Kind != SWeights || !st.W.Derived || st.W.Size(1) != weightsLen(p, st.K)) {
		return fmt.Errorf("folded weights %s of %d floats where the conv's weights have %d", st.W.Name, st.W.Size(1), weightsLen(p, st.K))
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

// verifyFold checks a bn-fold step: a BN folded into the conv that stores its input, into
// derived buffers of the conv's weights and of the BN's channels.
func verifyFold(p *Program, st *Step) error {
	k, c := st.K, st.Conv
	switch {
	case k == nil || k.Kind != KBN || c == nil || c.Kind != KConv || c.Out != k.In || c.Res >= 0:
		return fmt.Errorf("folds no BN into the conv that stores its input")
	case st.W == nil || !st.W.Derived || st.W.Size(1) != weightsLen(p, c):
		return fmt.Errorf("folded weights of the wrong size for %s", c.Name)
	case st.Pre == nil || st.Pre.Scale == nil || st.Pre.Shift == nil || !st.Pre.Scale.Derived || !st.Pre.Shift.Derived ||
		st.Pre.Scale.Size(1) != p.Values[k.In].Shape[0] || st.Pre.Shift.Size(1) != p.Values[k.In].Shape[0]:
		return fmt.Errorf("no derived scale and bias of %d channels", p.Values[k.In].Shape[0])
	}
	return nil
}

// weightsLen is the number of weights of conv kernel k (0 for another kernel).
func weightsLen(p *Program, k *Kernel) int {
	if k == nil || k.Kind != KConv {
		return 0
	}
	return p.ParamMap()[k.Op.Params[0]].Size()
}
