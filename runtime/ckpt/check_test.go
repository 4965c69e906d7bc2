package ckpt

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCheck(t *testing.T) {
	f := &File{Path: "run1/last.safetensors", Tensors: []Tensor{
		{Name: "conv0", Shape: []int{16, 3, 3, 3}},
		{Name: "group0.block0.conv0", Shape: []int{64, 16, 3, 3}},
		{Name: "group0.block0.bn0.num_batches_tracked", Shape: []int{}},
		{Name: "fc.weight", Shape: []int{10, 64}},
		{Name: "fc.bias", Shape: []int{10}},
		{Name: "aux.weight", Shape: []int{1}},
	}}
	net := []Spec{
		{"conv0", []int{16, 3, 3, 3}},
		{"group0.block0.conv0", []int{64, 16, 3, 3}},
		{"fc.weight", []int{10, 64}},
		{"fc.bias", []int{10}},
	}
	var many []Spec
	for i := range 11 {
		many = append(many, Spec{fmt.Sprintf("t%d", i), []int{1}})
	}
	tests := []struct {
		name      string
		want      []Spec
		wantExtra []string
		wantErr   string
	}{
		{"match", append(net, Spec{"aux.weight", []int{1}}), nil, ""},
		{"extra names are a warning", net, []string{"aux.weight"}, ""},
		{"wrong shape", []Spec{
			{"conv0", []int{16, 3, 3, 3}},
			{"group0.block0.conv0", []int{32, 16, 3, 3}},
			{"fc.weight", []int{10, 64}},
			{"fc.bias", []int{10}},
			{"aux.weight", []int{1}},
		}, nil, "run1/last.safetensors holds weights of a different network: group0.block0.conv0 is [64 16 3 3], this network needs [32 16 3 3]"},
		{"missing and wrong", []Spec{
			{"conv0", []int{16, 3, 3, 3}},
			{"bn.weight", []int{64}},
			{"fc.weight", []int{100, 64}},
			{"fc.bias", []int{10}},
		}, []string{"group0.block0.conv0", "aux.weight"},
			"run1/last.safetensors holds weights of a different network: bn.weight is missing; fc.weight is [10 64], this network needs [100 64]"},
		{"scalar against vector", []Spec{{"fc.bias", []int{}}}, []string{"conv0", "group0.block0.conv0", "fc.weight", "aux.weight"},
			"run1/last.safetensors holds weights of a different network: fc.bias is [10], this network needs []"},
		{"many problems", many, []string{"conv0", "group0.block0.conv0", "fc.weight", "fc.bias", "aux.weight"},
			"run1/last.safetensors holds weights of a different network: t0 is missing; t1 is missing; t2 is missing; t3 is missing; " +
				"t4 is missing; t5 is missing; t6 is missing; t7 is missing; and 3 more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			extra, err := f.Check(tt.want)
			if diff := cmp.Diff(tt.wantExtra, extra); diff != "" {
				t.Errorf("extra (-want +got):\n%s", diff)
			}
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if gotErr != tt.wantErr {
				t.Errorf("error\n got %q\nwant %q", gotErr, tt.wantErr)
			}
		})
	}
}

// TestCheckDtype checks that an I64 tensor under the name of a tensor the network needs
// is a problem (its values are not weights), and that PyTorch's num_batches_tracked
// scalars, I64 as PyTorch writes them, are not extra names.
func TestCheckDtype(t *testing.T) {
	f := &File{Path: "resnet.safetensors", Tensors: []Tensor{
		{Name: "bn1.running_mean", Shape: []int{2}, Data: []float32{0, 0}},
		{Name: "bn1.num_batches_tracked", Shape: []int{}, Ints: []int64{7}},
		{Name: "fc.bias", Shape: []int{3}, Ints: []int64{1, 2, 3}},
		{Name: "fc.weight", Shape: []int{3, 2}, Ints: []int64{1, 2, 3, 4, 5, 6}},
		{Name: "steps", Shape: []int{}, Ints: []int64{9}},
	}}
	tests := []struct {
		name      string
		want      []Spec
		wantExtra []string
		wantErr   string
	}{
		{"counters are not extra", []Spec{{"bn1.running_mean", []int{2}}}, []string{"fc.bias", "fc.weight", "steps"}, ""},
		{"I64 where F32 is needed", []Spec{{"bn1.running_mean", []int{2}}, {"fc.bias", []int{3}}, {"fc.weight", []int{2, 3}}},
			[]string{"steps"},
			"resnet.safetensors holds weights of a different network: fc.bias is I64 [3], this network needs F32 [3]; fc.weight is I64 [3 2], this network needs F32 [2 3]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			extra, err := f.Check(tt.want)
			if diff := cmp.Diff(tt.wantExtra, extra); diff != "" {
				t.Errorf("extra (-want +got):\n%s", diff)
			}
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if gotErr != tt.wantErr {
				t.Errorf("error\n got %q\nwant %q", gotErr, tt.wantErr)
			}
		})
	}
}
