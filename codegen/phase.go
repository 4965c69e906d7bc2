package codegen

import (
	"fmt"

	"github.com/dave/jennifer/jen"
	"github.com/wrnc/wrnc/compiler/ir"
)

// phaseFuncs emits the model.Net methods of one phase.
func phaseFuncs(p *ir.Program, ph *ir.Phase) ([]jen.Code, error) {
	e := &emitter{p: p, ph: ph, params: p.ParamMap(), n: jen.Id("n")}
	code := e.methods()
	return code, e.err
}

func (e *emitter) methods() []jen.Code {
	ph := e.ph
	state := jen.Id("s").Op("*").Qual(rtModel, "State")
	images := jen.Id("x").Index().Float32()
	switch ph.Name {
	case "train":
		fwd := e.prologue()
		fwd = append(fwd, jen.Copy(e.buf(ph.Input), jen.Id("x")))
		fwd = append(fwd, e.steps(ph.Steps[:ph.Backward])...)
		fwd = append(fwd, jen.Return(e.buf(ph.Logits)))
		bwd := e.prologue()
		bwd = append(bwd, e.steps(ph.Steps[ph.Backward:])...)
		return []jen.Code{
			jen.Comment("TrainForward runs the training-mode forward pass: batch statistics, dropout."),
			jen.Func().Params(jen.Id("net")).Id("TrainForward").Params(state, jen.Id("n").Int(), images).Index().Float32().Block(fwd...),
			jen.Line(),
			jen.Comment("TrainBackward writes the gradient of every trainable tensor from d loss / d logits."),
			jen.Func().Params(jen.Id("net")).Id("TrainBackward").Params(state, jen.Id("n").Int(), jen.Id("dlogits").Index().Float32()).Block(bwd...),
		}
	case "infer":
		body := append(e.prologue(), e.steps(ph.Steps)...)
		body = append(body, jen.Return(e.buf(ph.Logits)))
		return []jen.Code{
			jen.Comment(fmt.Sprintf("Infer runs inference on up to %d images (running statistics, no dropout).", ph.Batch)),
			jen.Func().Params(jen.Id("net")).Id("Infer").Params(state, jen.Id("n").Int(), images).Index().Float32().Block(body...),
		}
	default: // infer1
		e.n = jen.Lit(1)
		body := append(e.prologue(), e.steps(ph.Steps)...)
		body = append(body, jen.Return(e.buf(ph.Logits)))
		return []jen.Code{
			jen.Comment("Infer1 runs inference on one image with a plan specialized for batch 1."),
			jen.Func().Params(jen.Id("net")).Id("Infer1").Params(state, images).Index().Float32().Block(body...),
		}
	}
}

type emitter struct {
	p      *ir.Program
	ph     *ir.Phase
	params map[string]*ir.Param
	n      *jen.Statement // the image count: the variable n, or 1
	err    error          // the first step that could not be emitted
}

func (e *emitter) prologue() []jen.Code {
	return []jen.Code{
		jen.Id("a").Op(":=").Id("s").Dot("Arena").Index(jen.Empty(), jen.Lit(e.ph.Peak)),
		jen.Id("c").Op(":=").Id("s").Dot("Ctx"),
		jen.Comment("The weights change only with Step (model.State), so transformed weights cached under it stay valid."),
		jen.Id("c").Dot("SetWeightsVersion").Call(jen.Id("s").Dot("Step").Op("+").Lit(1)),
	}
}

// buf is the slice of a buffer: the caller's slice for external ones, else the arena.
func (e *emitter) buf(b *ir.Buffer) jen.Code {
	switch {
	case b == nil:
		return jen.Nil()
	case b.External && b == e.ph.Input:
		return jen.Id("x")
	case b.External:
		return jen.Id("dlogits")
	}
	var end jen.Code
	switch {
	case b.PerImage == 0:
		end = jen.Lit(b.Offset + b.Fixed)
	case e.ph.Name == "infer1":
		end = jen.Lit(b.Offset + b.PerImage + b.Fixed)
	default:
		end = jen.Lit(b.Offset).Op("+").Add(e.n.Clone()).Op("*").Lit(b.PerImage)
		if b.Fixed > 0 {
			end = jen.Lit(b.Offset + b.Fixed).Op("+").Add(e.n.Clone()).Op("*").Lit(b.PerImage)
		}
	}
	return jen.Id("a").Index(jen.Lit(b.Offset), end)
}

// param is the slice of a parameter (trainable or statistics), or of its gradient.
func (e *emitter) param(name string, grad bool) jen.Code {
	x := e.params[name]
	from := "Params"
	switch {
	case grad:
		from = "Grads"
	case !x.Trainable():
		from = "Stats"
	}
	return jen.Id("s").Dot(from).Index(jen.Lit(x.Offset), jen.Lit(x.Offset+x.Size()))
}

// pre is the *nn.Pre of a step, or nil.
func (e *emitter) pre(st *ir.Step) jen.Code {
	if st.Pre == nil {
		return jen.Nil()
	}
	kv := []any{"Scale", e.buf(st.Pre.Scale), "Shift", e.buf(st.Pre.Shift)}
	if st.Drop > 0 {
		kv = append(kv, "Drop", jen.Lit(float32(st.Drop)),
			"Seed", jen.Qual(rtNN, "DropSeed").Call(jen.Id("s").Dot("Seed"), jen.Id("s").Dot("Step"), jen.Lit(st.DropSeed)))
	}
	return jen.Op("&").Qual(rtNN, "Pre").Values(fields(kv...)...)
}

func (e *emitter) steps(steps []*ir.Step) []jen.Code {
	var out []jen.Code
	for _, st := range steps {
		out = append(out, jen.Comment(describe(e.p, st)), e.step(st))
	}
	return out
}

func (e *emitter) step(st *ir.Step) jen.Code {
	k := e.p
	nn := func(name string, args ...jen.Code) jen.Code { return jen.Qual(rtNN, name).Call(args...) }
	switch st.Kind {
	case ir.SBNTrain, ir.SBNInfer:
		ps := st.K.Op.Params
		shape := k.Values[st.K.In].Shape
		bn := []jen.Code{e.param(ps[0], false), e.param(ps[1], false), e.param(ps[2], false), e.param(ps[3], false)}
		if st.Kind == ir.SBNInfer {
			return nn("BNInfer", append(append([]jen.Code{jen.Lit(shape[0])}, bn...), e.buf(st.Pre.Scale), e.buf(st.Pre.Shift))...)
		}
		args := []jen.Code{jen.Id("c"), e.n.Clone(), jen.Lit(shape[0]), jen.Lit(ir.Prod(shape[1:])), e.buf(st.X)}
		args = append(append(args, bn...), e.buf(st.Pre.Mean), e.buf(st.Pre.Invstd), e.buf(st.Pre.Scale), e.buf(st.Pre.Shift))
		return nn("BNTrain", args...)
	case ir.SConvFwd:
		return nn("ConvForward", jen.Id("c"), e.n.Clone(), e.conv(st.K), e.buf(st.X),
			e.param(st.K.Op.Params[0], false), e.pre(st), e.buf(st.Res), e.buf(st.Y))
	case ir.SConvBwd:
		return nn("ConvBackward", jen.Id("c"), e.n.Clone(), e.conv(st.K), e.buf(st.X),
			e.param(st.K.Op.Params[0], false), e.pre(st), e.buf(st.DY), e.param(st.K.Op.Params[0], true), e.buf(st.DZ), jen.Lit(st.Acc))
	case ir.SBNReLUBwd:
		ps := st.K.Op.Params
		shape := k.Values[st.K.In].Shape
		return nn("BNReLUBackward", jen.Id("c"), e.n.Clone(), jen.Lit(shape[0]), jen.Lit(ir.Prod(shape[1:])), e.buf(st.X),
			e.buf(st.Pre.Mean), e.buf(st.Pre.Invstd), e.param(ps[0], false), e.pre(st), e.buf(st.DZ), e.buf(st.DX), jen.Lit(st.Acc),
			e.param(ps[0], true), e.param(ps[1], true))
	case ir.SHeadFwd:
		shape := k.Values[st.K.In].Shape
		ps := st.K.Op.Params
		return nn("HeadForward", jen.Id("c"), e.n.Clone(), jen.Lit(shape[0]), jen.Lit(ir.Prod(shape[1:])), jen.Lit(k.Classes),
			e.buf(st.X), e.buf(st.Pre.Scale), e.buf(st.Pre.Shift), e.param(ps[0], false), e.param(ps[1], false), e.buf(st.Pooled), e.buf(st.Y))
	case ir.SHeadBwd:
		shape := k.Values[st.K.In].Shape
		ps := st.K.Op.Params
		return nn("HeadBackward", jen.Id("c"), e.n.Clone(), jen.Lit(shape[0]), jen.Lit(ir.Prod(shape[1:])), jen.Lit(k.Classes),
			e.buf(st.Pooled), e.param(ps[0], false), e.buf(st.DY), e.param(ps[0], true), e.param(ps[1], true), e.buf(st.DZ))
	}
	e.err = fmt.Errorf("%s: no code for step %s", st.K.Name, st.Kind)
	return jen.Null()
}

// conv is a pointer to the kernel's entry of the convs table.
func (e *emitter) conv(k *ir.Kernel) jen.Code {
	i := 0
	for _, x := range e.p.Fused {
		if x == k {
			break
		}
		if x.Kind == ir.KConv {
			i++
		}
	}
	return jen.Op("&").Id("convs").Index(jen.Lit(i))
}

// describe is the comment above a step: the layer and what is fused into it.
func describe(p *ir.Program, st *ir.Step) string {
	k := st.K
	s := fmt.Sprintf("%s: %s", k.Name, st.Kind)
	if k.Kind == ir.KConv {
		in, out := p.Values[k.In].Shape, p.Values[k.Out].Shape
		s += fmt.Sprintf(" %dx%d/%d, %v -> %v", k.Op.Kernel, k.Op.Kernel, k.Op.Stride, in, out)
	}
	if k.Pre != nil && st.Kind != ir.SBNTrain && st.Kind != ir.SBNInfer {
		s += ", BN-ReLU " + k.Pre.Name + " on load"
	}
	if st.Drop > 0 {
		s += fmt.Sprintf(", dropout %g", st.Drop)
	}
	if k.Res >= 0 && st.Kind == ir.SConvFwd {
		s += ", residual " + p.Values[k.Res].Name + " added on store"
	}
	return s
}
