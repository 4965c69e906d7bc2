package codegen

import (
	"encoding/json"
	"fmt"

	"github.com/dave/jennifer/jen"
	"github.com/wrnc/wrnc/compiler"
	"github.com/wrnc/wrnc/compiler/ir"
	"github.com/wrnc/wrnc/runtime/contract"
)

// Info is what a generated binary's `info --json` prints: the fields of `wrnc inspect
// --json` plus the memory plan.
type Info struct {
	compiler.Summary
	PeakBytes int64            `json:"peak_bytes"`
	Memory    map[string]int64 `json:"memory"` // arena bytes per phase: train, infer, infer1
	// DerivedBytes is the part of every arena that holds transformed weights.
	DerivedBytes int64    `json:"derived_bytes"`
	Devices      []string `json:"devices"`
}

// MakeInfo describes a scheduled program built with the devices given besides the CPU.
func MakeInfo(p *ir.Program, devices ...string) Info {
	info := Info{Summary: compiler.Summarize(p), Memory: map[string]int64{}, Devices: append([]string{"cpu"}, devices...)}
	if len(p.Phases) == 0 {
		info.Devices = []string{}
	}
	for _, ph := range p.Phases {
		b := 4 * int64(ph.Peak)
		if ph.Kind != contract.Step {
			info.Memory[ph.Kind.String()] = b
		}
		info.PeakBytes = max(info.PeakBytes, b)
	}
	info.DerivedBytes = 4 * int64(p.Shared)
	return info
}

// specCode emits `var spec = model.Spec{...}` and the Spec method.
func specCode(p *ir.Program, devices []string) ([]jen.Code, error) {
	info, err := json.Marshal(MakeInfo(p, devices...))
	if err != nil {
		return nil, err
	}
	var params []jen.Code
	paramsSize, statsSize := 0, 0
	for _, x := range p.Params {
		shape := make([]jen.Code, len(x.Shape))
		for i, d := range x.Shape {
			shape[i] = jen.Lit(d)
		}
		fanIn := 0
		if len(x.Shape) > 1 {
			fanIn = ir.Prod(x.Shape[1:])
		}
		params = append(params, jen.Values(fields("Name", x.Name, "Shape", jen.Index().Int().Values(shape...),
			"Role", jen.Qual(rtModel, roleConst[x.Role]), "Offset", x.Offset, "FanIn", fanIn)...))
		if x.Trainable() {
			paramsSize += x.Size()
		} else {
			statsSize += x.Size()
		}
	}
	r := p.Recipe
	milestones := make([]jen.Code, len(r.Milestones))
	for i, m := range r.Milestones {
		milestones[i] = jen.Lit(m)
	}
	var convVars, convs []jen.Code
	for _, k := range p.Fused {
		if k.Kind == ir.KConv {
			convVars = append(convVars, jen.Id(convVar(k)).Op("=").Qual(rtNN, "Conv").Values(convFields(p, k)...))
			convs = append(convs, jen.Id(convVar(k)))
		}
		if k.Kind == ir.KPool {
			c := p.Pool(k)
			convVars = append(convVars, jen.Id(poolVar(k)).Op("=").Qual(rtNN, "Pool").Values(
				fields("C", c.C, "H", c.H, "W", c.W, "R", c.R, "S", c.S, "P", c.P, "OH", c.OH, "OW", c.OW)...))
		}
	}
	train, infer, infer1 := p.Phase(contract.Train), p.Phase(contract.Infer), p.Phase(contract.Infer1)
	if train == nil || infer == nil || infer1 == nil {
		return nil, fmt.Errorf("%s: the program has no train, infer and infer1 phases", p.Name)
	}
	spec := jen.Dict{
		jen.Id("Name"):       jen.Lit(p.Name),
		jen.Id("Family"):     jen.Lit(string(p.Family)),
		jen.Id("Input"):      jen.Index(jen.Lit(3)).Int().Values(jen.Lit(p.Input[0]), jen.Lit(p.Input[1]), jen.Lit(p.Input[2])),
		jen.Id("Classes"):    jen.Lit(p.Classes),
		jen.Id("Batch"):      jen.Lit(p.Batch),
		jen.Id("Dropout"):    jen.Lit(p.Dropout),
		jen.Id("Params"):     jen.Index().Qual(rtModel, "Param").Custom(multiline, params...),
		jen.Id("ParamsSize"): jen.Lit(paramsSize),
		jen.Id("StatsSize"):  jen.Lit(statsSize),
		jen.Id("Recipe"): jen.Qual(rtModel, "Recipe").Values(jen.Dict{
			jen.Id("Epochs"): jen.Lit(r.Epochs), jen.Id("LR"): jen.Lit(r.LR), jen.Id("Momentum"): jen.Lit(r.Momentum),
			jen.Id("Nesterov"): jen.Lit(r.Nesterov), jen.Id("WeightDecay"): jen.Lit(r.WeightDecay),
			jen.Id("Dampening"): jen.Lit(r.Dampening), jen.Id("Gamma"): jen.Lit(r.Gamma),
			jen.Id("Milestones"): jen.Index().Int().Values(milestones...), jen.Id("Flip"): jen.Lit(r.Flip),
			jen.Id("Crop"): jen.Lit(r.Crop), jen.Id("Padding"): jen.Lit(r.Padding),
			jen.Id("Normalize"): jen.Lit(r.Normalize), jen.Id("Seed"): jen.Lit(r.Seed),
			fieldIf(r.ResizedCrop, "ResizedCrop"): jen.Lit(true),
		}),
		jen.Id("Info"):        jen.Lit(string(info)),
		jen.Id("MACs"):        jen.Lit(compiler.MACs(p)),
		jen.Id("TrainArena"):  jen.Lit(train.Peak),
		jen.Id("InferArena"):  jen.Lit(infer.Peak),
		jen.Id("Infer1Arena"): jen.Lit(infer1.Peak),
		jen.Id("Shared"):      jen.Lit(p.Shared),
		jen.Id("Workspace"):   jen.Qual(rtNN, "WorkspaceFor").Call(jen.Id("convs").Op("...")),
		jen.Id("Convs"):       jen.Id("convs"),
		jen.Id("Plan"):        planCode(p),
		jen.Id("Graph"):       graphCode(p),
		jen.Id("Values"):      valuesCode(p),
	}
	return []jen.Code{
		jen.Comment("The shapes of the network's convolutions, named after them."),
		jen.Var().Defs(convVars...),
		jen.Line(),
		jen.Comment("convs lists every convolution of the network, to size the kernels' workspace and check the plan."),
		jen.Var().Id("convs").Op("=").Index().Qual(rtNN, "Conv").Custom(multiline, convs...),
		jen.Line(),
		jen.Comment(fmt.Sprintf("spec describes %s: %d trainable parameters, %d MACs per image.", p.Name, compiler.Params(p), compiler.MACs(p))),
		jen.Var().Id("spec").Op("=").Qual(rtModel, "Spec").Values(spec),
		jen.Line(),
		jen.Func().Params(jen.Id("net")).Id("Spec").Params().Op("*").Qual(rtModel, "Spec").Block(jen.Return(jen.Op("&").Id("spec"))),
	}, nil
}

var roleConst = map[ir.Role]string{
	ir.ConvWeight: "ConvWeight", ir.BNWeight: "BNWeight", ir.BNBias: "BNBias", ir.BNMean: "BNMean",
	ir.BNVar: "BNVar", ir.FCWeight: "FCWeight", ir.FCBias: "FCBias",
}

// fieldIf is the key of a composite literal's field that is written only when set: a
// jen.Null key drops the item, so the specs of recipes without it stay as they were.
func fieldIf(set bool, name string) jen.Code {
	if set {
		return jen.Id(name)
	}
	return jen.Null()
}

// multiline lays out a composite literal with one element per line.
var multiline = jen.Options{Open: "{", Close: "}", Separator: ",", Multi: true}

// convFields are the fields of the nn.Conv of a conv kernel.
func convFields(p *ir.Program, k *ir.Kernel) []jen.Code {
	c := p.Conv(k)
	return fields("C", c.C, "H", c.H, "W", c.W, "K", c.K, "R", c.R, "S", c.S, "P", c.P, "OH", c.OH, "OW", c.OW)
}

// fields makes `Key: value` items, in the order given, for a one-line composite literal.
func fields(kv ...any) []jen.Code {
	var out []jen.Code
	for i := 0; i < len(kv); i += 2 {
		v, ok := kv[i+1].(jen.Code)
		if !ok {
			v = jen.Lit(kv[i+1])
		}
		out = append(out, jen.Id(kv[i].(string)).Op(":").Add(v))
	}
	return out
}

// planCode is the []model.Extent of every buffer of every phase (the derived ones once,
// with the step phase), for model.CheckPlan.
func planCode(p *ir.Program) jen.Code {
	var items []jen.Code
	extent := func(ph contract.Phase, b *ir.Buffer) {
		kv := []any{"Name", b.Name, "Phase", jen.Qual(rtContract, titleCase(ph.String())), "Off", b.Offset}
		if b.PerImage > 0 {
			kv = append(kv, "PerImage", b.PerImage)
		}
		if b.Fixed > 0 {
			kv = append(kv, "Fixed", b.Fixed)
		}
		if b.Derived {
			kv = append(kv, "Derived", true)
		}
		items = append(items, jen.Values(fields(kv...)...))
	}
	for _, b := range p.Derived() {
		extent(contract.Step, b)
	}
	for _, ph := range p.Phases {
		for _, b := range ph.Buffers {
			if !b.Derived {
				extent(ph.Kind, b)
			}
		}
	}
	return jen.Index().Qual(rtModel, "Extent").Custom(multiline, items...)
}

// graphCode is the network's graph as lowered (before fusion), what export writes out.
func graphCode(p *ir.Program) jen.Code {
	items := make([]jen.Code, len(p.Ops))
	for i, op := range p.Ops {
		kv := []any{"Kind", jen.Qual(rtContract, opConst[op.Kind]), "Name", op.Name}
		in := make([]jen.Code, len(op.In))
		for j, v := range op.In {
			in[j] = jen.Lit(v)
		}
		kv = append(kv, "In", jen.Index().Int().Values(in...), "Out", op.Out)
		if len(op.Params) > 0 {
			ps := make([]jen.Code, len(op.Params))
			for j, n := range op.Params {
				ps[j] = jen.Lit(n)
			}
			kv = append(kv, "Params", jen.Index().String().Values(ps...))
		}
		for _, a := range []struct {
			k string
			v int
		}{{"Kernel", op.Kernel}, {"Stride", op.Stride}, {"Pad", op.Pad}} {
			if a.v != 0 {
				kv = append(kv, a.k, a.v)
			}
		}
		if op.P != 0 {
			kv = append(kv, "P", op.P)
		}
		items[i] = jen.Values(fields(kv...)...)
	}
	return jen.Index().Qual(rtContract, "Op").Custom(multiline, items...)
}

// valuesCode is every value of the graph with its per-image shape.
func valuesCode(p *ir.Program) jen.Code {
	items := make([]jen.Code, len(p.Values))
	for i, v := range p.Values {
		shape := make([]jen.Code, len(v.Shape))
		for j, d := range v.Shape {
			shape[j] = jen.Lit(d)
		}
		items[i] = jen.Values(fields("ID", v.ID, "Name", v.Name, "Shape", jen.Index().Int().Values(shape...))...)
	}
	return jen.Index().Qual(rtContract, "Value").Custom(multiline, items...)
}

var opConst = map[ir.OpKind]string{
	ir.OpInput: "OpInput", ir.OpConv: "OpConv", ir.OpBN: "OpBN", ir.OpReLU: "OpReLU", ir.OpBNReLU: "OpBNReLU",
	ir.OpDropout: "OpDropout", ir.OpAdd: "OpAdd", ir.OpMaxPool: "OpMaxPool", ir.OpAvgPool: "OpAvgPool", ir.OpFC: "OpFC",
}
