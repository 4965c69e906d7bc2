package compiler

import (
	"github.com/wrnc/wrnc/compiler/ir"
	"github.com/wrnc/wrnc/runtime/contract"
)

// Summary is what `wrnc inspect --json` and a generated binary's `info --json` print.
type Summary struct {
	Name      string    `json:"name"`
	Family    ir.Family `json:"family"`
	Depth     int       `json:"depth"`
	Width     float64   `json:"width"`
	Kernels   []int     `json:"kernels"`
	Input     [3]int    `json:"input"`
	Classes   int       `json:"classes"`
	Dropout   float64   `json:"dropout"`
	Batch     int       `json:"batch"`
	Precision string    `json:"precision"`
	Params    int64     `json:"params"`
	MACs      int64     `json:"macs"`
	Recipe    ir.Recipe `json:"recipe"`
	Layers    []Layer   `json:"layers"`
}

// Layer is one row of the layer table.
type Layer struct {
	Name   string    `json:"name"`
	Op     ir.OpKind `json:"op"`
	Shape  []int     `json:"shape"`
	Params int64     `json:"params"`
	MACs   int64     `json:"macs"`
	// Methods is the method the selection pass chose for each pass of the layer, per
	// phase (train, infer, infer1, step): forward, dgrad, wgrad (and gpu.forward, gpu.dgrad,
	// gpu.wgrad: the GPU kernels), backward, loss, update, weights; empty for a layer fused
	// into another.
	Methods map[string]map[string]contract.Selection `json:"methods,omitempty"`
}

// Summarize describes a compiled program.
func Summarize(p *ir.Program) Summary {
	s := Summary{
		Name: p.Name, Family: p.Family, Depth: p.Depth, Width: p.Width, Kernels: p.Kernels,
		Input: p.Input, Classes: p.Classes, Dropout: p.Dropout, Batch: p.Batch,
		Precision: p.Precision, Params: Params(p), MACs: MACs(p), Recipe: p.Recipe,
	}
	switch {
	case p.Family == ir.ImageNet && p.Bottleneck:
		s.Kernels = []int{1, 3, 1}
	case p.Family == ir.ImageNet:
		s.Kernels = []int{3, 3}
	}
	params := p.ParamMap()
	methods := layerMethods(p)
	for _, op := range p.Ops {
		l := Layer{Name: op.Name, Op: op.Kind, Shape: p.Values[op.Out].Shape, MACs: OpMACs(p, op), Methods: methods[op]}
		for _, name := range op.Params {
			if x := params[name]; x.Trainable() {
				l.Params += int64(x.Size())
			}
		}
		s.Layers = append(s.Layers, l)
	}
	return s
}

// layerMethods collects the selections of every step by the op of its kernel, phase and
// pass. The SGD update, a step of the whole network, is listed for every layer with
// trainable parameters.
func layerMethods(p *ir.Program) map[*ir.Op]map[string]map[string]contract.Selection {
	out := map[*ir.Op]map[string]map[string]contract.Selection{}
	set := func(op *ir.Op, ph contract.Phase, pass string, sel contract.Selection) {
		if sel.Method == "" {
			return
		}
		if out[op] == nil {
			out[op] = map[string]map[string]contract.Selection{}
		}
		if out[op][ph.String()] == nil {
			out[op][ph.String()] = map[string]contract.Selection{}
		}
		out[op][ph.String()][pass] = sel
	}
	params := p.ParamMap()
	for _, ph := range p.Phases {
		for _, st := range ph.Steps {
			if st.K == nil {
				for _, op := range p.Ops {
					for _, name := range op.Params {
						if params[name].Trainable() {
							set(op, ph.Kind, "update", st.Sel)
						}
					}
				}
				continue
			}
			op := st.K.Op
			switch st.Kind {
			case ir.SConvFwd, ir.SBNTrain, ir.SBNInfer, ir.SHeadFwd, ir.SPoolFwd, ir.SAddFwd:
				set(op, ph.Kind, "forward", st.Sel)
				set(op, ph.Kind, "gpu.forward", st.GPU)
			case ir.SConvBwd:
				set(op, ph.Kind, "dgrad", st.Sel)
				set(op, ph.Kind, "wgrad", st.WSel)
				set(op, ph.Kind, "gpu.dgrad", st.GPU)
				set(op, ph.Kind, "gpu.wgrad", st.GPUW)
			case ir.SBNReLUBwd, ir.SHeadBwd, ir.SBNBwd, ir.SPoolBwd, ir.SAddBwd:
				set(op, ph.Kind, "backward", st.Sel)
			case ir.SLoss:
				set(op, ph.Kind, "loss", st.Sel)
			case ir.SWeights:
				pass := "weights"
				if st.Dgrad {
					pass = "weights-dgrad"
				}
				set(op, ph.Kind, pass, st.Sel)
			}
		}
	}
	return out
}
