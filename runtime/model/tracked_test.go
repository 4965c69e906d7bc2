package model

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestBatchNorms(t *testing.T) {
	s := &Spec{Family: FamilyImageNet, Params: []Param{
		{Name: "conv1.weight", Role: ConvWeight},
		{Name: "bn1.weight", Role: BNWeight},
		{Name: "bn1.bias", Role: BNBias},
		{Name: "bn1.running_mean", Role: BNMean},
		{Name: "bn1.running_var", Role: BNVar},
		{Name: "layer1.0.downsample.1.running_mean", Role: BNMean},
		{Name: "layer1.0.downsample.1.running_var", Role: BNVar},
		{Name: "fc.weight", Role: FCWeight},
	}}
	if diff := cmp.Diff([]string{"bn1", "layer1.0.downsample.1"}, s.BatchNorms()); diff != "" {
		t.Errorf("BatchNorms (-want +got):\n%s", diff)
	}
	for fam, want := range map[string]bool{"": false, FamilyCifar: false, FamilyImageNet: true} {
		if got := (&Spec{Family: fam}).TracksBatches(); got != want {
			t.Errorf("TracksBatches of family %q = %v, want %v", fam, got, want)
		}
	}
}

func TestBatchesTracked(t *testing.T) {
	var s State
	if got := s.BatchesTracked(0); got != 0 {
		t.Errorf("fresh state: %d, want 0", got)
	}
	s.Step = 5
	if got := s.BatchesTracked(1); got != 5 {
		t.Errorf("fresh state after 5 steps: %d, want 5", got)
	}
	s.SetTracked([]int64{100, 1 << 40})
	s.Step += 3
	for i, want := range []int64{103, 1<<40 + 3, 3} {
		if got := s.BatchesTracked(i); got != want {
			t.Errorf("BN %d, loaded at step 5, now step 8: %d, want %d", i, got, want)
		}
	}
}
