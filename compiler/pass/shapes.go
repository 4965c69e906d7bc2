package pass

import (
	"fmt"
	"slices"

	"github.com/wrnc/wrnc/compiler/ir"
)

// InferShapes gives every value its per-image shape, from the input shape and each op's
// attributes, and checks that parameters fit the values they apply to.
func InferShapes(p *ir.Program) error {
	params := p.ParamMap()
	for _, op := range p.Ops {
		in := make([][]int, len(op.In))
		for i, id := range op.In {
			in[i] = p.Values[id].Shape
		}
		shape, err := opShape(p, op, in, params)
		if err != nil {
			return fmt.Errorf("%s (%s): %w", op.Name, op.Kind, err)
		}
		if shape[len(shape)-1] < 1 || (len(shape) == 3 && shape[1] < 1) {
			return fmt.Errorf("%s (%s): output %v is empty", op.Name, op.Kind, shape)
		}
		p.Values[op.Out].Shape = shape
	}
	return nil
}

func opShape(p *ir.Program, op *ir.Op, in [][]int, params map[string]*ir.Param) ([]int, error) {
	switch op.Kind {
	case ir.OpInput:
		return p.Input[:], nil
	case ir.OpConv:
		w := params[op.Params[0]].Shape
		x := in[0]
		if len(x) != 3 || w[1] != x[0] {
			return nil, fmt.Errorf("weight %v does not fit input %v", w, x)
		}
		return []int{w[0], outSize(x[1], op.Kernel, op.Stride, op.Pad), outSize(x[2], op.Kernel, op.Stride, op.Pad)}, nil
	case ir.OpBN, ir.OpBNReLU:
		for _, name := range op.Params {
			if s := params[name].Shape; len(s) != 1 || s[0] != in[0][0] {
				return nil, fmt.Errorf("%s %v does not fit input %v", name, s, in[0])
			}
		}
		return slices.Clone(in[0]), nil
	case ir.OpReLU, ir.OpDropout:
		return slices.Clone(in[0]), nil
	case ir.OpAdd:
		if !slices.Equal(in[0], in[1]) {
			return nil, fmt.Errorf("adds %v and %v", in[0], in[1])
		}
		return slices.Clone(in[0]), nil
	case ir.OpMaxPool:
		x := in[0]
		return []int{x[0], outSize(x[1], op.Kernel, op.Stride, op.Pad), outSize(x[2], op.Kernel, op.Stride, op.Pad)}, nil
	case ir.OpAvgPool:
		return []int{in[0][0]}, nil
	case ir.OpFC:
		w := params[op.Params[0]].Shape
		if len(in[0]) != 1 || w[1] != in[0][0] {
			return nil, fmt.Errorf("weight %v does not fit input %v", w, in[0])
		}
		return []int{w[0]}, nil
	}
	return nil, fmt.Errorf("no shape rule for op kind %q", op.Kind)
}

// outSize is the output size of a window of size k, stride s and padding pad over n.
func outSize(n, k, s, pad int) int { return (n+2*pad-k)/s + 1 }
