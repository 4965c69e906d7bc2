package codegen

import (
	"fmt"
	"strings"

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
		return nil, fmt.Errorf("%s: the program has no kernels or phases (run the compiler's passes first)", p.Name)
	}
	g := &gpuEmitter{p: p, params: p.ParamMap(), math: mathOf(p.Precision), byName: map[string]string{}}
	tf, err := g.launches(train, train.Steps[:train.Backward-1])
	if err != nil {
		return nil, err
	}
	loss, err := g.launches(train, train.Steps[train.Backward-1:train.Backward])
	if err != nil {
		return nil, err
	}
	update, err := g.launches(step, step.Steps[:1])
	if err != nil {
		return nil, err
	}
	tb, err := g.launches(train, train.Steps[train.Backward:])
	if err != nil {
		return nil, err
	}
	inf, err := g.launches(infer, infer.Steps)
	if err != nil {
		return nil, err
	}
	inf1, err := g.launches(infer1, infer1.Steps)
	if err != nil {
		return nil, err
	}
	// The BN folds of inference (the other prepare steps transform weights for the CPU's
	// methods; the GPU's kernels read the weights, or the folded weights, as they are).
	var folds []*ir.Step
	for _, st := range infer.Prepare {
		if st.Kind == ir.SFold {
			folds = append(folds, st)
		}
	}
	fold, err := g.launches(infer, folds)
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
	if len(fold) > 0 {
		prog[jen.Id("Fold")] = launchList(fold)
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
	byName  map[string]string // the PTX of each kernel emitted, by name
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

// launches emits the kernels of steps and binds their arguments. A kernel is named by
// what it computes (kernelNames), so that steps of any phase that compute the same thing
// share one entry of the module; two entries of one name must be the same PTX.
func (g *gpuEmitter) launches(ph *ir.Phase, steps []*ir.Step) ([]launch, error) {
	var out []launch
	for _, st := range steps {
		entries, err := g.kernels(st)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", st.Name(), err)
		}
		bind := g.bindings(ph, st)
		for _, e := range entries {
			if prev, ok := g.byName[e.Name]; !ok {
				g.byName[e.Name] = e.PTX
				g.entries = append(g.entries, e)
			} else if prev != e.PTX {
				return nil, fmt.Errorf("%s: two different kernels are both named %s", st.Name(), e.Name)
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

// convName is the part of a kernel's name that its convolution's shape makes.
func convName(c contract.Conv) string {
	return fmt.Sprintf("c%d_h%d_w%d_k%d_r%d_s%d_p%d", c.C, c.H, c.W, c.K, c.R, c.S, c.P)
}

// preName is the part of a kernel's name that its load through a BN-ReLU makes.
func preName(p ptx.Pre) string {
	switch {
	case p.Drop > 0:
		return "_bnrelu_drop" + strings.ReplaceAll(fmt.Sprint(p.Drop), ".", "p")
	case p.On:
		return "_bnrelu"
	}
	return ""
}

func flag(on bool, s string) string {
	if on {
		return s
	}
	return ""
}

// checked returns the kernel of a GEMM after checking that its launch is the one the
// selection pass recorded.
func (g *gpuEmitter) checked(sel contract.Selection) func(ptx.Entry, error) ([]ptx.Entry, error) {
	return func(e ptx.Entry, err error) ([]ptx.Entry, error) {
		if err != nil {
			return nil, err
		}
		if e.Grid != sel.Grid || e.PerImage != sel.PerImage || e.Threads() != sel.Threads {
			return nil, fmt.Errorf("kernel %s launches %v x %d threads (per image %t), the selection says %v x %d (per image %t)",
				e.Name, e.Grid, e.Threads(), e.PerImage, sel.Grid, sel.Threads, sel.PerImage)
		}
		return []ptx.Entry{e}, nil
	}
}

// kernels emits the kernels of one step, each named by everything that shapes its body.
func (g *gpuEmitter) kernels(st *ir.Step) ([]ptx.Entry, error) {
	k := g.p
	var C, HW int
	if st.K != nil {
		shape := k.Values[st.K.In].Shape
		C, HW = shape[0], ir.Prod(shape[1:])
	}
	pre := ptx.Pre{On: st.Pre != nil && st.Kind != ir.SBNTrain && st.Kind != ir.SBNInfer && st.Kind != ir.SBNBwd && st.Kind != ir.SAddFwd,
		Drop: float32(st.Drop)}
	one := func(e ptx.Entry, err error) ([]ptx.Entry, error) { return []ptx.Entry{e}, err }
	math := g.math.String()
	switch st.Kind {
	case ir.SBNTrain:
		return one(ptx.BNTrain(fmt.Sprintf("bn_train_c%d_hw%d", C, HW), C, HW))
	case ir.SBNInfer:
		return one(ptx.BNInfer(fmt.Sprintf("bn_infer_c%d", C), C))
	case ir.SFold:
		c := g.p.Conv(st.Conv)
		return one(ptx.BNFold(fmt.Sprintf("bn_fold_k%d_n%d", c.K, c.C*c.R*c.R), c.K, c.C*c.R*c.R))
	case ir.SConvFwd:
		c := g.p.Conv(st.K)
		name := "conv_fwd_" + math + "_" + convName(c) + preName(pre) + flag(st.Res != nil, "_res")
		return g.checked(st.GPU)(ptx.ConvForward(name, c, pre, st.Res != nil, g.math, st.GPU))
	case ir.SConvBwd:
		c := g.p.Conv(st.K)
		var out []ptx.Entry
		if st.DZ != nil {
			e, err := g.checked(st.GPU)(ptx.ConvBackwardData("conv_dgrad_"+math+"_"+convName(c)+flag(st.Acc, "_acc"), c, st.Acc, g.math, st.GPU))
			if err != nil {
				return nil, err
			}
			out = append(out, e...)
		}
		e, err := g.checked(st.GPUW)(ptx.ConvBackwardWeight("conv_wgrad_"+math+"_"+convName(c)+preName(pre), c, pre, g.math, st.GPUW))
		if err != nil {
			return nil, err
		}
		return append(out, e[0]), nil
	case ir.SBNReLUBwd:
		p := ptx.Pre{On: true, Drop: float32(st.Drop)}
		return one(ptx.BNReLUBackward(fmt.Sprintf("bnrelu_bwd_c%d_hw%d%s%s", C, HW, preName(p)[len("_bnrelu"):], flag(st.Acc, "_acc")), C, HW, p, st.Acc))
	case ir.SBNBwd:
		return one(ptx.BNBackward(fmt.Sprintf("bn_bwd_c%d_hw%d%s", C, HW, flag(st.Acc, "_acc")), C, HW, st.Acc))
	case ir.SPoolFwd, ir.SPoolBwd:
		pl := g.p.Pool(st.K)
		name := fmt.Sprintf("c%d_h%d_w%d_r%d_s%d_p%d%s", pl.C, pl.H, pl.W, pl.R, pl.S, pl.P, preName(pre))
		if st.Kind == ir.SPoolFwd {
			return one(ptx.MaxPoolForward("maxpool_fwd_"+name, pl, pre))
		}
		return one(ptx.MaxPoolBackward("maxpool_bwd_"+name, pl, pre))
	case ir.SAddFwd:
		return one(ptx.AddReLUForward(fmt.Sprintf("bn_add_relu_fwd_c%d_hw%d%s", C, HW, flag(st.ResPre != nil, "_resbn")), C, HW, st.ResPre != nil))
	case ir.SAddBwd:
		return one(ptx.AddReLUBackward(fmt.Sprintf("add_relu_bwd_c%d_hw%d", C, HW), C, HW))
	case ir.SHeadFwd:
		if st.Pre == nil {
			return one(ptx.HeadForwardRaw(fmt.Sprintf("head_fwd_raw_c%d_hw%d_f%d", C, HW, k.Classes), C, HW, k.Classes))
		}
		return one(ptx.HeadForward(fmt.Sprintf("head_fwd_c%d_hw%d_f%d", C, HW, k.Classes), C, HW, k.Classes))
	case ir.SHeadBwd:
		fc, err := ptx.HeadBackwardFC(fmt.Sprintf("head_fc_bwd_c%d_f%d", C, k.Classes), C, k.Classes)
		if err != nil {
			return nil, err
		}
		dz, err := ptx.HeadBackwardDz(fmt.Sprintf("head_dz_bwd_c%d_hw%d_f%d", C, HW, k.Classes), C, HW, k.Classes)
		return []ptx.Entry{fc, dz}, err
	case ir.SLoss:
		ce, err := ptx.SoftmaxCE(fmt.Sprintf("softmax_ce_f%d", k.Classes), k.Classes)
		if err != nil {
			return nil, err
		}
		sum, err := ptx.LossSum("loss_sum")
		return []ptx.Entry{ce, sum}, err
	case ir.SSGD:
		size := 0
		for _, x := range k.Params {
			if x.Trainable() {
				size += x.Size()
			}
		}
		return one(ptx.SGDStep(fmt.Sprintf("sgd_p%d", size), size))
	}
	return nil, fmt.Errorf("no kernel for step %s", st.Kind)
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
	if st.ResPre != nil {
		set("rscale", st.ResPre.Scale)
		set("rshift", st.ResPre.Shift)
	}
	if st.Drop > 0 {
		b["seed"] = gpuArg{space: "DropSeed", off: int64(st.DropSeed)}
	}
	switch st.Kind {
	case ir.SLoss:
		b["labels"] = gpuArg{space: "Labels"}
		b["loss"], b["correct"] = gpuArg{space: "Loss"}, gpuArg{space: "Loss", off: int64(g.p.Batch)}
		b["out"] = gpuArg{space: "LossOut"}
		return b
	case ir.SSGD:
		b["params"], b["grads"], b["buf"] = gpuArg{space: "Params"}, gpuArg{space: "Grads"}, gpuArg{space: "Momentum"}
		b["lr"], b["mom"], b["damp"] = gpuArg{space: "LR"}, gpuArg{space: "Mom"}, gpuArg{space: "Damp"}
		b["wd"], b["nesterov"], b["first"] = gpuArg{space: "WD"}, gpuArg{space: "Nesterov"}, gpuArg{space: "First"}
		return b
	}
	ps := st.K.Op.Params
	switch st.K.Kind {
	case ir.KConv:
		b["w"], b["dw"] = param(ps[0], false), param(ps[0], true)
		if st.W != nil {
			b["w"] = buf(st.W) // the weights with the BN after the conv folded in
		}
	case ir.KBN:
		b["gamma"], b["beta"] = param(ps[0], false), param(ps[1], false)
		b["runMean"], b["runVar"] = param(ps[2], false), param(ps[3], false)
		b["dgamma"], b["dbeta"] = param(ps[0], true), param(ps[1], true)
		if st.Kind == ir.SFold {
			b["w"], b["wf"] = param(st.Conv.Op.Params[0], false), buf(st.W)
		}
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
