package pass_test

import (
	"testing"

	"github.com/wrnc/wrnc/compiler/ir"
	"github.com/wrnc/wrnc/compiler/pass"
	"github.com/wrnc/wrnc/runtime/contract"
)

// compile runs the whole pipeline on src.
func compile(t *testing.T, src string) *ir.Program {
	t.Helper()
	p := lower(t, src)
	if err := pass.Default.Execute(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// convSteps maps each conv's name to its forward and backward steps in ph.
func convSteps(ph *ir.Phase) (fwd, bwd map[string]*ir.Step) {
	fwd, bwd = map[string]*ir.Step{}, map[string]*ir.Step{}
	for _, st := range ph.Steps {
		switch st.Kind {
		case ir.SConvFwd:
			fwd[st.Name()] = st
		case ir.SConvBwd:
			bwd[st.Name()] = st
		}
	}
	return fwd, bwd
}

// TestSelect checks the methods of a small network per phase: the first conv (1 channel)
// by im2col, 3x3 stride-1 convs by Winograd F(4x4) at the batch and F(2x2) where one image
// has few tiles, strided ones and the 1x1/2 shortcut by im2row; the derived buffers that
// phases share and those they do not; and the step phase (SGD, then the transforms that
// training reads).
func TestSelect(t *testing.T) {
	p := compile(t, "model WRN-10-1 {\n input 1x28x28\n batch 7\n}")
	train, infer, infer1, step := p.Phase(contract.Train), p.Phase(contract.Infer), p.Phase(contract.Infer1), p.Phase(contract.Step)
	wino := func(m int) contract.Selection { return contract.Selection{Method: contract.Winograd, Tile: m} }
	rows := contract.Selection{Method: contract.Im2row}
	col := contract.Selection{Method: contract.Im2col}
	tests := []struct {
		conv                string
		train, infer1       contract.Selection
		dgrad, wgrad        contract.Selection
		trainDerived, infer bool // reads a derived buffer in training / inference
	}{
		{"conv0", col, col, contract.Selection{}, col, false, false},
		{"group0.block0.conv0", wino(4), wino(4), wino(4), wino(4), true, true}, // 28x28: 49 tiles per image
		{"group1.block0.conv0", rows, rows, rows, rows, true, true},             // 3x3/2
		{"group1.block0.convdim", rows, rows, rows, rows, true, true},           // 1x1/2
		{"group2.block0.conv1", wino(4), wino(2), wino(4), wino(4), true, true}, // 7x7: 4 tiles per image
	}
	tf, tb := convSteps(train)
	inf, _ := convSteps(infer)
	inf1, _ := convSteps(infer1)
	for _, tt := range tests {
		if got := tf[tt.conv].Sel; got != tt.train {
			t.Errorf("%s: training forward by %v, want %v", tt.conv, got, tt.train)
		}
		if got := inf[tt.conv].Sel; got != tt.train {
			t.Errorf("%s: inference forward by %v, want %v (the same batch as training)", tt.conv, got, tt.train)
		}
		if got := inf1[tt.conv].Sel; got != tt.infer1 {
			t.Errorf("%s: batch-1 forward by %v, want %v", tt.conv, got, tt.infer1)
		}
		if got := tb[tt.conv]; got.Sel != tt.dgrad || got.WSel != tt.wgrad {
			t.Errorf("%s: backward by %v / %v, want %v / %v", tt.conv, got.Sel, got.WSel, tt.dgrad, tt.wgrad)
		}
		if (tf[tt.conv].Derived != nil) != tt.trainDerived {
			t.Errorf("%s: training forward derived buffer %v", tt.conv, tf[tt.conv].Derived)
		}
		if tf[tt.conv].Derived != inf[tt.conv].Derived {
			t.Errorf("%s: training and inference at the same batch and method read different derived buffers", tt.conv)
		}
		if same := inf1[tt.conv].Derived == inf[tt.conv].Derived; same != (tt.infer1 == tt.train) {
			t.Errorf("%s: batch-1 and batch inference share a derived buffer: %t, want %t", tt.conv, same, tt.infer1 == tt.train)
		}
	}
	// Every derived buffer a phase reads is made by its prepare list, once.
	for _, ph := range []*ir.Phase{train, infer, infer1} {
		made := map[*ir.Buffer]int{}
		for _, st := range ph.Prepare {
			made[st.Derived]++
		}
		for _, st := range ph.Steps {
			if st.Derived != nil && made[st.Derived] != 1 {
				t.Errorf("phase %s: %s reads %s, made %d times by its prepare list", ph.Kind, st.Name(), st.Derived.Name, made[st.Derived])
			}
		}
	}
	if len(step.Steps) != 1+len(train.Prepare) || step.Steps[0].Kind != ir.SSGD {
		t.Fatalf("step phase: %d steps, want the SGD update and the %d transforms of training", len(step.Steps), len(train.Prepare))
	}
	for i, st := range train.Prepare {
		if step.Steps[i+1] != st {
			t.Errorf("step phase step %d is %s %s, want training's transform %s", i+1, step.Steps[i+1].Kind, step.Steps[i+1].Name(), st.Name())
		}
	}
	// The loss sits between the forward and the backward pass.
	if loss := train.Steps[train.Backward-1]; loss.Kind != ir.SLoss || loss.Y != train.Logits || loss.DY != train.DLogits {
		t.Errorf("step %d before the backward pass: %s, want the loss of the logits", train.Backward-1, loss.Kind)
	}
}

// TestPlanDerived checks that derived buffers lie end to end in the shared region at the
// start of the arena, and that every phase's own buffers lie above it.
func TestPlanDerived(t *testing.T) {
	p := compile(t, "model WRN-16-2 {\n input 3x20x12\n batch 5\n dropout 0.3\n}")
	derived := p.Derived()
	if len(derived) == 0 || p.Shared == 0 {
		t.Fatalf("%d derived buffers in a shared region of %d floats", len(derived), p.Shared)
	}
	end := 0
	for _, b := range derived {
		if b.Offset != end {
			t.Errorf("%s at %d, want %d (end to end, aligned)", b.Name, b.Offset, end)
		}
		end = b.Offset + (b.Fixed+15)&^15
	}
	if end != p.Shared {
		t.Errorf("derived buffers end at %d, the shared region at %d", end, p.Shared)
	}
	for _, ph := range p.Phases {
		for _, b := range ph.Buffers {
			if !b.Derived && b.Offset < p.Shared {
				t.Errorf("phase %s: %s at %d inside the shared region", ph.Kind, b.Name, b.Offset)
			}
		}
		if ph.Peak < p.Shared {
			t.Errorf("phase %s: peak %d below the shared region", ph.Kind, ph.Peak)
		}
	}
}

// TestVerifySelections breaks the fused kernels, the steps and what Select recorded in
// ways ir.Verify must catch.
func TestVerifySelections(t *testing.T) {
	breaks := map[string]func(p *ir.Program){
		"winograd on a strided conv": func(p *ir.Program) {
			_, bwd := convSteps(p.Phase(contract.Train))
			bwd["group1.block0.conv0"].WSel = contract.Selection{Method: contract.Winograd, Tile: 4}
		},
		"derived buffer of the wrong size": func(p *ir.Program) {
			fwd, _ := convSteps(p.Phase(contract.Infer))
			fwd["group0.block0.conv0"].Derived.Fixed--
		},
		"no derived buffer": func(p *ir.Program) {
			fwd, _ := convSteps(p.Phase(contract.Infer1))
			fwd["group0.block0.conv1"].Derived = nil
		},
		"not made by a prepare step": func(p *ir.Program) {
			ph := p.Phase(contract.Infer)
			ph.Prepare = ph.Prepare[1:]
		},
		"no method": func(p *ir.Program) {
			p.Phase(contract.Infer).Steps[1].Sel = contract.Selection{}
		},
		"a kernel loading through a later BN": func(p *ir.Program) {
			p.Fused[2].Pre = p.Fused[5]
		},
		"a BN kernel that stores a value": func(p *ir.Program) {
			p.Fused[1].Out = p.Fused[1].In
		},
		"two kernels storing one value": func(p *ir.Program) {
			p.Fused[2].Out = p.Fused[0].Out
		},
		"a backward step in the forward pass": func(p *ir.Program) {
			ph := p.Phase(contract.Train)
			ph.Steps[0], ph.Steps[len(ph.Steps)-1] = ph.Steps[len(ph.Steps)-1], ph.Steps[0]
		},
		"a step reading what nothing wrote": func(p *ir.Program) {
			ph := p.Phase(contract.Infer)
			ph.Steps[2].X = &ir.Buffer{Name: "stray", PerImage: 1}
		},
		"a conv step on a BN kernel": func(p *ir.Program) {
			p.Phase(contract.Infer1).Steps[0].K = p.Fused[1]
		},
	}
	for name, brk := range breaks {
		p := compile(t, "model WRN-10-1 {\n input 1x28x28\n batch 7\n}")
		if err := ir.Verify(p); err != nil {
			t.Fatalf("before breaking: %v", err)
		}
		brk(p)
		if err := ir.Verify(p); err == nil {
			t.Errorf("%s: Verify found nothing wrong", name)
		}
	}
}
