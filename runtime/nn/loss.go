package nn

import (
	"fmt"
	"math"
)

// SoftmaxCE returns the mean over n images of the cross-entropy of softmax(logits[i]) with
// labels[i], writes dlogits [n,F] = (softmax - onehot(label))/n, and returns the count of
// images whose argmax (the first, on ties) equals the label. It subtracts each row's
// maximum and sums in float64. It returns an error, writing nothing, when n or F is below
// 1, a slice is too short, or a label lies outside [0, F).
func SoftmaxCE(n, F int, logits []float32, labels []int32, dlogits []float32) (loss float64, correct int, err error) {
	if n < 1 || F < 1 {
		return 0, 0, fmt.Errorf("nn.SoftmaxCE: %d images of %d classes, want both >= 1", n, F)
	}
	if len(logits) < n*F || len(dlogits) < n*F || len(labels) < n {
		return 0, 0, fmt.Errorf("nn.SoftmaxCE: %d logits, %d dlogits, %d labels for %d images of %d classes",
			len(logits), len(dlogits), len(labels), n, F)
	}
	for i, y := range labels[:n] {
		if y < 0 || int(y) >= F {
			return 0, 0, fmt.Errorf("nn.SoftmaxCE: label %d of image %d outside [0, %d)", y, i, F)
		}
	}
	inv := 1 / float64(n)
	for i := 0; i < n; i++ {
		row, d := logits[i*F:(i+1)*F], dlogits[i*F:(i+1)*F]
		y := int(labels[i])
		best := 0
		for f, v := range row {
			if v > row[best] {
				best = f
			}
		}
		if best == y {
			correct++
		}
		m := float64(row[best])
		var s float64
		for _, v := range row {
			s += math.Exp(float64(v) - m)
		}
		loss += m + math.Log(s) - float64(row[y])
		for f, v := range row {
			p := math.Exp(float64(v)-m) / s
			if f == y {
				p--
			}
			d[f] = float32(p * inv)
		}
	}
	return loss * inv, correct, nil
}
