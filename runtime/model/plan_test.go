package model

import (
	"strings"
	"testing"

	"github.com/wrnc/wrnc/runtime/contract"
)

// validSpec is a spec whose plan holds: one conv, one parameter, a derived buffer in the
// shared region and a buffer of each phase above it.
func validSpec() *Spec {
	return &Spec{
		Name: "T", Input: [3]int{1, 4, 4}, Classes: 2, Batch: 4,
		Params:     []Param{{Name: "conv0", Shape: []int{2, 1, 3, 3}, Role: ConvWeight}, {Name: "bn.running_mean", Shape: []int{2}, Role: BNMean}},
		ParamsSize: 18, StatsSize: 2,
		Shared: 32, TrainArena: 32 + 4*16 + 16, InferArena: 32 + 4*16, Infer1Arena: 48,
		Convs: []contract.Conv{{C: 1, H: 4, W: 4, K: 2, R: 3, S: 1, P: 1, OH: 4, OW: 4}},
		Plan: []Extent{
			{Name: "conv0.wino2", Phase: contract.Step, Off: 0, Fixed: 32, Derived: true},
			{Name: "input", Phase: contract.Train, Off: 32, PerImage: 16},
			{Name: "stats", Phase: contract.Train, Off: 96, Fixed: 16},
			{Name: "y", Phase: contract.Infer, Off: 32, PerImage: 16},
			{Name: "y1", Phase: contract.Infer1, Off: 32, PerImage: 16},
		},
	}
}

// TestCheckPlan breaks a valid plan in every way CheckPlan must refuse.
func TestCheckPlan(t *testing.T) {
	if err := CheckPlan(validSpec()); err != nil {
		t.Fatalf("a valid plan: %v", err)
	}
	breaks := []struct {
		name, want string
		brk        func(s *Spec)
	}{
		{"inconsistent conv", "output", func(s *Spec) { s.Convs[0].OH = 3 }},
		{"parameter past its buffer", "conv0 [0, 18) outside", func(s *Spec) { s.ParamsSize = 17 }},
		{"statistics past their buffer", "bn.running_mean", func(s *Spec) { s.StatsSize = 1 }},
		{"misaligned buffer", "not aligned", func(s *Spec) { s.Plan[2].Off = 97 }},
		{"buffer past the arena at the full batch", "y [32, 96) of phase infer outside", func(s *Spec) { s.InferArena = 95 }},
		{"batch-1 buffer past its arena", "infer1", func(s *Spec) { s.Infer1Arena = 40 }},
		{"derived buffer past the shared region", "conv0.wino2", func(s *Spec) { s.Plan[0].Fixed = 48 }},
		{"buffer inside the shared region", "inside the shared region", func(s *Spec) { s.Plan[1].Off = 16 }},
		{"negative size", "outside", func(s *Spec) { s.Plan[3].Fixed = -64 }},
		{"no batch", "batch 0", func(s *Spec) { s.Batch = 0 }},
	}
	for _, b := range breaks {
		s := validSpec()
		b.brk(s)
		err := CheckPlan(s)
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: %v, want an error with %q", b.name, err, b.want)
		}
	}
}
