package codegen

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dave/jennifer/jen"
	"github.com/wrnc/wrnc/compiler/ir"
	"github.com/wrnc/wrnc/runtime/contract"
)

const rtContract = "github.com/wrnc/wrnc/runtime/contract"

// phaseFuncs emits the model.Program methods of the network: each a straight line of calls
// of the kernels the selection pass chose, on views of the arena named after the IR values
// they hold.
func phaseFuncs(p *ir.Program) (train, infer []jen.Code, err error) {
	e := &emitter{p: p, params: p.ParamMap()}
	tr, in, in1, step := p.Phase(contract.Train), p.Phase(contract.Infer), p.Phase(contract.Infer1), p.Phase(contract.Step)
	if tr == nil || in == nil || in1 == nil || step == nil {
		return nil, nil, fmt.Errorf("%s: the program has no train, infer, infer1 and step phases", p.Name)
	}
	state := jen.Id("s").Op("*").Qual(rtModel, "State")
	n := jen.Id("n").Int()
	images := jen.Id("x").Index().Float32()
	fwd, loss := tr.Steps[:tr.Backward-1], tr.Steps[tr.Backward-1]
	train = []jen.Code{
		jen.Comment("Prepare makes the transformed weights that a phase reads from the weights."),
		jen.Func().Params(jen.Id("net")).Id("Prepare").Params(state, jen.Id("ph").Qual(rtContract, "Phase")).Block(e.prepare(tr, in, in1)...),
		jen.Line(),
		jen.Comment("TrainForward runs the training-mode forward pass: batch statistics, dropout."),
		jen.Func().Params(jen.Id("net")).Id("TrainForward").Params(state, n, images).Index().Float32().Block(
			e.trainForward(tr, fwd)...),
		jen.Line(),
		jen.Comment("Loss is the softmax cross-entropy of the logits against labels, and its gradient."),
		jen.Func().Params(jen.Id("net")).Id("Loss").Params(state, jen.Id("n").Int(), jen.Id("labels").Index().Int32()).Params(jen.Qual(rtModel, "StepResult"), jen.Error()).Block(
			e.body(tr, []*ir.Step{loss}, nil, jen.Return(jen.Qual(rtModel, "StepResult").Values(jen.Dict{jen.Id("Loss"): jen.Id("loss"), jen.Id("Correct"): jen.Id("correct")}), jen.Err()))...),
		jen.Line(),
		jen.Comment("DLogits is the training arena's d loss / d logits."),
		jen.Func().Params(jen.Id("net")).Id("DLogits").Params(state, jen.Id("n").Int()).Index().Float32().Block(
			jen.Id("a").Op(":=").Id("s").Dot("Arena"),
			jen.Return(e.slice(tr, tr.DLogits, jen.Id("n"))),
		),
		jen.Line(),
		jen.Comment("TrainBackward writes the gradient of every trainable tensor from d loss / d logits."),
		jen.Func().Params(jen.Id("net")).Id("TrainBackward").Params(state, jen.Id("n").Int()).Block(e.backward(tr, tr.Steps[tr.Backward:])...),
		jen.Line(),
		jen.Comment("Update is the optimizer step: SGD, then the transforms of the new weights that training reads."),
		jen.Func().Params(jen.Id("net")).Id("Update").Params(state, jen.Id("h").Qual(rtModel, "Hyper")).Block(e.body(step, step.Steps, nil)...),
	}
	infer = []jen.Code{
		jen.Comment(fmt.Sprintf("Infer runs inference on up to %d images (running statistics, no dropout).", in.Batch)),
		jen.Func().Params(jen.Id("net")).Id("Infer").Params(state, n, images).Index().Float32().Block(
			e.inferBody(in)...),
		jen.Line(),
		jen.Comment("Infer1 runs inference on one image with a plan specialized for batch 1."),
		jen.Func().Params(jen.Id("net")).Id("Infer1").Params(state, images).Index().Float32().Block(
			e.inferBody(in1)...),
	}
	return train, infer, e.err
}

// trainForward copies the images into the training arena (the backward pass reads them
// again), then runs the forward steps.
func (e *emitter) trainForward(tr *ir.Phase, steps []*ir.Step) []jen.Code {
	e.ph = tr
	in, logits := e.view(tr.Input), e.view(tr.Logits)
	return e.body(tr, steps, []jen.Code{jen.Copy(jen.Id(in), jen.Id("x"))}, jen.Return(jen.Id(logits)))
}

// inferBody runs an inference phase and returns its logits.
func (e *emitter) inferBody(ph *ir.Phase) []jen.Code {
	e.ph = ph
	return e.body(ph, ph.Steps, nil, jen.Return(jen.Id(e.view(ph.Logits))))
}

type emitter struct {
	p      *ir.Program
	ph     *ir.Phase // the phase being emitted
	params map[string]*ir.Param
	err    error // the first step that could not be emitted

	// The function being emitted: the views its calls use, and whether they use the arena
	// and the kernel context.
	decls      []jen.Code
	declared   map[string]bool
	arena, ctx bool

	// ready, when set, makes body announce the gradients each step finishes
	// (model.State.GradsDone); grads are the gradients of the step being emitted.
	ready bool
	grads []string
}

// backward is the body of TrainBackward: its steps, each followed by s.GradsDone(lo)
// when the gradients from Grads[lo] on are all final after it (lo lower than before).
func (e *emitter) backward(tr *ir.Phase, steps []*ir.Step) []jen.Code {
	e.ready = true
	defer func() { e.ready = false }()
	return e.body(tr, steps, nil)
}

// readyCalls is, for the steps whose gradients are those of stepGrads, the position
// after which (index into the steps) to call s.GradsDone, and with which offset: a
// gradient is final after the last step that writes it, and Grads[lo:] once every
// trainable tensor from lo on is final.
func (e *emitter) readyCalls(stepGrads [][]string) map[int]int {
	last := map[string]int{}
	for i, gs := range stepGrads {
		for _, g := range gs {
			last[g] = i
		}
	}
	var trainable []*ir.Param // by decreasing offset
	for _, x := range e.p.Params {
		if x.Trainable() {
			trainable = append(trainable, x)
		}
	}
	slices.SortFunc(trainable, func(a, b *ir.Param) int { return b.Offset - a.Offset })
	calls := map[int]int{}
	done, lo := map[string]bool{}, -1
	for i, gs := range stepGrads {
		for _, g := range gs {
			if last[g] == i {
				done[g] = true
			}
		}
		k := 0
		for k < len(trainable) && done[trainable[k].Name] {
			k++
		}
		if k > 0 && (lo < 0 || trainable[k-1].Offset < lo) {
			lo = trainable[k-1].Offset
			calls[i] = lo
		}
	}
	return calls
}

// images is the image count of the phase being emitted: the variable n, or 1.
func (e *emitter) images() *jen.Statement {
	if e.ph.Kind == contract.Infer1 {
		return jen.Lit(1)
	}
	return jen.Id("n")
}

// prepare is the body of Prepare: the weights steps of each phase.
func (e *emitter) prepare(phases ...*ir.Phase) []jen.Code {
	var cases []jen.Code
	for _, ph := range phases {
		if len(ph.Prepare) == 0 {
			continue
		}
		body := e.body(ph, ph.Prepare, nil)
		cases = append(cases, jen.Case(jen.Qual(rtContract, titleCase(ph.Kind.String()))).Block(body...))
	}
	if len(cases) == 0 {
		return []jen.Code{jen.Comment("No method of this network reads transformed weights.")}
	}
	return []jen.Code{jen.Switch(jen.Id("ph")).Block(cases...)}
}

func titleCase(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// body calls steps on named views, declared first (only those the calls use); pre comes
// after the views and end last.
func (e *emitter) body(ph *ir.Phase, steps []*ir.Step, pre []jen.Code, end ...jen.Code) []jen.Code {
	e.ph, e.decls, e.declared, e.ctx = ph, nil, map[string]bool{}, false
	tail := append([]jen.Code(nil), pre...)
	var stepCode [][]jen.Code
	var stepGrads [][]string
	for _, st := range steps {
		e.grads = nil
		code := append([]jen.Code{jen.Comment(describe(e.p, st))}, e.step(st)...)
		stepCode, stepGrads = append(stepCode, code), append(stepGrads, e.grads)
	}
	var calls map[int]int
	if e.ready {
		calls = e.readyCalls(stepGrads)
	}
	for i, code := range stepCode {
		tail = append(tail, code...)
		if lo, ok := calls[i]; ok {
			tail = append(tail, jen.Id("s").Dot("GradsDone").Call(jen.Lit(lo)))
		}
	}
	tail = append(tail, end...)
	var out []jen.Code
	if e.arena {
		out = append(out, jen.Id("a").Op(":=").Id("s").Dot("Arena"))
	}
	if e.ctx {
		out = append(out, jen.Id("c").Op(":=").Id("s").Dot("Ctx"))
	}
	out = append(out, e.decls...)
	e.arena = false
	return append(out, tail...)
}

// declare adds the declaration of a view the first time it is used.
func (e *emitter) declare(name string, value jen.Code) *jen.Statement {
	if !e.declared[name] {
		e.declared[name] = true
		e.decls = append(e.decls, jen.Id(name).Op(":=").Add(value))
	}
	return jen.Id(name)
}

// kctx is the kernel context, s.Ctx.
func (e *emitter) kctx() jen.Code {
	e.ctx = true
	return jen.Id("c")
}

// param is the view of a parameter (trainable or statistics).
func (e *emitter) param(name string) jen.Code {
	x := e.params[name]
	from := "Params"
	if !x.Trainable() {
		from = "Stats"
	}
	return e.declare(paramView(name), jen.Id("s").Dot(from).Index(jen.Lit(x.Offset), jen.Lit(x.Offset+x.Size())))
}

// grad is the view of a parameter's gradient.
func (e *emitter) grad(name string) jen.Code {
	x := e.params[name]
	e.grads = append(e.grads, name)
	return e.declare(gradView(name), jen.Id("s").Dot("Grads").Index(jen.Lit(x.Offset), jen.Lit(x.Offset+x.Size())))
}

// view is the name of a buffer's view: its IR value's name, as a Go identifier.
func (e *emitter) view(b *ir.Buffer) string {
	if b.External && b == e.ph.Input {
		return "x"
	}
	return ident(b.Name)
}

func paramView(name string) string { return "p_" + ident(name) }
func gradView(name string) string  { return "g_" + ident(name) }

// ident turns an IR name into a Go identifier: "group0.block1.bn0.mean" becomes
// group0_block1_bn0_mean, "d.group0.block0.add" d_group0_block0_add.
func ident(name string) string {
	s := strings.NewReplacer(".", "_", "-", "_").Replace(name)
	switch s {
	case "a", "c", "n", "s", "x", "h", "ph", "labels", "loss", "correct", "err":
		s += "_"
	}
	return s
}

// slice is the arena slice of a buffer for images images.
func (e *emitter) slice(ph *ir.Phase, b *ir.Buffer, images *jen.Statement) jen.Code {
	var end jen.Code
	switch {
	case b.PerImage == 0:
		end = jen.Lit(b.Offset + b.Fixed)
	case ph.Kind == contract.Infer1:
		end = jen.Lit(b.Offset + b.PerImage + b.Fixed)
	default:
		end = jen.Lit(b.Offset + b.Fixed).Op("+").Add(images.Clone()).Op("*").Lit(b.PerImage)
	}
	return jen.Id("a").Index(jen.Lit(b.Offset), end)
}

// buf is the view of a buffer, or nil.
func (e *emitter) buf(b *ir.Buffer) jen.Code {
	switch {
	case b == nil:
		return jen.Nil()
	case b.External && b == e.ph.Input:
		return jen.Id("x")
	}
	e.arena = true
	return e.declare(e.view(b), e.slice(e.ph, b, e.images()))
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

func nnCall(name string, args ...jen.Code) jen.Code { return jen.Qual(rtNN, name).Call(args...) }
