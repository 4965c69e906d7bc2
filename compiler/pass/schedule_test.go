package pass_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wrnc/wrnc/compiler/ir"
	"github.com/wrnc/wrnc/compiler/pass"
	"github.com/wrnc/wrnc/runtime/contract"
)

// upTo runs the default pipeline up to and including the pass named last.
func upTo(t *testing.T, p *ir.Program, last string) {
	t.Helper()
	for i, ps := range pass.Default {
		if ps.Name == last {
			if err := pass.Default[:i+1].Execute(p); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("no pass %s", last)
}

// TestFuse checks the kernels of a two-group network with dropout and a 1x1 shortcut: the
// BN-ReLU and dropout go into the next conv's load, the residual add into the store of the
// block's last conv (or the shortcut), and the last BN-ReLU into the head.
func TestFuse(t *testing.T) {
	p := lower(t, "model WRN-10-1 {\n input 1x8x8\n dropout 0.25\n}")
	upTo(t, p, "fuse")
	var got []string
	for _, k := range p.Fused {
		s := fmt.Sprintf("%s %s", k.Kind, k.Name)
		if k.Pre != nil {
			s += " pre=" + k.Pre.Name
		}
		if k.Drop > 0 {
			s += fmt.Sprintf(" drop=%g", k.Drop)
		}
		if k.Res >= 0 {
			s += " res=" + p.Values[k.Res].Name
		}
		got = append(got, s)
	}
	want := []string{
		"conv conv0",
		"bn group0.block0.bn0",
		"conv group0.block0.conv0 pre=group0.block0.bn0",
		"bn group0.block0.bn1",
		"conv group0.block0.conv1 pre=group0.block0.bn1 drop=0.25 res=conv0",
		"bn group1.block0.bn0",
		"conv group1.block0.conv0 pre=group1.block0.bn0",
		"bn group1.block0.bn1",
		"conv group1.block0.conv1 pre=group1.block0.bn1 drop=0.25",
		"conv group1.block0.convdim pre=group1.block0.bn0 res=group1.block0.conv1",
		"bn group2.block0.bn0",
		"conv group2.block0.conv0 pre=group2.block0.bn0",
		"bn group2.block0.bn1",
		"conv group2.block0.conv1 pre=group2.block0.bn1 drop=0.25",
		"conv group2.block0.convdim pre=group2.block0.bn0 res=group2.block0.conv1",
		"bn bn",
		"head head pre=bn",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("fused kernels (-want +got):\n%s", diff)
	}
}

// TestSchedule checks the steps of each phase: the training forward pass with batch
// statistics, the loss, the backward pass in reverse with its accumulations (a BN whose
// output two convs load gets both gradients, the second added), inference with running
// statistics at the compiled batch and at batch 1, and the step phase.
func TestSchedule(t *testing.T) {
	p := lower(t, "model WRN-10-1 {\n input 1x8x8\n batch 5\n}")
	upTo(t, p, "schedule")
	steps := func(ph *ir.Phase) string {
		var out []string
		for _, st := range ph.Steps {
			s := string(st.Kind) + " " + st.Name()
			if st.Acc {
				s += " acc"
			}
			out = append(out, s)
		}
		return strings.Join(out, "\n")
	}
	forward := func(bn string) string {
		return strings.Join([]string{"conv-fwd conv0", bn + " group0.block0.bn0", "conv-fwd group0.block0.conv0", bn + " group0.block0.bn1",
			"conv-fwd group0.block0.conv1", bn + " group1.block0.bn0", "conv-fwd group1.block0.conv0", bn + " group1.block0.bn1",
			"conv-fwd group1.block0.conv1", "conv-fwd group1.block0.convdim", bn + " group2.block0.bn0", "conv-fwd group2.block0.conv0",
			bn + " group2.block0.bn1", "conv-fwd group2.block0.conv1", "conv-fwd group2.block0.convdim", bn + " bn", "head-fwd head"}, "\n")
	}
	backward := strings.Join([]string{"loss head", "head-bwd head", "bnrelu-bwd bn",
		"conv-bwd group2.block0.convdim", "conv-bwd group2.block0.conv1", "bnrelu-bwd group2.block0.bn1",
		"conv-bwd group2.block0.conv0 acc", "bnrelu-bwd group2.block0.bn0",
		"conv-bwd group1.block0.convdim", "conv-bwd group1.block0.conv1", "bnrelu-bwd group1.block0.bn1",
		"conv-bwd group1.block0.conv0 acc", "bnrelu-bwd group1.block0.bn0",
		"conv-bwd group0.block0.conv1", "bnrelu-bwd group0.block0.bn1", "conv-bwd group0.block0.conv0",
		"bnrelu-bwd group0.block0.bn0 acc", "conv-bwd conv0"}, "\n")
	tests := []struct {
		kind  contract.Phase
		batch int
		want  string
	}{
		{contract.Train, 5, forward("bn-train") + "\n" + backward},
		{contract.Infer, 5, forward("bn-infer")},
		{contract.Infer1, 1, forward("bn-infer")},
		{contract.Step, 5, "sgd sgd"},
	}
	for _, tt := range tests {
		ph := p.Phase(tt.kind)
		if ph == nil || ph.Batch != tt.batch {
			t.Fatalf("phase %s: %+v, want batch %d", tt.kind, ph, tt.batch)
		}
		if diff := cmp.Diff(tt.want, steps(ph)); diff != "" {
			t.Errorf("phase %s (-want +got):\n%s", tt.kind, diff)
		}
	}
	train := p.Phase(contract.Train)
	if train.Input.External || !p.Phase(contract.Infer).Input.External {
		t.Errorf("training must keep its own copy of the input (the backward pass reads it), inference read the caller's")
	}
	if train.Steps[train.Backward].Kind != ir.SHeadBwd {
		t.Errorf("the backward pass starts at %s", train.Steps[train.Backward].Kind)
	}
}

// TestPlanMemory checks that buffers whose lifetimes do not overlap share space: the peak
// of inference is far below the sum of its buffers, and the logits stay live to the end.
func TestPlanMemory(t *testing.T) {
	p := lower(t, "model WRN-16-1 {\n input 3x16x16\n batch 4\n}")
	upTo(t, p, "plan-memory")
	for _, ph := range p.Phases[:3] {
		sum := 0
		for _, b := range ph.Buffers {
			if !b.Derived {
				sum += b.Size(ph.Batch)
			}
		}
		if own := ph.Peak - p.Shared; own <= 0 || own*2 > sum {
			t.Errorf("phase %s: %d floats of its own for buffers of %d in all: too little reuse", ph.Kind, own, sum)
		}
		last := ph.Steps[len(ph.Steps)-1]
		for _, b := range last.Buffers() {
			if b != ph.Logits && !b.Derived && !b.External && overlaps(b, ph.Logits, ph.Batch) {
				t.Errorf("phase %s: %s overlaps the logits in the last step", ph.Kind, b.Name)
			}
		}
	}
}

func overlaps(a, b *ir.Buffer, n int) bool {
	return a.Offset < b.Offset+b.Size(n) && b.Offset < a.Offset+a.Size(n)
}

// TestScheduleFolds checks that inference folds every BN of an imagenet-family network
// into the conv before it: no bn-infer step is left, every conv reads its folded weights,
// every phase's prepare list starts with the folds (the same steps for both inference
// phases, before the transforms of the folded weights), and training is untouched; the
// cifar family folds nothing.
func TestScheduleFolds(t *testing.T) {
	p := lower(t, "model WRN-18-0.5 {\n family imagenet\n input 3x64x64\n classes 6\n batch 4\n}")
	if err := pass.Default.Execute(p); err != nil {
		t.Fatal(err)
	}
	bns := 0
	for _, k := range p.Fused {
		if k.Kind == ir.KBN {
			bns++
		}
	}
	if bns < 20 {
		t.Fatalf("%d BN kernels in WRN-18", bns)
	}
	infer := p.Phase(contract.Infer)
	for _, ph := range p.Phases {
		var folds []*ir.Step
		for i, st := range ph.Prepare {
			if st.Kind == ir.SFold {
				if i != len(folds) {
					t.Errorf("phase %s: fold %s after a transform", ph.Kind, st.Name())
				}
				folds = append(folds, st)
			}
		}
		inference := ph.Kind == contract.Infer || ph.Kind == contract.Infer1
		if want := map[bool]int{true: bns}[inference]; len(folds) != want {
			t.Errorf("phase %s: %d folds, want %d", ph.Kind, len(folds), want)
		}
		if inference && ph != infer && !cmp.Equal(folds, infer.Prepare[:len(folds)]) {
			t.Errorf("phase %s folds with steps of its own", ph.Kind)
		}
		for _, st := range ph.Steps {
			if inference && st.Kind == ir.SBNInfer {
				t.Errorf("phase %s: %s is not folded", ph.Kind, st.Name())
			}
			if st.Kind == ir.SConvFwd && (st.W != nil) != inference {
				t.Errorf("phase %s: %s reads folded weights: %t", ph.Kind, st.Name(), st.W != nil)
			}
		}
		for _, st := range ph.Prepare {
			if st.Kind == ir.SWeights && (st.W != nil) != inference {
				t.Errorf("phase %s: %s transforms folded weights: %t", ph.Kind, st.Name(), st.W != nil)
			}
		}
	}
	c := lower(t, "model WRN-16-2 {\n input 3x32x32\n}")
	if err := pass.Default.Execute(c); err != nil {
		t.Fatal(err)
	}
	for _, ph := range c.Phases {
		for _, st := range append(append([]*ir.Step(nil), ph.Prepare...), ph.Steps...) {
			if st.Kind == ir.SFold || st.W != nil {
				t.Errorf("cifar family: phase %s: %s %s folds", ph.Kind, st.Kind, st.Name())
			}
		}
	}
}
