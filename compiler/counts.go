package compiler

import "github.com/wrnc/wrnc/compiler/ir"

// Params counts trainable parameters: conv and FC weights, FC bias, BN weight and bias; not
// running statistics.
func Params(p *ir.Program) int64 {
	var n int64
	for _, x := range p.Params {
		if x.Trainable() {
			n += int64(x.Size())
		}
	}
	return n
}

// MACs counts the multiply-accumulates of one forward pass of one image through the conv and
// FC layers. Shapes must have been inferred.
func MACs(p *ir.Program) int64 {
	var n int64
	for _, op := range p.Ops {
		n += OpMACs(p, op)
	}
	return n
}

// OpMACs is the multiply-accumulates of one op for one image (0 outside conv and FC).
func OpMACs(p *ir.Program, op *ir.Op) int64 {
	switch op.Kind {
	case ir.OpConv:
		out := p.Values[op.Out].Shape
		ci := p.Values[op.In[0]].Shape[0]
		return int64(out[0]) * int64(out[1]) * int64(out[2]) * int64(ci) * int64(op.Kernel*op.Kernel)
	case ir.OpFC:
		w := p.ParamMap()[op.Params[0]].Shape
		return int64(w[0]) * int64(w[1])
	}
	return 0
}
