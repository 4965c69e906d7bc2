package ir

import "fmt"

// ParamMap indexes the parameters by name.
func (p *Program) ParamMap() map[string]*Param {
	m := make(map[string]*Param, len(p.Params))
	for _, x := range p.Params {
		m[x.Name] = x
	}
	return m
}

// arity is the number of inputs and parameters of each op kind.
var arity = map[OpKind][2]int{
	OpInput: {0, 0}, OpConv: {1, 1}, OpBN: {1, 4}, OpReLU: {1, 0}, OpBNReLU: {1, 4},
	OpDropout: {1, 0}, OpAdd: {2, 0}, OpMaxPool: {1, 0}, OpAvgPool: {1, 0}, OpFC: {1, 2},
}

// Verify checks the invariants every pass must keep: values are numbered by position, every
// op reads only values defined before it and defines a value nobody else defines, parameters
// are declared once and exist, arities are right, and shapes, once inferred, are everywhere.
func Verify(p *Program) error {
	for i, v := range p.Values {
		if v.ID != i {
			return fmt.Errorf("value %q has ID %d at position %d", v.Name, v.ID, i)
		}
	}
	params := map[string]bool{}
	for _, x := range p.Params {
		if params[x.Name] {
			return fmt.Errorf("parameter %q declared twice", x.Name)
		}
		params[x.Name] = true
		if len(x.Shape) == 0 {
			return fmt.Errorf("parameter %q has no shape", x.Name)
		}
	}
	defined := make([]bool, len(p.Values))
	shaped := len(p.Values) > 0 && p.Values[0].Shape != nil
	for i, op := range p.Ops {
		want, ok := arity[op.Kind]
		if !ok {
			return fmt.Errorf("op %d %q: unknown kind %q", i, op.Name, op.Kind)
		}
		if len(op.In) != want[0] || len(op.Params) != want[1] {
			return fmt.Errorf("op %d %q (%s): %d inputs and %d params, want %d and %d", i, op.Name, op.Kind, len(op.In), len(op.Params), want[0], want[1])
		}
		if (op.Kind == OpInput) != (i == 0) {
			return fmt.Errorf("op %d %q: the input op must come first, and only once", i, op.Name)
		}
		for _, id := range op.In {
			if id < 0 || id >= len(p.Values) || !defined[id] {
				return fmt.Errorf("op %d %q reads value %d before it is defined", i, op.Name, id)
			}
		}
		for _, name := range op.Params {
			if !params[name] {
				return fmt.Errorf("op %d %q uses undeclared parameter %q", i, op.Name, name)
			}
		}
		if op.Out < 0 || op.Out >= len(p.Values) || defined[op.Out] {
			return fmt.Errorf("op %d %q defines value %d twice or out of range", i, op.Name, op.Out)
		}
		defined[op.Out] = true
		if shaped && p.Values[op.Out].Shape == nil {
			return fmt.Errorf("op %d %q: value %q has no shape", i, op.Name, p.Values[op.Out].Name)
		}
	}
	if n := len(p.Ops); n > 0 && p.Ops[n-1].Kind != OpFC {
		return fmt.Errorf("the network must end with its fully connected layer, ends with %s", p.Ops[n-1].Kind)
	}
	if err := verifyKernels(p); err != nil {
		return err
	}
	if err := verifySteps(p); err != nil {
		return err
	}
	if err := verifySelections(p); err != nil {
		return err
	}
	return verifyPlans(p)
}
