package model

import "strings"

// The layout families of Spec.Family.
const (
	FamilyCifar    = "cifar"
	FamilyImageNet = "imagenet"
)

// bnMeanSuffix ends the name of a batch normalization's running mean.
const bnMeanSuffix = ".running_mean"

// TracksBatches reports whether checkpoints of the network carry, for every batch
// normalization, PyTorch's num_batches_tracked (an int64 scalar): the imagenet
// family's do, so that torchvision's load_state_dict(strict=True) takes them.
func (s *Spec) TracksBatches() bool { return s.Family == FamilyImageNet }

// BatchNorms returns the name prefix of every batch normalization, in the order of
// Params: the name of its running mean (the Param of Role BNMean) less
// ".running_mean", as in "layer1.0.bn1".
func (s *Spec) BatchNorms() []string {
	var out []string
	for i := range s.Params {
		if p := &s.Params[i]; p.Role == BNMean {
			out = append(out, strings.TrimSuffix(p.Name, bnMeanSuffix))
		}
	}
	return out
}

// BatchesTracked returns the num_batches_tracked of batch normalization i (of
// Spec.BatchNorms) at step Step: Tracked[i] (0 where Tracked is shorter) plus the
// training steps taken since TrackedAt.
func (s *State) BatchesTracked(i int) int64 {
	var n int64
	if i < len(s.Tracked) {
		n = s.Tracked[i]
	}
	return n + int64(s.Step-s.TrackedAt)
}

// SetTracked makes counts the num_batches_tracked of the batch normalizations at the
// current step (a checkpoint's counts, once loaded); nil counts them from 0.
func (s *State) SetTracked(counts []int64) {
	s.Tracked, s.TrackedAt = counts, s.Step
}
