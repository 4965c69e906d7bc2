package ckpt

import (
	"fmt"
	"slices"
	"strings"
)

// Spec is a tensor a network expects: its name and shape.
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
// (the first few problems in the order of want, then a count of the rest).
// Names in the file that want lacks do not make an error: they come back in
// extra, in file order, for the caller to warn about; names ending in
// "num_batches_tracked" (PyTorch's BN step counters) are left out of it.
func (f *File) Check(want []Spec) (extra []string, err error) {
	have := make(map[string][]int, len(f.Tensors))
	for _, t := range f.Tensors {
		have[t.Name] = t.Shape
	}
	wanted := make(map[string]bool, len(want))
	var problems []string
	for _, s := range want {
		wanted[s.Name] = true
		shape, ok := have[s.Name]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s is missing", s.Name))
		case !slices.Equal(shape, s.Shape):
			problems = append(problems, fmt.Sprintf("%s is %v, this network needs %v", s.Name, shape, s.Shape))
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
