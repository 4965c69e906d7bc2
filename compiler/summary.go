package compiler

import (
	"github.com/wrnc/wrnc/compiler/ir"
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
	for _, op := range p.Ops {
		l := Layer{Name: op.Name, Op: op.Kind, Shape: p.Values[op.Out].Shape, MACs: OpMACs(p, op)}
		for _, name := range op.Params {
			if x := params[name]; x.Trainable() {
				l.Params += int64(x.Size())
			}
		}
		s.Layers = append(s.Layers, l)
	}
	return s
}
