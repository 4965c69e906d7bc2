// Package pass holds the compiler's passes over the IR. Each pass is one named function with
// the same shape, and Default is the whole pipeline as one declaration; ir.Verify runs after
// every pass, so a pass that breaks an invariant is named at once.
package pass

import (
	"fmt"

	"github.com/wrnc/wrnc/compiler/ir"
)

// Pass is one named transformation of a program.
type Pass struct {
	Name    string
	Execute func(*ir.Program) error
}

// Pipeline is passes run in order.
type Pipeline []Pass

// Concat joins passes and pipelines into one pipeline.
func Concat(parts ...Pipeline) Pipeline {
	var out Pipeline
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// Func makes a one-pass pipeline.
func Func(name string, f func(*ir.Program) error) Pipeline {
	return Pipeline{{Name: name, Execute: f}}
}

// Default is the compiler's pipeline.
var Default = Concat(
	Func("infer-shapes", InferShapes),
	Func("fuse", Fuse),
	Func("schedule", Schedule),
	Func("select", Select),
	Func("plan-memory", PlanMemory),
)

// Execute runs every pass, verifying the program after each one.
func (pl Pipeline) Execute(p *ir.Program) error {
	if err := ir.Verify(p); err != nil {
		return fmt.Errorf("before %s: %w", pl.first(), err)
	}
	for _, ps := range pl {
		if err := ps.Execute(p); err != nil {
			return fmt.Errorf("%s: %w", ps.Name, err)
		}
		if err := ir.Verify(p); err != nil {
			return fmt.Errorf("after %s: %w", ps.Name, err)
		}
	}
	return nil
}

func (pl Pipeline) first() string {
	if len(pl) == 0 {
		return "no pass"
	}
	return pl[0].Name
}
