package codegen

import (
	"fmt"

	"github.com/dave/jennifer/jen"
	"github.com/wrnc/wrnc/codegen/ptx"
	"github.com/wrnc/wrnc/compiler/ir"
	"github.com/wrnc/wrnc/runtime/contract"
)

const rtGPU = "github.com/wrnc/wrnc/runtime/gpu"

// GPUCode is a network's GPU code: the PTX module of its kernels for each target, and the
// Go declaration of its gpu.Program (the launches of every entry point).
type GPUCode struct {
	PTX     map[ptx.Target]string
	Entries []ptx.Entry
	Program []jen.Code
}

// mathOf is the math mode of a precision statement.
func mathOf(precision string) ptx.Math {
	switch precision {
	case "tf32":
		return ptx.TF32
	case "bf16":
		return ptx.BF16
	}
	return ptx.FP32
}

// GPU emits the kernels of every phase of p and the launch lists that run them. Inference
// at batch 1 reuses the kernels of inference at the compiled batch (their grids scale with
// the image count), with its own arena offsets. The training step is one list: the
// forward pass, the loss, the backward pass and the SGD update, so that weights,
// gradients, momentum and statistics stay on the device.
func GPU(p *ir.Program) (*GPUCode, error) {
	train, infer, infer1, step := p.Phase(contract.Train), p.Phase(contract.Infer), p.Phase(contract.Infer1), p.Phase(contract.Step)
	if p.Fused == nil || train == nil || infer == nil || infer1 == nil || step == nil {
		return nil, fmt.Errorf("%s: code generation for the %s family is not implemented yet", p.Name, p.Family)
	}
	g := &gpuEmitter{p: p, params: p.ParamMap(), math: mathOf(p.Precision), byName: map[string]bool{}}
	tf, err := g.launches("t", train, train.Steps[:train.Backward-1])
	if err != nil {
		return nil, err
	}
	loss, err := g.launches("t", train, train.Steps[train.Backward-1:train.Backward])
	if err != nil {
		return nil, err
	}
	update, err := g.launches("s", step, step.Steps[:1])
	if err != nil {
		return nil, err
	}
	tb, err := g.launches("t", train, train.Steps[train.Backward:])
	if err != nil {
		return nil, err
	}
	inf, err := g.launches("i", infer, infer.Steps)
	if err != nil {
		return nil, err
	}
	inf1, err := g.launches("i", infer1, infer1.Steps)
	if err != nil {
		return nil, err
	}
	code := &GPUCode{PTX: map[ptx.Target]string{}, Entries: g.entries}
	for _, t := range []ptx.Target{ptx.SM80, ptx.SM90} {
		text, err := ptx.Module(t, g.entries...)
		if err != nil {
			return nil, err
		}
		code.PTX[t] = text
	}
	trainStep := append(append(append(append([]launch(nil), tf...), loss...), tb...), update...)
	prog := jen.Dict{
		jen.Id("PTX"):           jen.Id("kernelsPTX"),
		jen.Id("TrainForward"):  launchList(tf),
		jen.Id("TrainBackward"): launchList(tb),
		jen.Id("TrainStep"):     launchList(trainStep),
		jen.Id("TrainDLogits"):  jen.Lit(int64(train.DLogits.Offset)),
		jen.Id("Infer"):         launchList(inf),
		jen.Id("Infer1"):        launchList(inf1),
		jen.Id("TrainLogits"):   jen.Lit(int64(train.Logits.Offset)),
		jen.Id("InferLogits"):   jen.Lit(int64(infer.Logits.Offset)),
		jen.Id("Infer1Logits"):  jen.Lit(int64(infer1.Logits.Offset)),
	}
	code.Program = []jen.Code{
		jen.Comment("kernelsPTX is the PTX module of every kernel of the network (sm_80, JIT-compiled for newer GPUs)."),
		jen.Comment("//go:embed kernels.ptx"),
		jen.Var().Id("kernelsPTX").String(),
		jen.Line(),
		jen.Comment("gpuProgram lists the kernel launches of every entry point of the network."),
		jen.Var().Id("gpuProgram").Op("=").Qual(rtGPU, "Program").Values(prog),
	}
	return code, nil
}

type gpuEmitter struct {
	p       *ir.Program
	params  map[string]*ir.Param
	math    ptx.Math
	entries []ptx.Entry
	byName  map[string]bool
}

// launch is a kernel to launch with its arguments bound by parameter name.
type launch struct {
	k    ptx.Kernel
	args []gpuArg
}

type gpuArg struct {
	space string // a gpu.Space constant
	off   int64
}

// launches emits the kernels of steps (named with prefix and the step's index, so that
// the phases of one kind share them) and binds their arguments.
func (g *gpuEmitter) launches(prefix string, ph *ir.Phase, steps []*ir.Step) ([]launch, error) {
	var out []launch
	for _, st := range steps {
		idx := 0
		for i, s := range ph.Steps {
			if s == st {
				idx = i
			}
		}
		entries, err := g.kernels(fmt.Sprintf("%s%03d_", prefix, idx), st)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", st.Name(), err)
		}
		bind := g.bindings(ph, st)
		for _, e := range entries {
			if !g.byName[e.Name] {
				g.byName[e.Name] = true
				g.entries = append(g.entries, e)
			}
			l := launch{k: e.Kernel}
			for _, name := range e.Params {
				a, ok := bind[name]
				if !ok {
					return nil, fmt.Errorf("kernel %s: no value for its parameter %s", e.Name, name)
				}
				l.args = append(l.args, a)
			}
			out = append(out, l)
		}
	}
	return out, nil
}

// kernels emits the kernels of one step.
func (g *gpuEmitter) kernels(name string, st *ir.Step) ([]ptx.Entry, error) {
	k := g.p
	var C, HW int
	if st.K != nil {
		shape := k.Values[st.K.In].Shape
		C, HW = shape[0], ir.Prod(shape[1:])
	}
	pre := ptx.Pre{On: st.Pre != nil && st.Kind != ir.SBNTrain && st.Kind != ir.SBNInfer, Drop: float32(st.Drop)}
	one := func(e ptx.Entry, err error) ([]ptx.Entry, error) { return []ptx.Entry{e}, err }
	switch st.Kind {
	case ir.SBNTrain:
		return one(ptx.BNTrain(name+"bn_train", C, HW))
	case ir.SBNInfer:
		return one(ptx.BNInfer(name+"bn_infer", C))
	case ir.SConvFwd:
		return one(ptx.ConvForward(name+"conv_fwd", g.conv(st.K), pre, st.Res != nil, g.math))
	case ir.SConvBwd:
		var out []ptx.Entry
		if st.DZ != nil {
			e, err := ptx.ConvBackwardData(name+"conv_dgrad", g.conv(st.K), st.Acc, g.math)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		e, err := ptx.ConvBackwardWeight(name+"conv_wgrad", g.conv(st.K), pre, g.math)
		return append(out, e), err
	case ir.SBNReLUBwd:
		return one(ptx.BNReLUBackward(name+"bnrelu_bwd", C, HW, ptx.Pre{On: true, Drop: float32(st.Drop)}, st.Acc))
	case ir.SHeadFwd:
		return one(ptx.HeadForward(name+"head_fwd", C, HW, k.Classes))
	case ir.SHeadBwd:
		fc, err := ptx.HeadBackwardFC(name+"head_fc_bwd", C, k.Classes)
		if err != nil {
			return nil, err
		}
		dz, err := ptx.HeadBackwardDz(name+"head_dz_bwd", C, HW, k.Classes)
		return []ptx.Entry{fc, dz}, err
	case ir.SLoss:
		return one(ptx.SoftmaxCE(name+"softmax_ce", k.Classes))
	case ir.SSGD:
		r := k.Recipe
		size := 0
		for _, x := range k.Params {
			if x.Trainable() {
				size += x.Size()
			}
		}
		return one(ptx.SGDStep(name+"sgd", size, ptx.SGD{Momentum: r.Momentum, Dampening: r.Dampening, WeightDecay: r.WeightDecay, Nesterov: r.Nesterov}))
	}
	return nil, fmt.Errorf("no kernel for step %s", st.Kind)
}

func (g *gpuEmitter) conv(k *ir.Kernel) contract.Conv {
	in, out := g.p.Values[k.In].Shape, g.p.Values[k.Out].Shape
	return contract.Conv{C: in[0], H: in[1], W: in[2], K: out[0], R: k.Op.Kernel, S: k.Op.Stride, P: k.Op.Pad, OH: out[1], OW: out[2]}
}

// bindings maps the kernel parameter names a step's kernels use to device buffers.
func (g *gpuEmitter) bindings(ph *ir.Phase, st *ir.Step) map[string]gpuArg {
	b := map[string]gpuArg{"n": {space: "Images"}}
	buf := func(x *ir.Buffer) gpuArg {
		switch {
		case x == ph.Input:
			return gpuArg{space: "Input"}
		}
		return gpuArg{space: "Arena", off: int64(x.Offset)}
	}
	param := func(name string, grad bool) gpuArg {
		x := g.params[name]
		switch {
		case grad:
			return gpuArg{space: "Grads", off: int64(x.Offset)}
		case x.Trainable():
			return gpuArg{space: "Params", off: int64(x.Offset)}
		}
		return gpuArg{space: "Stats", off: int64(x.Offset)}
	}
	set := func(name string, x *ir.Buffer) {
		if x != nil {
			b[name] = buf(x)
		}
	}
	set("x", st.X)
	set("res", st.Res)
	set("y", st.Y)
	set("logits", st.Y)
	set("pooled", st.Pooled)
	set("dy", st.DY)
	set("dlogits", st.DY)
	set("dz", st.DZ)
	set("dx", st.DX)
	if st.Pre != nil {
		set("mean", st.Pre.Mean)
		set("invstd", st.Pre.Invstd)
		set("scale", st.Pre.Scale)
		set("shift", st.Pre.Shift)
	}
	if st.Drop > 0 {
		b["seed"] = gpuArg{space: "DropSeed", off: int64(st.DropSeed)}
	}
	switch st.Kind {
	case ir.SLoss:
		b["labels"] = gpuArg{space: "Labels"}
		b["loss"], b["correct"] = gpuArg{space: "Loss"}, gpuArg{space: "Loss", off: int64(g.p.Batch)}
		return b
	case ir.SSGD:
		b["params"], b["grads"], b["buf"] = gpuArg{space: "Params"}, gpuArg{space: "Grads"}, gpuArg{space: "Momentum"}
		b["lr"], b["first"] = gpuArg{space: "LR"}, gpuArg{space: "First"}
		return b
	}
	ps := st.K.Op.Params
	switch st.K.Kind {
	case ir.KConv:
		b["w"], b["dw"] = param(ps[0], false), param(ps[0], true)
	case ir.KBN:
		b["gamma"], b["beta"] = param(ps[0], false), param(ps[1], false)
		b["runMean"], b["runVar"] = param(ps[2], false), param(ps[3], false)
		b["dgamma"], b["dbeta"] = param(ps[0], true), param(ps[1], true)
	case ir.KHead:
		b["fcW"], b["fcB"] = param(ps[0], false), param(ps[1], false)
		b["dfcW"], b["dfcB"] = param(ps[0], true), param(ps[1], true)
	}
	return b
}

// launchList is the []gpu.Launch literal of launches, one per line.
func launchList(ls []launch) jen.Code {
	items := make([]jen.Code, len(ls))
	for i, l := range ls {
		args := make([]jen.Code, len(l.args))
		for j, a := range l.args {
			kv := []any{"Space", jen.Qual(rtGPU, a.space)}
			if a.off != 0 {
				kv = append(kv, "Off", a.off)
			}
			args[j] = jen.Values(fields(kv...)...)
		}
		dims := func(d [3]int) jen.Code {
			return jen.Index(jen.Lit(3)).Int().Values(jen.Lit(d[0]), jen.Lit(d[1]), jen.Lit(d[2]))
		}
		items[i] = jen.Values(fields("Kernel", l.k.Name, "Grid", dims(l.k.Grid), "PerImage", l.k.PerImage,
			"Block", dims(l.k.Block), "Args", jen.Index().Qual(rtGPU, "Arg").Values(args...))...)
	}
	return jen.Index().Qual(rtGPU, "Launch").Custom(multiline, items...)
}
