package optim

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/wrnc/wrnc/runtime/model"
)

// testSpec is a small cifar-like layout: a conv, a BN, an FC.
func testSpec() *model.Spec {
	ps := []model.Param{
		{Name: "conv0", Shape: []int{64, 16, 3, 3}, Role: model.ConvWeight, FanIn: 16 * 9},
		{Name: "bn.weight", Shape: []int{64}, Role: model.BNWeight},
		{Name: "bn.bias", Shape: []int{64}, Role: model.BNBias},
		{Name: "bn.running_mean", Shape: []int{64}, Role: model.BNMean},
		{Name: "bn.running_var", Shape: []int{64}, Role: model.BNVar},
		{Name: "fc.weight", Shape: []int{10, 640}, Role: model.FCWeight, FanIn: 640},
		{Name: "fc.bias", Shape: []int{10}, Role: model.FCBias},
	}
	s := &model.Spec{Name: "test", Params: ps}
	for i := range s.Params {
		p := &s.Params[i]
		if p.Trainable() {
			p.Offset, s.ParamsSize = s.ParamsSize, s.ParamsSize+p.Size()
		} else {
			p.Offset, s.StatsSize = s.StatsSize, s.StatsSize+p.Size()
		}
	}
	return s
}

func tensor(s *model.Spec, params, stats []float32, name string) []float32 {
	for i := range s.Params {
		p := &s.Params[i]
		if p.Name == name {
			if p.Trainable() {
				return params[p.Offset : p.Offset+p.Size()]
			}
			return stats[p.Offset : p.Offset+p.Size()]
		}
	}
	panic(name)
}

func TestInit(t *testing.T) {
	s := testSpec()
	params := make([]float32, s.ParamsSize)
	stats := make([]float32, s.StatsSize)
	for i := range params {
		params[i] = 7 // overwritten
	}
	if err := Init(s, params, stats, 1); err != nil {
		t.Fatal(err)
	}
	consts := []struct {
		name string
		want float32
	}{{"bn.weight", 1}, {"bn.bias", 0}, {"bn.running_mean", 0}, {"bn.running_var", 1}, {"fc.bias", 0}}
	for _, c := range consts {
		t.Run(c.name, func(t *testing.T) {
			for i, v := range tensor(s, params, stats, c.name) {
				if v != c.want {
					t.Fatalf("%s[%d] = %g, want %g", c.name, i, v, c.want)
				}
			}
		})
	}
	for _, w := range []struct {
		name  string
		fanIn int
	}{{"conv0", 144}, {"fc.weight", 640}} {
		t.Run(w.name, func(t *testing.T) {
			v := tensor(s, params, stats, w.name)
			var sum, sq float64
			for _, x := range v {
				sum += float64(x)
				sq += float64(x) * float64(x)
			}
			n := float64(len(v))
			mean, std := sum/n, math.Sqrt(sq/n-(sum/n)*(sum/n))
			want := math.Sqrt(2 / float64(w.fanIn))
			// n >= 6400 samples: the sample std is within 3% of the true one with a wide margin
			// (its relative standard error is 1/sqrt(2n) < 0.9%), the mean within 4 standard errors.
			if math.Abs(std-want) > 0.03*want {
				t.Errorf("std = %g, want %g", std, want)
			}
			if math.Abs(mean) > 4*want/math.Sqrt(n) {
				t.Errorf("mean = %g, want about 0 (std %g, n %g)", mean, want, n)
			}
		})
	}
}

func TestInitDeterministic(t *testing.T) {
	s := testSpec()
	run := func(seed uint64) []float32 {
		params := make([]float32, s.ParamsSize)
		if err := Init(s, params, make([]float32, s.StatsSize), seed); err != nil {
			t.Fatal(err)
		}
		return params
	}
	a, b, c := run(1), run(1), run(2)
	if !slices.Equal(a, b) {
		t.Error("the same seed gave different values")
	}
	if slices.Equal(a, c) {
		t.Error("seeds 1 and 2 gave the same values")
	}
	conv := tensor(s, a, nil, "conv0")
	fc := tensor(s, a, nil, "fc.weight")
	if slices.Equal(conv[:10], fc[:10]) {
		t.Error("two tensors share a random stream")
	}
}

func TestInitErrors(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(s *model.Spec)
		errStr string
	}{
		{"offset", func(s *model.Spec) { s.Params[5].Offset = s.ParamsSize }, "fc.weight [15754, 22154) does not fit params of 15754 floats"},
		{"stats", func(s *model.Spec) { s.Params[4].Offset = 100 }, "bn.running_var [100, 164) does not fit stats of 128 floats"},
		{"fanin", func(s *model.Spec) { s.Params[0].FanIn = 0 }, "conv0 has fan-in 0"},
		{"role", func(s *model.Spec) { s.Params[2].Role = "bias" }, `bn.bias has unknown role "bias"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := testSpec()
			tc.edit(s)
			params := make([]float32, s.ParamsSize)
			err := Init(s, params, make([]float32, s.StatsSize), 1)
			if err == nil || !strings.Contains(err.Error(), tc.errStr) {
				t.Fatalf("err = %v, want %q", err, tc.errStr)
			}
			if slices.ContainsFunc(params, func(x float32) bool { return x != 0 }) {
				t.Error("Init wrote params despite the error")
			}
		})
	}
}
