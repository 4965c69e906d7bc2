package ir_test

import (
	"strings"
	"testing"

	"github.com/wrnc/wrnc/compiler"
	"github.com/wrnc/wrnc/compiler/ir"
)

func program(t *testing.T) *ir.Program {
	t.Helper()
	p, err := compiler.Compile("t.wrn", []byte("model WRN-10-1 {\n dropout 0.2\n}"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVerify(t *testing.T) {
	if err := ir.Verify(program(t)); err != nil {
		t.Fatalf("valid program: %v", err)
	}
	tests := []struct {
		name   string
		break_ func(p *ir.Program)
		want   string
	}{
		{"value numbering", func(p *ir.Program) { p.Values[3].ID = 7 }, "has ID 7"},
		{"duplicate param", func(p *ir.Program) { p.Params = append(p.Params, p.Params[0]) }, "declared twice"},
		{"param without shape", func(p *ir.Program) { p.Params[1].Shape = nil }, "has no shape"},
		{"use before definition", func(p *ir.Program) { p.Ops[1].In[0] = len(p.Values) - 1 }, "before it is defined"},
		{"undeclared param", func(p *ir.Program) { p.Ops[1].Params[0] = "nope" }, `undeclared parameter "nope"`},
		{"double definition", func(p *ir.Program) { p.Ops[2].Out = p.Ops[1].Out }, "twice"},
		{"arity", func(p *ir.Program) { p.Ops[1].In = append(p.Ops[1].In, 0) }, "2 inputs"},
		{"unknown kind", func(p *ir.Program) { p.Ops[1].Kind = "winograd" }, `unknown kind "winograd"`},
		{"input not first", func(p *ir.Program) { p.Ops[1].Kind, p.Ops[1].In, p.Ops[1].Params = ir.OpInput, nil, nil }, "the input op must come first"},
		{"missing shape", func(p *ir.Program) { p.Values[5].Shape = nil }, "has no shape"},
		{"no fc at the end", func(p *ir.Program) { p.Ops = p.Ops[:len(p.Ops)-1] }, "must end with its fully connected layer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := program(t)
			tt.break_(p)
			err := ir.Verify(p)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Verify = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
