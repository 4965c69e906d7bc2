package optim

import (
	"math"
	"testing"

	"github.com/wrnc/wrnc/runtime/model"
)

func TestStepLR(t *testing.T) {
	paper := model.Recipe{LR: 0.1, Gamma: 0.2, Milestones: []int{60, 120, 160}}
	svhn := model.Recipe{LR: 0.01, Gamma: 0.1, Milestones: []int{80, 120}}
	none := model.Recipe{LR: 0.05, Gamma: 0.5}
	tests := []struct {
		name  string
		r     model.Recipe
		epoch int
		want  float64
	}{
		{"first", paper, 0, 0.1},
		{"before 60", paper, 59, 0.1},
		{"at 60", paper, 60, 0.02},
		{"119", paper, 119, 0.02},
		{"120", paper, 120, 0.004},
		{"160", paper, 160, 0.0008},
		{"199", paper, 199, 0.0008},
		{"svhn 80", svhn, 80, 0.001},
		{"svhn 159", svhn, 159, 0.0001},
		{"no milestones", none, 500, 0.05},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := StepLR(tc.r, tc.epoch); math.Abs(got-tc.want) > 1e-12*tc.want {
				t.Errorf("StepLR(epoch %d) = %g, want %g", tc.epoch, got, tc.want)
			}
		})
	}
}
