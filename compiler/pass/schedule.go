package pass

import (
	"fmt"

	"github.com/wrnc/wrnc/compiler/ir"
	"github.com/wrnc/wrnc/runtime/contract"
)

// Schedule turns the fused kernels into the steps of four phases: training (forward with
// batch statistics and dropout, the loss, then backward in reverse order) at the compiled
// batch, inference at the compiled batch, inference of one image, and the optimizer step
// that follows the backward pass (the SGD update; Select adds the transforms of the
// updated weights).
func Schedule(p *ir.Program) error {
	p.Phases = nil
	if p.Fused == nil {
		return nil
	}
	train, err := schedulePhase(p, contract.Train, p.Batch, true, nil)
	if err != nil {
		return err
	}
	folds := findFolds(p)
	infer, _ := schedulePhase(p, contract.Infer, p.Batch, false, folds)
	infer1, _ := schedulePhase(p, contract.Infer1, 1, false, folds)
	step := &ir.Phase{Kind: contract.Step, Batch: p.Batch, Steps: []*ir.Step{{Kind: ir.SSGD, Layer: -1}}}
	p.Phases = []*ir.Phase{train, infer, infer1, step}
	return nil
}

type scheduler struct {
	p    *ir.Program
	ph   *ir.Phase
	val  map[int]*ir.Buffer
	bn   map[*ir.Kernel]*ir.BNBuffers
	grad map[int]*ir.Buffer
	dz   map[*ir.Kernel]*ir.Buffer
	// plain maps a BN applied without a ReLU (by an add-ReLU) to the gradient of its output,
	// which the add-ReLU's backward step writes.
	plain   map[*ir.Kernel]*ir.Buffer
	written map[*ir.Buffer]bool
	folds   *folds // inference: the BNs folded into the conv before them, or nil
}

func schedulePhase(p *ir.Program, kind contract.Phase, batch int, train bool, f *folds) (*ir.Phase, error) {
	s := &scheduler{p: p, ph: &ir.Phase{Kind: kind, Batch: batch}, val: map[int]*ir.Buffer{}, folds: f,
		bn: map[*ir.Kernel]*ir.BNBuffers{}, grad: map[int]*ir.Buffer{}, dz: map[*ir.Kernel]*ir.Buffer{},
		plain: map[*ir.Kernel]*ir.Buffer{}, written: map[*ir.Buffer]bool{}}
	// Training keeps its own copy of the input, which the backward pass reads again.
	s.ph.Input = &ir.Buffer{Name: "input", PerImage: ir.Prod(p.Values[0].Shape), External: !train}
	s.val[0] = s.ph.Input
	for i, k := range p.Fused {
		s.forward(i, k, train)
	}
	if train {
		s.ph.DLogits = &ir.Buffer{Name: "dlogits", PerImage: p.Classes}
		head := s.ph.Steps[len(s.ph.Steps)-1]
		s.add(&ir.Step{Kind: ir.SLoss, K: head.K, Layer: head.Layer, Y: s.ph.Logits, DY: s.ph.DLogits})
		s.ph.Backward = len(s.ph.Steps)
		for i := len(p.Fused) - 1; i >= 0; i-- {
			if err := s.backward(i, p.Fused[i]); err != nil {
				return nil, fmt.Errorf("%s: %w", p.Fused[i].Name, err)
			}
		}
	}
	return s.ph, nil
}

func (s *scheduler) value(id int) *ir.Buffer {
	if b := s.val[id]; b != nil {
		return b
	}
	v := s.p.Values[id]
	b := &ir.Buffer{Name: v.Name, PerImage: ir.Prod(v.Shape)}
	s.val[id] = b
	return b
}

func (s *scheduler) bnBuffers(k *ir.Kernel) *ir.BNBuffers {
	if k == nil {
		return nil
	}
	if f := s.folds.of(k); f != nil {
		return f.Pre
	}
	if b := s.bn[k]; b != nil {
		return b
	}
	c := s.p.Values[k.In].Shape[0]
	mk := func(what string) *ir.Buffer { return &ir.Buffer{Name: k.Name + "." + what, Fixed: c} }
	b := &ir.BNBuffers{Mean: mk("mean"), Invstd: mk("invstd"), Scale: mk("scale"), Shift: mk("shift")}
	s.bn[k] = b
	return b
}

func (s *scheduler) add(st *ir.Step) { s.ph.Steps = append(s.ph.Steps, st) }

func (s *scheduler) forward(i int, k *ir.Kernel, train bool) {
	switch k.Kind {
	case ir.KBN:
		if s.folds.of(k) != nil {
			return // its fold prepares the phase
		}
		kind := ir.SBNInfer
		if train {
			kind = ir.SBNTrain
		}
		s.add(&ir.Step{Kind: kind, K: k, Layer: i, X: s.value(k.In), Pre: s.bnBuffers(k)})
	case ir.KConv:
		st := &ir.Step{Kind: ir.SConvFwd, K: k, Layer: i, X: s.value(k.In), Y: s.value(k.Out), Pre: s.bnBuffers(k.Pre)}
		if f := s.folds.into(k); f != nil {
			st.W = f.W
			s.ph.Prepare = append(s.ph.Prepare, f)
		}
		if train {
			st.Drop, st.DropSeed = k.Drop, s.index(k.Pre)
		}
		if k.Res >= 0 {
			st.Res = s.value(k.Res)
		}
		s.add(st)
	case ir.KPool:
		s.add(&ir.Step{Kind: ir.SPoolFwd, K: k, Layer: i, X: s.value(k.In), Y: s.value(k.Out), Pre: s.bnBuffers(k.Pre)})
	case ir.KAddReLU:
		s.add(&ir.Step{Kind: ir.SAddFwd, K: k, Layer: i, X: s.value(k.In), Pre: s.bnBuffers(k.Pre), Res: s.value(k.Res),
			ResPre: s.bnBuffers(k.ResPre), Y: s.value(k.Out)})
	case ir.KHead:
		c := s.p.Values[k.In].Shape[0]
		s.ph.Logits = s.value(k.Out)
		s.add(&ir.Step{Kind: ir.SHeadFwd, K: k, Layer: i, X: s.value(k.In), Y: s.ph.Logits,
			Pre: s.bnBuffers(k.Pre), Pooled: &ir.Buffer{Name: "pooled", PerImage: c}})
	}
}

// gradient returns the buffer that holds d loss / d value, creating it.
func (s *scheduler) gradient(id int) *ir.Buffer {
	if b := s.grad[id]; b != nil {
		return b
	}
	v := s.p.Values[id]
	b := &ir.Buffer{Name: "d." + v.Name, PerImage: ir.Prod(v.Shape)}
	s.grad[id] = b
	return b
}

func (s *scheduler) backward(i int, k *ir.Kernel) error {
	switch k.Kind {
	case ir.KHead:
		fwd := s.forwardStep(k)
		dz := s.loadGradient(k)
		if s.written[dz] {
			return fmt.Errorf("the pooled value has another use")
		}
		s.add(&ir.Step{Kind: ir.SHeadBwd, K: k, Layer: i, Pooled: fwd.Pooled, DY: s.ph.DLogits, DZ: dz})
		s.written[dz] = true
	case ir.KConv:
		dy := s.grad[k.Out]
		if dy == nil {
			return fmt.Errorf("its output has no gradient")
		}
		if k.Res >= 0 {
			if s.grad[k.Res] != nil {
				return fmt.Errorf("the residual input already has a gradient")
			}
			s.grad[k.Res] = dy // the add passes the gradient through unchanged
		}
		st := &ir.Step{Kind: ir.SConvBwd, K: k, Layer: i, X: s.value(k.In), DY: dy, Pre: s.bnBuffers(k.Pre),
			Drop: k.Drop, DropSeed: s.index(k.Pre)}
		switch {
		case k.Pre != nil:
			st.DZ = s.dzOf(k.Pre)
		case k.In != 0:
			st.DZ = s.gradient(k.In)
		}
		if st.DZ != nil {
			st.Acc = s.written[st.DZ]
			s.written[st.DZ] = true
		}
		s.add(st)
	case ir.KPool:
		dy := s.grad[k.Out]
		if dy == nil {
			return fmt.Errorf("its output has no gradient")
		}
		dz := s.loadGradient(k)
		if s.written[dz] {
			return fmt.Errorf("its input has another use")
		}
		s.add(&ir.Step{Kind: ir.SPoolBwd, K: k, Layer: i, X: s.value(k.In), Pre: s.bnBuffers(k.Pre), DY: dy, DZ: dz})
		s.written[dz] = true
	case ir.KAddReLU:
		dy := s.grad[k.Out]
		if dy == nil {
			return fmt.Errorf("its output has no gradient")
		}
		// The masked gradient is that of BN(In) and of the shortcut alike. An identity
		// shortcut's gradient buffer is the masked gradient itself: the block's convolutions
		// that load the shortcut's value add theirs to it later in the backward pass.
		var g *ir.Buffer
		if k.ResPre == nil {
			if s.written[s.gradient(k.Res)] {
				return fmt.Errorf("the shortcut already has a gradient")
			}
			g = s.gradient(k.Res)
		} else {
			g = &ir.Buffer{Name: "g." + k.Name, PerImage: ir.Prod(s.p.Values[k.Out].Shape)}
			s.plain[k.ResPre] = g
		}
		s.plain[k.Pre] = g
		s.add(&ir.Step{Kind: ir.SAddBwd, K: k, Layer: i, Y: s.value(k.Out), DY: dy, DZ: g})
		s.written[g] = true
	case ir.KBN:
		if g := s.plain[k]; g != nil {
			dx := s.gradient(k.In)
			s.add(&ir.Step{Kind: ir.SBNBwd, K: k, Layer: i, X: s.value(k.In), Pre: s.bnBuffers(k), DZ: g, DX: dx, Acc: s.written[dx]})
			s.written[dx] = true
			return nil
		}
		dz := s.dz[k]
		if dz == nil || !s.written[dz] {
			return fmt.Errorf("no kernel loads through this BN")
		}
		drop, err := s.consumerDrop(k)
		if err != nil {
			return err
		}
		dx := s.gradient(k.In)
		s.add(&ir.Step{Kind: ir.SBNReLUBwd, K: k, Layer: i, X: s.value(k.In), Pre: s.bnBuffers(k), DZ: dz, DX: dx,
			Acc: s.written[dx], Drop: drop, DropSeed: i})
		s.written[dx] = true
	}
	return nil
}

// loadGradient is the buffer of the gradient w.r.t. what kernel k loads: through its BN-ReLU,
// or its stored input itself.
func (s *scheduler) loadGradient(k *ir.Kernel) *ir.Buffer {
	if k.Pre != nil {
		return s.dzOf(k.Pre)
	}
	return s.gradient(k.In)
}

func (s *scheduler) dzOf(bn *ir.Kernel) *ir.Buffer {
	if b := s.dz[bn]; b != nil {
		return b
	}
	b := &ir.Buffer{Name: "dz." + bn.Name, PerImage: ir.Prod(s.p.Values[bn.In].Shape)}
	s.dz[bn] = b
	return b
}

func (s *scheduler) forwardStep(k *ir.Kernel) *ir.Step {
	for _, st := range s.ph.Steps {
		if st.K == k {
			return st
		}
	}
	return nil
}

// index is the position of k in Program.Fused, or -1 for nil.
func (s *scheduler) index(k *ir.Kernel) int {
	for i, x := range s.p.Fused {
		if x == k {
			return i
		}
	}
	return -1
}

// consumerDrop is the dropout that the kernels loading through bn apply; they must agree,
// since the backward pass of the BN-ReLU undoes one mask.
func (s *scheduler) consumerDrop(bn *ir.Kernel) (float64, error) {
	drop, seen := 0.0, false
	for _, k := range s.p.Fused {
		if k.Pre != bn {
			continue
		}
		if seen && k.Drop != drop {
			return 0, fmt.Errorf("kernels loading through %s apply different dropout", bn.Name)
		}
		drop, seen = k.Drop, true
	}
	return drop, nil
}

// folds are the BNs of inference folded into the conv before them, each with its bn-fold
// step, one for every inference phase (they make the same derived buffers).
type folds struct {
	byBN, byConv map[*ir.Kernel]*ir.Step
}

// findFolds finds the BNs that inference folds into the conv that stores their input: the
// imagenet family's, whose convolutions are each followed by a BN. A BN folds when its
// input is a conv's output with no residual added on store, and every kernel that reads
// that value reads it through the BN (as what it loads, or as an add-ReLU's shortcut), so
// that nothing needs the value before the BN. The cifar family's BNs mostly normalize the
// sum of a residual add, which no conv stores alone, and are not folded.
func findFolds(p *ir.Program) *folds {
	f := &folds{byBN: map[*ir.Kernel]*ir.Step{}, byConv: map[*ir.Kernel]*ir.Step{}}
	if p.Family != ir.ImageNet {
		return f
	}
	producer := map[int]*ir.Kernel{}
	for _, k := range p.Fused {
		if k.Kind != ir.KBN {
			producer[k.Out] = k
		}
	}
	params := p.ParamMap()
	for _, bn := range p.Fused {
		conv := producer[bn.In]
		if bn.Kind != ir.KBN || conv == nil || conv.Kind != ir.KConv || conv.Res >= 0 || !readThrough(p, bn) {
			continue
		}
		c := p.Values[bn.In].Shape[0]
		mk := func(what string) *ir.Buffer { return &ir.Buffer{Name: bn.Name + "." + what, Fixed: c, Derived: true} }
		st := &ir.Step{Kind: ir.SFold, K: bn, Conv: conv, Layer: -1,
			W:   &ir.Buffer{Name: conv.Name + ".folded", Fixed: params[conv.Op.Params[0]].Size(), Derived: true},
			Pre: &ir.BNBuffers{Scale: mk("one"), Shift: mk("bias")}}
		f.byBN[bn], f.byConv[conv] = st, st
	}
	return f
}

// readThrough reports whether every kernel that reads BN kernel bn's input reads it
// through bn: loads it through bn, or adds it as a shortcut through bn (an add-ReLU's).
func readThrough(p *ir.Program, bn *ir.Kernel) bool {
	v := bn.In
	for _, k := range p.Fused {
		switch {
		case k == bn:
		case k.In == v && (k.Kind == ir.KBN || k.Pre != bn):
			return false
		case (k.Kind == ir.KConv || k.Kind == ir.KAddReLU) && k.Res == v && (k.Kind == ir.KConv || k.ResPre != bn):
			return false
		}
	}
	return true
}

// of is the fold of BN kernel k, or nil.
func (f *folds) of(k *ir.Kernel) *ir.Step {
	if f == nil {
		return nil
	}
	return f.byBN[k]
}

// into is the fold into conv kernel k, or nil.
func (f *folds) into(k *ir.Kernel) *ir.Step {
	if f == nil {
		return nil
	}
	return f.byConv[k]
}
