package cli

import (
	"fmt"

	"github.com/wrnc/wrnc/runtime/ckpt"
	"github.com/wrnc/wrnc/runtime/data"
)

// zcaTensor names the ZCA whitening matrix in a checkpoint.
const zcaTensor = "__norm__.zca"

// normTensors are the normalization's tensors for a weights file: the ZCA matrix.
func normTensors(n *data.Norm) []ckpt.Tensor {
	if n.Kind != data.NormZCA {
		return nil
	}
	d := len(n.Mean)
	return []ckpt.Tensor{{Name: zcaTensor, Shape: []int{d, d}, Data: n.ZCA}}
}

// normFromWeights reads the normalization back from a weights file; nil when the file
// has none (weights trained elsewhere).
func normFromWeights(f *ckpt.File, input [3]int) (*data.Norm, error) {
	if _, ok := f.Meta[data.MetaNormKind]; !ok {
		return nil, nil
	}
	var zca []float32
	if t, ok := f.Get(zcaTensor); ok {
		if t.Dtype() != ckpt.F32 {
			return nil, fmt.Errorf("%s: tensor %s is %s; the ZCA whitening matrix is F32", f.Path, zcaTensor, t.Dtype())
		}
		zca = t.Data
	}
	n, err := data.NormFromMetadata(f.Meta, zca)
	if err != nil {
		return nil, fmt.Errorf("%s: the normalization in its metadata is unusable: %v", f.Path, err)
	}
	want, got := input[0], len(n.Mean)
	if n.Kind == data.NormZCA {
		want = input[0] * input[1] * input[2]
	}
	if n.Kind != data.NormScale && got != want {
		return nil, fmt.Errorf("%s: the %s normalization in its metadata has %d means, this network's input %dx%dx%d needs %d",
			f.Path, n.Kind, got, input[0], input[1], input[2], want)
	}
	return n, nil
}
