package pass

import (
	"fmt"

	"github.com/wrnc/wrnc/compiler/ir"
	"github.com/wrnc/wrnc/runtime/contract"
)

// Select records the method of every step of every phase (rules.go): for a convolution
// the method of its forward pass, of its input gradient and of its weight gradient, at
// the batch of the phase, on the CPU and on the GPU (the kernel variant, its tiles and its
// launch grid). A method that computes with transformed or packed weights reads
// them from a derived buffer; Select declares each distinct one once (a convolution whose
// forward pass uses F(4x4) at the compiled batch in training and in inference reads the
// same transform) and schedules the weights steps that make them: in each phase's Prepare
// list (run after weights are loaded) and, for the buffers training reads, in the step
// phase after the SGD update.
func Select(p *ir.Program) error {
	if len(p.Phases) == 0 {
		return nil
	}
	s := &selector{p: p, derived: map[derivedKey]*ir.Step{}}
	for _, ph := range p.Phases {
		for _, st := range ph.Steps {
			if err := s.step(ph, st); err != nil {
				return fmt.Errorf("phase %s: %s: %w", ph.Kind, st.Name(), err)
			}
		}
	}
	for _, ph := range p.Phases {
		var folds []*ir.Step
		for _, st := range ph.Prepare {
			if st.Kind == ir.SFold {
				st.Sel = contract.Selection{Method: stepMethods[ir.SFold]}
				folds = append(folds, st)
			}
		}
		ph.Prepare = append(folds, s.prepare(ph)...)
	}
	if train, step := p.Phase(contract.Train), p.Phase(contract.Step); train != nil && step != nil {
		step.Steps = append(step.Steps[:1:1], train.Prepare...)
	}
	return nil
}

type derivedKey struct {
	conv  *ir.Kernel
	sel   contract.Selection
	dgrad bool
	src   *ir.Buffer // folded weights transformed instead of the conv's own
}

type selector struct {
	p       *ir.Program
	derived map[derivedKey]*ir.Step // the weights step of each derived buffer
}

func (s *selector) step(ph *ir.Phase, st *ir.Step) error {
	switch st.Kind {
	case ir.SConvFwd:
		q := convQuery{c: s.p.Conv(st.K), pass: contract.Forward, batch: ph.Batch, precision: s.p.Precision}
		st.Sel, _ = selectConv(cpuConvRules, q)
		if t, ok := tuned(s.p, q); ok {
			st.Sel = t
		}
		st.GPU, _ = selectConv(gpuConvRules, q)
		st.Derived = s.derive(st.K, st.Sel, false, st.W)
	case ir.SConvBwd:
		q := convQuery{c: s.p.Conv(st.K), pass: contract.Wgrad, batch: ph.Batch, precision: s.p.Precision}
		st.WSel, _ = selectConv(cpuConvRules, q)
		st.GPUW, _ = selectConv(gpuConvRules, q)
		if st.DZ != nil {
			q.pass = contract.Dgrad
			st.Sel, _ = selectConv(cpuConvRules, q)
			st.GPU, _ = selectConv(gpuConvRules, q)
			st.Derived = s.derive(st.K, st.Sel, true, nil)
		}
		if st.DZ != nil && pairedBackward(st.Sel.Method) != pairedBackward(st.WSel.Method) {
			return fmt.Errorf("input gradient by %s but weight gradient by %s: no kernel computes that pair", st.Sel, st.WSel)
		}
	default:
		m, ok := stepMethods[st.Kind]
		if !ok {
			return fmt.Errorf("no method for a %s step", st.Kind)
		}
		st.Sel = contract.Selection{Method: m}
	}
	return nil
}

// tuned returns the forward method that p.Tuned records for q's convolution at q's batch.
func tuned(p *ir.Program, q convQuery) (contract.Selection, bool) {
	for _, t := range p.Tuned {
		if t.Conv == q.c && t.Batch == q.batch {
			return t.Choice, true
		}
	}
	return contract.Selection{}, false
}

// pairedBackward reports whether a method computes both gradients in one call (so that the
// input and weight gradients must use it together); Winograd and im2col run them apart.
func pairedBackward(m contract.Method) bool {
	return m == contract.Im2row || m == contract.Pointwise
}

// derive returns the derived buffer that sel reads for conv k (nil when it reads the
// weights as they are), declaring it and its weights step on first use: made from src,
// the weights with a BN folded in, when not nil, else from the conv's weights.
func (s *selector) derive(k *ir.Kernel, sel contract.Selection, dgrad bool, src *ir.Buffer) *ir.Buffer {
	c := s.p.Conv(k)
	var size int
	var name string
	var how contract.Selection
	switch sel.Method {
	case contract.Winograd:
		size = contract.WinogradWeightsLen(&c, sel.Tile, dgrad)
		name = fmt.Sprintf("%s.wino%d", k.Name, sel.Tile)
		how = contract.Selection{Method: contract.WeightsWino, Tile: sel.Tile}
	case contract.Im2row:
		size = contract.RowWeightsLen(&c, dgrad)
		name = k.Name + ".rows"
		how = contract.Selection{Method: contract.WeightsRow}
	default:
		return nil
	}
	if dgrad {
		name += ".dgrad"
	}
	if src != nil {
		name += ".folded"
	}
	key := derivedKey{conv: k, sel: sel, dgrad: dgrad, src: src}
	if w := s.derived[key]; w != nil {
		return w.Derived
	}
	b := &ir.Buffer{Name: name, Fixed: size, Derived: true}
	s.derived[key] = &ir.Step{Kind: ir.SWeights, K: k, Layer: -1, Derived: b, Dgrad: dgrad, Sel: how, W: src}
	return b
}

// prepare lists the weights steps of the derived buffers that ph reads, in order of use.
func (s *selector) prepare(ph *ir.Phase) []*ir.Step {
	var out []*ir.Step
	seen := map[*ir.Buffer]bool{}
	for _, st := range ph.Steps {
		b := st.Derived
		if b == nil || st.Kind == ir.SWeights || seen[b] {
			continue
		}
		seen[b] = true
		for _, w := range s.derived {
			if w.Derived == b {
				out = append(out, w)
			}
		}
	}
	return out
}
