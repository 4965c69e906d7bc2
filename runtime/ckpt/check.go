package ckpt

import (
	"fmt"
	"slices"
	"strings"
)

// Spec is a tensor a network expects: its name and shape, of dtype F32.
type Spec struct {
	Name  string
	Shape []int
}

// maxProblems is how many missing or misshapen tensors Check names before it
// only counts the rest.
const maxProblems = 8

// Check matches the file against the tensors a network expects. It returns
// one error, naming the file, that lists the tensors of want that are missing
// and those whose shape differs, as in
//
//	run1/last.safetensors holds weights of a different network: group0.block0.conv0 is [64 16 3 3], this network needs [32 16 3 3]
//
// (the first few problems in the order of want, then a count of the rest). A tensor
// of want that the file has as I64 is a problem too ("fc.bias is I64 [10], this network
// needs F32 [10]"): its values are not weights. Names in the file that want lacks do not make an error: they come back in
// extra, in file order, for the caller to warn about; names ending in
// "num_batches_tracked" (PyTorch's BN step counters) are left out of it.
func (f *File) Check(want []Spec) (extra []string, err error) {
	have := make(map[string]*Tensor, len(f.Tensors))
	for i := range f.Tensors {
		have[f.Tensors[i].Name] = &f.Tensors[i]
	}
	wanted := make(map[string]bool, len(want))
	var problems []string
	for _, s := range want {
		wanted[s.Name] = true
		t, ok := have[s.Name]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s is missing", s.Name))
		case t.Dtype() != F32:
			problems = append(problems, fmt.Sprintf("%s is %s %v, this network needs %s %v", s.Name, t.Dtype(), t.Shape, F32, s.Shape))
		case !slices.Equal(t.Shape, s.Shape):
			problems = append(problems, fmt.Sprintf("%s is %v, this network needs %v", s.Name, t.Shape, s.Shape))
		}
	}
	for _, t := range f.Tensors {
		if !wanted[t.Name] && !strings.HasSuffix(t.Name, "num_batches_tracked") {
			extra = append(extra, t.Name)
		}
	}
	if len(problems) == 0 {
		return extra, nil
	}
	if len(problems) > maxProblems {
		n := len(problems) - maxProblems
		problems = append(problems[:maxProblems], fmt.Sprintf("and %d more", n))
	}
	return extra, fmt.Errorf("%s holds weights of a different network: %s", f.Path, strings.Join(problems, "; "))
}
