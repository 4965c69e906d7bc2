package nn

import (
	"fmt"
	"math"
)

// SoftmaxCE returns the mean over n images of the cross-entropy of softmax(logits[i]) with
// labels[i], writes dlogits [n,F] = (softmax - onehot(label))/n, and returns the count of
// images whose argmax (the first, on ties) equals the label. It subtracts each row's
// maximum and sums in float64. A label outside [0, F) is a programming error (the data
// loaders check them) and panics.
func SoftmaxCE(n, F int, logits []float32, labels []int32, dlogits []float32) (loss float64, correct int) {
	const op = "SoftmaxCE"
	mustPositive(op, n, F)
	mustLen(op, "logits", logits, n*F)
	mustLen(op, "dlogits", dlogits, n*F)
	if len(labels) < n {
		panic(fmt.Sprintf("nn.SoftmaxCE: labels has %d values, want >= %d", len(labels), n))
	}
	inv := 1 / float64(n)
	for i := 0; i < n; i++ {
		row, d := logits[i*F:(i+1)*F], dlogits[i*F:(i+1)*F]
		y := int(labels[i])
		if y < 0 || y >= F {
			panic(fmt.Sprintf("nn.SoftmaxCE: label %d of image %d outside [0, %d)", y, i, F))
		}
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
	return loss * inv, correct
}
