package pass_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wrnc/wrnc/compiler"
	"github.com/wrnc/wrnc/compiler/ir"
	"github.com/wrnc/wrnc/compiler/pass"
	"github.com/wrnc/wrnc/dsl"
)

func lower(t *testing.T, src string) *ir.Program {
	t.Helper()
	f, err := dsl.Parse("t.wrn", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	p, err := compiler.Lower(f)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestInferShapes(t *testing.T) {
	p := lower(t, "model WRN-13-2-B(1,5,7) {\n input 2x33x17\n classes 7\n}")
	if err := pass.InferShapes(p); err != nil {
		t.Fatal(err)
	}
	shapes := map[string][]int{}
	for _, op := range p.Ops {
		shapes[op.Name] = p.Values[op.Out].Shape
	}
	want := map[string][]int{
		"input":               {2, 33, 17},
		"conv0":               {16, 33, 17},
		"group0.block0.conv0": {32, 33, 17},
		"group0.block0.conv2": {32, 33, 17},
		"group1.block0.conv0": {64, 17, 9}, // 1x1 stride 2: odd sizes halve upwards
		"group1.block0.conv1": {64, 17, 9},
		"group2.block0.add":   {128, 9, 5},
		"avgpool":             {128},
		"fc":                  {7},
	}
	for name, w := range want {
		if diff := cmp.Diff(w, shapes[name]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
}

func TestInferShapesRefusesMismatch(t *testing.T) {
	p := lower(t, "model WRN-10-1")
	p.ParamMap()["group1.block0.conv1"].Shape[1] = 5
	err := pass.InferShapes(p)
	if err == nil || !strings.Contains(err.Error(), "group1.block0.conv1 (conv): weight [32 5 3 3] does not fit input [32 16 16]") {
		t.Errorf("InferShapes = %v", err)
	}
}

// TestPipelineVerifies checks that a pass that breaks the IR is caught and named.
func TestPipelineVerifies(t *testing.T) {
	broken := pass.Func("break-it", func(p *ir.Program) error {
		p.Ops[2].In[0] = len(p.Values) - 1
		return nil
	})
	err := pass.Concat(pass.Default, broken).Execute(lower(t, "model WRN-10-1"))
	if err == nil || !strings.HasPrefix(err.Error(), "after break-it: ") {
		t.Errorf("Execute = %v, want an error after break-it", err)
	}
	failing := pass.Func("fail", func(*ir.Program) error { return errors.New("boom") })
	if err := failing.Execute(lower(t, "model WRN-10-1")); err == nil || err.Error() != "fail: boom" {
		t.Errorf("Execute = %v, want fail: boom", err)
	}
}
