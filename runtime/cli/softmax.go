package cli

import "math"

// softmax turns one row of logits into probabilities.
func softmax(row []float32) []float64 {
	mx := math.Inf(-1)
	for _, v := range row {
		mx = math.Max(mx, float64(v))
	}
	p := make([]float64, len(row))
	var sum float64
	for j, v := range row {
		p[j] = math.Exp(float64(v) - mx)
		sum += p[j]
	}
	for j := range p {
		p[j] /= sum
	}
	return p
}
