package cli

import (
	"math"
	"testing"
)

func TestSoftmax(t *testing.T) {
	p := softmax([]float32{1, 2, 3, 1000})
	if math.Abs(p[3]-1) > 1e-12 || p[0] < 0 {
		t.Errorf("softmax with a huge logit = %v", p)
	}
	q := softmax([]float32{0, float32(math.Log(3))})
	if math.Abs(q[0]-0.25) > 1e-7 || math.Abs(q[1]-0.75) > 1e-7 {
		t.Errorf("softmax(0, ln 3) = %v, want 0.25, 0.75", q)
	}
}
