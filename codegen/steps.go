package codegen

import (
	"fmt"

	"github.com/dave/jennifer/jen"
	"github.com/wrnc/wrnc/compiler/ir"
	"github.com/wrnc/wrnc/runtime/contract"
)

// step emits the kernel calls of one step: the entry point of the method the selection
// pass chose, with the step's views as arguments.
func (e *emitter) step(st *ir.Step) []jen.Code {
	p := e.p
	one := func(c jen.Code) []jen.Code { return []jen.Code{c} }
	n := e.images()
	switch st.Kind {
	case ir.SBNTrain, ir.SBNInfer:
		ps := st.K.Op.Params
		shape := p.Values[st.K.In].Shape
		bn := []jen.Code{e.param(ps[0]), e.param(ps[1]), e.param(ps[2]), e.param(ps[3])}
		if st.Kind == ir.SBNInfer {
			return one(nnCall("BNInfer", append(append([]jen.Code{jen.Lit(shape[0])}, bn...), e.buf(st.Pre.Scale), e.buf(st.Pre.Shift))...))
		}
		args := []jen.Code{e.kctx(), n, jen.Lit(shape[0]), jen.Lit(ir.Prod(shape[1:])), e.buf(st.X)}
		args = append(append(args, bn...), e.buf(st.Pre.Mean), e.buf(st.Pre.Invstd), e.buf(st.Pre.Scale), e.buf(st.Pre.Shift))
		return one(nnCall("BNTrain", args...))
	case ir.SFold:
		ps := st.K.Op.Params
		c := p.Conv(st.Conv)
		var wf jen.Code = jen.Nil() // the transforms of the phase's methods fold as they go
		if e.readsFolded(st.W) {
			wf = e.buf(st.W)
		}
		return one(nnCall("FoldBN", jen.Lit(c.K), jen.Lit(c.C*c.R*c.R), e.param(ps[0]), e.param(ps[1]), e.param(ps[2]), e.param(ps[3]),
			e.param(st.Conv.Op.Params[0]), wf, e.buf(st.Pre.Scale), e.buf(st.Pre.Shift)))
	case ir.SConvFwd:
		return one(e.convForward(st))
	case ir.SConvBwd:
		return e.convBackward(st)
	case ir.SWeights:
		return one(e.weights(st))
	case ir.SBNReLUBwd:
		ps := st.K.Op.Params
		shape := p.Values[st.K.In].Shape
		return one(nnCall("BNReLUBackward", e.kctx(), n, jen.Lit(shape[0]), jen.Lit(ir.Prod(shape[1:])), e.buf(st.X),
			e.buf(st.Pre.Mean), e.buf(st.Pre.Invstd), e.param(ps[0]), e.pre(st), e.buf(st.DZ), e.buf(st.DX), jen.Lit(st.Acc),
			e.grad(ps[0]), e.grad(ps[1])))
	case ir.SBNBwd:
		ps := st.K.Op.Params
		shape := p.Values[st.K.In].Shape
		return one(nnCall("BNBackward", e.kctx(), n, jen.Lit(shape[0]), jen.Lit(ir.Prod(shape[1:])), e.buf(st.X),
			e.buf(st.Pre.Mean), e.buf(st.Pre.Invstd), e.param(ps[0]), e.buf(st.DZ), e.buf(st.DX), jen.Lit(st.Acc),
			e.grad(ps[0]), e.grad(ps[1])))
	case ir.SPoolFwd:
		return one(nnCall("MaxPoolForward", e.kctx(), n, jen.Op("&").Id(poolVar(st.K)), e.buf(st.X), e.pre(st), e.buf(st.Y)))
	case ir.SPoolBwd:
		return one(nnCall("MaxPoolBackward", e.kctx(), n, jen.Op("&").Id(poolVar(st.K)), e.buf(st.X), e.pre(st), e.buf(st.DY), e.buf(st.DZ)))
	case ir.SAddFwd:
		shape := p.Values[st.K.In].Shape
		var rscale, rshift jen.Code = jen.Nil(), jen.Nil()
		if st.ResPre != nil {
			rscale, rshift = e.buf(st.ResPre.Scale), e.buf(st.ResPre.Shift)
		}
		return one(nnCall("AddReLUForward", e.kctx(), n, jen.Lit(shape[0]), jen.Lit(ir.Prod(shape[1:])), e.buf(st.X),
			e.buf(st.Pre.Scale), e.buf(st.Pre.Shift), e.buf(st.Res), rscale, rshift, e.buf(st.Y)))
	case ir.SAddBwd:
		shape := p.Values[st.K.Out].Shape
		return one(nnCall("AddReLUBackward", e.kctx(), n, jen.Lit(shape[0]), jen.Lit(ir.Prod(shape[1:])), e.buf(st.Y), e.buf(st.DY), e.buf(st.DZ)))
	case ir.SHeadFwd:
		shape := p.Values[st.K.In].Shape
		ps := st.K.Op.Params
		var scale, shift jen.Code = jen.Nil(), jen.Nil()
		if st.Pre != nil {
			scale, shift = e.buf(st.Pre.Scale), e.buf(st.Pre.Shift)
		}
		return one(nnCall("HeadForward", e.kctx(), n, jen.Lit(shape[0]), jen.Lit(ir.Prod(shape[1:])), jen.Lit(p.Classes),
			e.buf(st.X), scale, shift, e.param(ps[0]), e.param(ps[1]), e.buf(st.Pooled), e.buf(st.Y)))
	case ir.SHeadBwd:
		shape := p.Values[st.K.In].Shape
		ps := st.K.Op.Params
		return one(nnCall("HeadBackward", e.kctx(), n, jen.Lit(shape[0]), jen.Lit(ir.Prod(shape[1:])), jen.Lit(p.Classes),
			e.buf(st.Pooled), e.param(ps[0]), e.buf(st.DY), e.grad(ps[0]), e.grad(ps[1]), e.buf(st.DZ)))
	case ir.SLoss:
		return one(jen.List(jen.Id("loss"), jen.Id("correct"), jen.Err()).Op(":=").Add(
			nnCall("SoftmaxCE", n, jen.Lit(p.Classes), e.buf(st.Y), jen.Id("labels"), e.buf(st.DY))))
	case ir.SSGD:
		s := jen.Id("s")
		return one(nnCall("SGDStep", e.kctx(), s.Clone().Dot("Params"), s.Clone().Dot("Grads"), s.Clone().Dot("Momentum"),
			jen.Qual(rtNN, "SGDArgs").Call(jen.Id("h")), jen.Op("!").Add(s.Clone().Dot("Started"))))
	}
	e.err = fmt.Errorf("%s: no code for step %s", st.Name(), st.Kind)
	return nil
}

// convForward calls the forward entry point of the step's method.
func (e *emitter) convForward(st *ir.Step) jen.Code {
	args := []jen.Code{e.kctx(), e.images(), e.conv(st.K)}
	w := func() jen.Code { return e.weightsOf(st) }
	switch st.Sel.Method {
	case contract.Winograd:
		return nnCall("WinogradForward", append(args, jen.Lit(st.Sel.Tile), e.buf(st.X), e.buf(st.Derived), e.pre(st), e.buf(st.Res), e.buf(st.Y))...)
	case contract.Im2row:
		return nnCall("Im2rowForward", append(args, e.buf(st.X), e.buf(st.Derived), e.pre(st), e.buf(st.Res), e.buf(st.Y))...)
	case contract.Im2col:
		return nnCall("Im2colForward", append(args, e.buf(st.X), w(), e.pre(st), e.buf(st.Res), e.buf(st.Y))...)
	case contract.Pointwise:
		return nnCall("PointwiseForward", append(args, e.buf(st.X), w(), e.pre(st), e.buf(st.Res), e.buf(st.Y))...)
	}
	e.err = fmt.Errorf("%s: no forward entry point for %s", st.Name(), st.Sel)
	return jen.Null()
}

// convBackward calls the backward entry points of the step's methods: Winograd's input and
// weight gradients are separate calls; the other methods compute both in one, or the one
// Winograd does not take.
func (e *emitter) convBackward(st *ir.Step) []jen.Code {
	k := st.K
	w := k.Op.Params[0]
	var out []jen.Code
	dw, dz := e.grad(w), e.buf(st.DZ)
	head := func() []jen.Code { return []jen.Code{e.kctx(), e.images(), e.conv(k)} }
	if st.WSel.Method == contract.Winograd {
		out = append(out, nnCall("WinogradWgrad", append(head(), jen.Lit(st.WSel.Tile), e.buf(st.X), e.pre(st), e.buf(st.DY), dw)...))
		dw = jen.Nil()
	}
	if st.DZ != nil && st.Sel.Method == contract.Winograd {
		out = append(out, nnCall("WinogradDgrad", append(head(), jen.Lit(st.Sel.Tile), e.buf(st.Derived), e.buf(st.DY), dz, jen.Lit(st.Acc))...))
		dz = jen.Nil()
	}
	if st.WSel.Method == contract.Winograd && (st.DZ == nil || st.Sel.Method == contract.Winograd) {
		return out
	}
	method := st.WSel.Method
	if method == contract.Winograd {
		method = st.Sel.Method
	}
	switch method {
	case contract.Im2row:
		var wk jen.Code = jen.Nil()
		if st.DZ != nil {
			wk = e.buf(st.Derived)
		}
		return append(out, nnCall("Im2rowBackward", append(head(), e.buf(st.X), wk, e.pre(st), e.buf(st.DY), dw, dz, jen.Lit(st.Acc))...))
	case contract.Im2col:
		return append(out, nnCall("Im2colBackward", append(head(), e.buf(st.X), e.param(w), e.pre(st), e.buf(st.DY), dw, dz, jen.Lit(st.Acc))...))
	case contract.Pointwise:
		return append(out, nnCall("PointwiseBackward", append(head(), e.buf(st.X), e.param(w), e.pre(st), e.buf(st.DY), dw, dz, jen.Lit(st.Acc))...))
	}
	e.err = fmt.Errorf("%s: no backward entry point for %s / %s", st.Name(), st.Sel, st.WSel)
	return out
}

// weightsOf is the weights a conv-fwd step reads: its conv's, or those with a BN folded in.
func (e *emitter) weightsOf(st *ir.Step) jen.Code {
	if st.W != nil {
		return e.buf(st.W)
	}
	return e.param(st.K.Op.Params[0])
}

// readsFolded reports whether a step of the phase being emitted reads the folded weights w
// as they are (a method without a transform); the CPU's transforms of folded weights scale
// the conv's own weights as they transform them, and w stays untouched.
func (e *emitter) readsFolded(w *ir.Buffer) bool {
	for _, st := range e.ph.Steps {
		if st.Kind == ir.SConvFwd && st.W == w && st.Derived == nil {
			return true
		}
	}
	return false
}

// weights calls the transform that makes a derived buffer from a conv's weights, or from
// them with the BN of the phase's fold of st.W folded in.
func (e *emitter) weights(st *ir.Step) jen.Code {
	w := e.param(st.K.Op.Params[0])
	if st.W != nil {
		var fold *ir.Step
		for _, f := range e.ph.Prepare {
			if f.Kind == ir.SFold && f.W == st.W {
				fold = f
			}
		}
		switch {
		case fold == nil:
			e.err = fmt.Errorf("%s: no fold makes %s", st.Name(), st.W.Name)
		case st.Sel.Method == contract.WeightsWino && !st.Dgrad:
			ps := fold.K.Op.Params
			return nnCall("WinogradWeightsFolded", e.kctx(), e.conv(st.K), jen.Lit(st.Sel.Tile), e.param(ps[0]), e.param(ps[3]), w, e.buf(st.Derived))
		case st.Sel.Method == contract.WeightsRow && !st.Dgrad:
			ps := fold.K.Op.Params
			return nnCall("RowWeightsFolded", e.kctx(), e.conv(st.K), e.param(ps[0]), e.param(ps[3]), w, e.buf(st.Derived))
		default:
			e.err = fmt.Errorf("%s: no transform %s of folded weights", st.Name(), st.Sel)
		}
		return jen.Null()
	}
	switch {
	case st.Sel.Method == contract.WeightsWino:
		return nnCall("WinogradWeights", e.kctx(), e.conv(st.K), jen.Lit(st.Sel.Tile), jen.Lit(st.Dgrad), w, e.buf(st.Derived))
	case st.Sel.Method == contract.WeightsRow && st.Dgrad:
		return nnCall("RowWeightsT", e.kctx(), e.conv(st.K), w, e.buf(st.Derived))
	case st.Sel.Method == contract.WeightsRow:
		return nnCall("RowWeights", e.kctx(), e.conv(st.K), w, e.buf(st.Derived))
	}
	e.err = fmt.Errorf("%s: no transform %s", st.Name(), st.Sel)
	return jen.Null()
}

// conv is a pointer to the shape of conv kernel k, a package variable named after it.
func (e *emitter) conv(k *ir.Kernel) jen.Code {
	return jen.Op("&").Id(convVar(k))
}

func convVar(k *ir.Kernel) string { return "conv_" + ident(k.Name) }

func poolVar(k *ir.Kernel) string { return "pool_" + ident(k.Name) }

// describe is the comment above a step: the layer, its method and what is fused into it.
func describe(p *ir.Program, st *ir.Step) string {
	k := st.K
	if k == nil {
		return fmt.Sprintf("%s: %s of every trainable tensor", st.Kind, st.Sel)
	}
	s := fmt.Sprintf("%s: %s", k.Name, st.Kind)
	switch st.Kind {
	case ir.SConvFwd:
		s += " by " + st.Sel.String()
	case ir.SConvBwd:
		if st.DZ != nil {
			s += fmt.Sprintf(" (input gradient by %s, weight gradient by %s)", st.Sel, st.WSel)
		} else {
			s += fmt.Sprintf(" (weight gradient by %s)", st.WSel)
		}
	case ir.SWeights:
		what := "forward"
		if st.Dgrad {
			what = "input gradient"
		}
		if st.W != nil {
			what += ", of " + st.W.Name
		}
		return fmt.Sprintf("%s: %s for the %s", k.Name, st.Sel, what)
	case ir.SFold:
		return fmt.Sprintf("%s: running statistics folded into %s (scaled weights %s; the bias %s applied where it is loaded)",
			k.Name, st.Conv.Name, st.W.Name, st.Pre.Shift.Name)
	case ir.SLoss:
		return "loss: " + st.Sel.String()
	}
	if k.Kind == ir.KConv && st.Kind != ir.SWeights {
		in, out := p.Values[k.In].Shape, p.Values[k.Out].Shape
		s += fmt.Sprintf(", %dx%d/%d, %v -> %v", k.Op.Kernel, k.Op.Kernel, k.Op.Stride, in, out)
	}
	switch {
	case k.Kind == ir.KAddReLU && st.Kind == ir.SAddFwd:
		s += ", ReLU(" + k.Pre.Name + "(" + p.Values[k.In].Name + ") + "
		if k.ResPre != nil {
			s += k.ResPre.Name + "(" + p.Values[k.Res].Name + "))"
		} else {
			s += p.Values[k.Res].Name + ")"
		}
	case k.Kind == ir.KPool && st.Kind == ir.SPoolFwd:
		s += fmt.Sprintf(", %dx%d/%d pad %d, %v -> %v", k.Op.Kernel, k.Op.Kernel, k.Op.Stride, k.Op.Pad, p.Values[k.In].Shape, p.Values[k.Out].Shape)
	}
	if k.Pre != nil && k.Kind != ir.KAddReLU && st.Kind != ir.SBNTrain && st.Kind != ir.SBNInfer && st.Kind != ir.SBNBwd {
		s += ", BN-ReLU " + k.Pre.Name + " on load"
	}
	if st.Drop > 0 {
		s += fmt.Sprintf(", dropout %g", st.Drop)
	}
	if k.Res >= 0 && st.Kind == ir.SConvFwd {
		s += ", residual " + p.Values[k.Res].Name + " added on store"
	}
	if st.W != nil && st.Kind == ir.SConvFwd {
		s += ", its BN folded into the weights"
	}
	return s
}
