package ir

import "fmt"

// verifyKernels checks the fused kernels, once the fuse pass has made them: each names an
// op of its kind, reads and writes values that exist, loads through a BN kernel that comes
// before it, and adds a residual that is computed before it; BN kernels store nothing.
func verifyKernels(p *Program) error {
	index := map[*Kernel]int{}
	for i, k := range p.Fused {
		index[k] = i
	}
	defined := map[int]int{0: -1} // value -> the kernel that stores it (-1: the input)
	for i, k := range p.Fused {
		want := map[KernelKind][]OpKind{KConv: {OpConv}, KBN: {OpBN, OpBNReLU}, KHead: {OpFC}, KPool: {OpMaxPool}, KAddReLU: {OpAdd}}[k.Kind]
		if k.Op == nil || !hasKind(want, k.Op.Kind) {
			return fmt.Errorf("kernel %d %s (%s): op %v is not one of %v", i, k.Name, k.Kind, k.Op, want)
		}
		if _, ok := defined[k.In]; !ok {
			return fmt.Errorf("kernel %s loads value %d before any kernel stores it", k.Name, k.In)
		}
		if k.Pre != nil {
			if j, ok := index[k.Pre]; !ok || j >= i || k.Pre.Kind != KBN || k.Pre.In != k.In {
				return fmt.Errorf("kernel %s loads through %s, which is no earlier BN of its input", k.Name, k.Pre.Name)
			}
		}
		if k.Kind == KAddReLU && (k.Pre == nil || k.Res < 0) {
			return fmt.Errorf("kernel %s: an add-ReLU needs the BN of its input and a shortcut", k.Name)
		}
		if k.ResPre != nil {
			if j, ok := index[k.ResPre]; !ok || j >= i || k.ResPre.Kind != KBN || k.ResPre.In != k.Res {
				return fmt.Errorf("kernel %s adds through %s, which is no earlier BN of its shortcut", k.Name, k.ResPre.Name)
			}
		}
		if (k.Kind == KConv || k.Kind == KAddReLU) && k.Res >= 0 {
			if _, ok := defined[k.Res]; !ok {
				return fmt.Errorf("kernel %s adds value %d before any kernel stores it", k.Name, k.Res)
			}
		}
		switch {
		case k.Kind == KBN && k.Out != -1:
			return fmt.Errorf("BN kernel %s stores value %d; BN is applied on load", k.Name, k.Out)
		case k.Kind != KBN && (k.Out < 0 || k.Out >= len(p.Values)):
			return fmt.Errorf("kernel %s stores value %d out of range", k.Name, k.Out)
		case k.Kind != KBN:
			if _, twice := defined[k.Out]; twice {
				return fmt.Errorf("kernel %s stores value %d, which another kernel stores", k.Name, k.Out)
			}
			defined[k.Out] = i
		}
	}
	return nil
}

// verifySteps checks the steps of every phase: each kind has the kernel it computes and
// the buffers it reads and writes, a backward step comes after the forward pass, and every
// buffer a step reads was written by an earlier step, is external, or is derived.
func verifySteps(p *Program) error {
	for _, ph := range p.Phases {
		written := map[*Buffer]bool{}
		if ph.Input != nil {
			written[ph.Input] = true
		}
		for i, st := range ph.Steps {
			if err := verifyStepShape(st); err != nil {
				return fmt.Errorf("phase %s step %d (%s %s): %w", ph.Kind, i, st.Kind, st.Name(), err)
			}
			backward := st.Kind == SConvBwd || st.Kind == SBNReLUBwd || st.Kind == SHeadBwd || st.Kind == SBNBwd ||
				st.Kind == SPoolBwd || st.Kind == SAddBwd
			if backward && i < ph.Backward {
				return fmt.Errorf("phase %s: backward step %s %s before the backward pass (step %d)", ph.Kind, st.Kind, st.Name(), ph.Backward)
			}
			reads := []*Buffer{st.X, st.Res, st.DY}
			switch st.Kind {
			case SLoss:
				reads = []*Buffer{st.Y} // it writes DY
			case SAddBwd:
				reads = []*Buffer{st.Y, st.DY} // the forward's output gives the ReLU's mask
			case SBNBwd:
				reads = []*Buffer{st.X, st.DZ}
			}
			for _, b := range reads {
				if b != nil && !b.External && !b.Derived && !written[b] {
					return fmt.Errorf("phase %s: %s %s reads %s before any step writes it", ph.Kind, st.Kind, st.Name(), b.Name)
				}
			}
			for _, b := range []*Buffer{st.Y, st.Pooled, st.DZ, st.DX} {
				if b != nil && !(st.Kind == SAddBwd && b == st.Y) {
					written[b] = true
				}
			}
			if st.Kind == SBNTrain || st.Kind == SBNInfer {
				written[st.Pre.Mean], written[st.Pre.Invstd], written[st.Pre.Scale], written[st.Pre.Shift] = true, true, true, true
			}
			if st.Kind == SLoss {
				written[st.DY] = true
			}
		}
	}
	return nil
}

// stepKernel is the kernel kind each step kind computes (none for the SGD update).
var stepKernel = map[StepKind]KernelKind{
	SBNTrain: KBN, SBNInfer: KBN, SBNReLUBwd: KBN, SConvFwd: KConv, SConvBwd: KConv, SWeights: KConv,
	SHeadFwd: KHead, SHeadBwd: KHead, SLoss: KHead, SBNBwd: KBN,
	SPoolFwd: KPool, SPoolBwd: KPool, SAddFwd: KAddReLU, SAddBwd: KAddReLU, SFold: KBN,
}

func verifyStepShape(st *Step) error {
	want, ok := stepKernel[st.Kind]
	switch {
	case st.Kind == SSGD:
		if st.K != nil {
			return fmt.Errorf("the SGD update belongs to no kernel")
		}
		return nil
	case !ok:
		return fmt.Errorf("unknown step kind")
	case st.K == nil || st.K.Kind != want:
		return fmt.Errorf("needs a %s kernel", want)
	}
	need := map[StepKind][]*Buffer{
		SConvFwd: {st.X, st.Y}, SConvBwd: {st.X, st.DY}, SBNReLUBwd: {st.X, st.DZ, st.DX},
		SHeadFwd: {st.X, st.Y, st.Pooled}, SHeadBwd: {st.Pooled, st.DY, st.DZ}, SLoss: {st.Y, st.DY},
		SBNTrain: {st.X}, SWeights: {st.Derived}, SBNBwd: {st.X, st.DZ, st.DX}, SFold: {st.W},
		SPoolFwd: {st.X, st.Y}, SPoolBwd: {st.X, st.DY, st.DZ}, SAddFwd: {st.X, st.Res, st.Y}, SAddBwd: {st.Y, st.DY, st.DZ},
	}[st.Kind]
	for _, b := range need {
		if b == nil {
			return fmt.Errorf("a buffer it needs is missing")
		}
	}
	if (st.Kind == SBNTrain || st.Kind == SBNInfer || st.Kind == SBNReLUBwd || st.Kind == SBNBwd || st.Kind == SPoolFwd ||
		st.Kind == SPoolBwd || st.Kind == SAddFwd || st.Kind == SFold) && st.Pre == nil {
		return fmt.Errorf("no BN buffers")
	}
	return nil
}

func hasKind(kinds []OpKind, k OpKind) bool {
	for _, x := range kinds {
		if x == k {
			return true
		}
	}
	return false
}
