package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"slices"
	"strings"

	"github.com/wrnc/wrnc/runtime/ckpt"
	"github.com/wrnc/wrnc/runtime/model"
)

// The extra tensors of a training checkpoint are named so that they cannot collide with
// a parameter (no network has a name starting with "__").
const (
	extraPrefix    = "__"
	momentumPrefix = "__optim__.momentum." // + parameter name: SGD momentum buffer
)

// trackedSuffix follows a batch normalization's name prefix (model.Spec.BatchNorms) in
// the name of PyTorch's count of the training batches it has normalized, an I64 scalar
// that checkpoints of the imagenet family carry.
const trackedSuffix = ".num_batches_tracked"

// paramSpecs lists the tensors the network needs from a weights file.
func paramSpecs(spec *model.Spec) []ckpt.Spec {
	out := make([]ckpt.Spec, len(spec.Params))
	for i, p := range spec.Params {
		out[i] = ckpt.Spec{Name: p.Name, Shape: p.Shape}
	}
	return out
}

// readWeights reads a safetensors file and checks that it holds every tensor of the
// network with its shape; names the network does not know (other than this runtime's
// own "__" tensors) are reported on warn and ignored.
//
// It reads no more than a checkpoint of this network can hold (weightsLimit), and refuses
// a tensor with a NaN or an infinity, or a negative running variance: such weights give
// wrong answers, never an error, downstream. For a network of the imagenet family it
// also checks every num_batches_tracked the file has (readTracked).
func readWeights(path string, spec *model.Spec, warn io.Writer) (*ckpt.File, error) {
	f, err := ckpt.ReadLimit(path, weightsLimit(spec))
	if err != nil {
		return nil, fileError(err, "the weights file")
	}
	extra, err := f.Check(paramSpecs(spec))
	if err != nil {
		return nil, err
	}
	if _, err := readTracked(f, spec); err != nil {
		return nil, err
	}
	for i := range spec.Params {
		p := &spec.Params[i]
		t, _ := f.Get(p.Name)
		if j, ok := nonFinite(t.Data); ok {
			return nil, fmt.Errorf("%s: tensor %s holds %v at index %d; the weights are corrupt or training diverged (train keeps the last finite checkpoint)", path, p.Name, t.Data[j], j)
		}
		if p.Role == model.BNVar {
			for j, v := range t.Data {
				if v < 0 {
					return nil, fmt.Errorf("%s: tensor %s holds the negative variance %g at index %d; the weights are corrupt", path, p.Name, v, j)
				}
			}
		}
	}
	var unknown []string
	for _, name := range extra {
		if !strings.HasPrefix(name, extraPrefix) {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		shown := unknown[:min(len(unknown), 5)]
		more := ""
		if len(unknown) > len(shown) {
			more = fmt.Sprintf(" and %d more", len(unknown)-len(shown))
		}
		fmt.Fprintf(warn, "warning: %s: ignoring %d tensors this network does not have: %s%s\n",
			path, len(unknown), strings.Join(shown, ", "), more)
	}
	return f, nil
}

// weightsLimit is the most bytes a weights file of spec's network may have: its
// parameters, statistics, momentum and a ZCA matrix, and room for headers and the extra
// tensors of files written elsewhere (PyTorch's num_batches_tracked and the like).
func weightsLimit(spec *model.Spec) int64 {
	d := int64(spec.Input[0] * spec.Input[1] * spec.Input[2])
	return 4*(2*int64(spec.ParamsSize)+int64(spec.StatsSize)+d*d) + 64<<20
}

// nonFinite returns the index of the first NaN or infinity of v.
func nonFinite(v []float32) (int, bool) {
	for i, x := range v {
		if f := float64(x); math.IsNaN(f) || math.IsInf(f, 0) {
			return i, true
		}
	}
	return 0, false
}

// paramData returns the slice of the state that holds p.
func paramData(st *model.State, p *model.Param) []float32 {
	if p.Trainable() {
		return st.Params[p.Offset : p.Offset+p.Size()]
	}
	return st.Stats[p.Offset : p.Offset+p.Size()]
}

// loadWeights copies the network's tensors from f (checked by readWeights) into st, and
// for the imagenet family the counts of num_batches_tracked, which count on from st.Step
// (so a resumed run sets st.Step first).
func loadWeights(st *model.State, spec *model.Spec, f *ckpt.File) error {
	counts, err := readTracked(f, spec)
	if err != nil {
		return err
	}
	for i := range spec.Params {
		p := &spec.Params[i]
		t, _ := f.Get(p.Name)
		copy(paramData(st, p), t.Data)
	}
	st.SetTracked(counts)
	return nil
}

// readTracked returns the num_batches_tracked of every batch normalization of the
// network (in the order of Spec.BatchNorms) from f: nil for a network whose checkpoints
// carry none (the cifar family, for which such tensors of a file are ignored, as PyTorch
// writes them), else the file's counts, 0 for each it lacks (weights saved without
// them). A count that is not an I64 scalar, or is negative, is an error naming the file.
func readTracked(f *ckpt.File, spec *model.Spec) ([]int64, error) {
	if !spec.TracksBatches() {
		return nil, nil
	}
	bns := spec.BatchNorms()
	counts := make([]int64, len(bns))
	for i, bn := range bns {
		name := bn + trackedSuffix
		t, ok := f.Get(name)
		switch {
		case !ok:
			continue
		case t.Dtype() != ckpt.I64 || len(t.Shape) != 0 || len(t.Ints) != 1:
			return nil, fmt.Errorf("%s: tensor %s is %s %v; a batch normalization's num_batches_tracked must be an I64 scalar (shape []), as PyTorch saves it",
				f.Path, name, t.Dtype(), t.Shape)
		case t.Ints[0] < 0:
			return nil, fmt.Errorf("%s: tensor %s holds %d, a negative count of batches; the weights are corrupt", f.Path, name, t.Ints[0])
		}
		counts[i] = t.Ints[0]
	}
	return counts, nil
}

// weightTensors returns the network's tensors as views of st, in the order of Spec.Params;
// for the imagenet family each batch normalization's num_batches_tracked (its count
// now, State.BatchesTracked) follows its running variance, the last of its tensors, as
// in PyTorch's state_dict.
func weightTensors(st *model.State, spec *model.Spec) []ckpt.Tensor {
	bns := spec.BatchNorms()
	out := make([]ckpt.Tensor, 0, len(spec.Params)+len(bns))
	bn := 0 // the batch normalizations whose running variance has been seen
	for i := range spec.Params {
		p := &spec.Params[i]
		out = append(out, ckpt.Tensor{Name: p.Name, Shape: p.Shape, Data: paramData(st, p)})
		if p.Role == model.BNVar && spec.TracksBatches() {
			out = append(out, ckpt.Tensor{Name: bns[bn] + trackedSuffix, Shape: []int{}, Ints: []int64{st.BatchesTracked(bn)}})
			bn++
		}
	}
	return out
}

// momentumTensors returns the SGD momentum buffer buf (flat, laid out as Params) as one
// tensor per trainable parameter; nil when buf is nil.
func momentumTensors(buf []float32, spec *model.Spec) []ckpt.Tensor {
	if buf == nil {
		return nil
	}
	var out []ckpt.Tensor
	for i := range spec.Params {
		p := &spec.Params[i]
		if p.Trainable() {
			out = append(out, ckpt.Tensor{Name: momentumPrefix + p.Name, Shape: p.Shape, Data: buf[p.Offset : p.Offset+p.Size()]})
		}
	}
	return out
}

// readMomentum assembles the momentum buffer from f: nil when f has none, an error when
// it has only some, or one of the wrong shape.
func readMomentum(f *ckpt.File, spec *model.Spec) ([]float32, error) {
	var buf []float32
	var have, missing []string
	for i := range spec.Params {
		p := &spec.Params[i]
		if !p.Trainable() {
			continue
		}
		t, ok := f.Get(momentumPrefix + p.Name)
		if !ok {
			missing = append(missing, p.Name)
			continue
		}
		if t.Dtype() != ckpt.F32 {
			return nil, fmt.Errorf("%s: momentum of %s is %s, not F32; the checkpoint is corrupt", f.Path, p.Name, t.Dtype())
		}
		if !slices.Equal(t.Shape, p.Shape) {
			return nil, fmt.Errorf("%s: momentum of %s has shape %v, the parameter %v", f.Path, p.Name, t.Shape, p.Shape)
		}
		if j, bad := nonFinite(t.Data); bad {
			return nil, fmt.Errorf("%s: the momentum of %s holds %v at index %d; the checkpoint is corrupt", f.Path, p.Name, t.Data[j], j)
		}
		if buf == nil {
			buf = make([]float32, spec.ParamsSize)
		}
		copy(buf[p.Offset:], t.Data)
		have = append(have, p.Name)
	}
	if len(have) > 0 && len(missing) > 0 {
		return nil, fmt.Errorf("%s: the optimizer state is incomplete: it has the momentum of %d tensors but not of %d (the first missing: %s)",
			f.Path, len(have), len(missing), momentumPrefix+missing[0])
	}
	return buf, nil
}

// fileError turns a failure to open or read a file (*fs.PathError) into "PATH: problem
// (what)"; other errors, which name their file already, pass unchanged.
func fileError(err error, what string) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %v (%s)", pe.Path, pe.Err, what)
	}
	return err
}
