package plot

import (
	"math"
	"strconv"
	"strings"
)

// ticks returns about five evenly spaced round values (1, 2 or 5 times a power of ten
// apart) from at or below lo to at or above hi; the first and last are the ends of the
// axis. integer keeps the step a whole number. An empty or degenerate range gives an
// axis of width 1 (or around the value).
func ticks(lo, hi float64, integer bool) []float64 {
	if !finite(lo) || !finite(hi) || hi < lo {
		lo, hi = 0, 1
	}
	if hi == lo {
		if lo == 0 {
			hi = 1
		} else {
			d := math.Abs(lo) / 2
			lo, hi = lo-d, hi+d
		}
	}
	step := niceStep((hi - lo) / 5)
	if integer {
		step = math.Max(1, math.Round(step))
	}
	first, last := math.Floor(lo/step+1e-9), math.Ceil(hi/step-1e-9)
	if last-first > 50 { // a range a float64 step cannot divide sensibly
		return []float64{lo, hi}
	}
	var t []float64
	for k := first; k <= last; k++ {
		t = append(t, k*step)
	}
	if len(t) < 2 {
		t = append(t, (last+1)*step)
	}
	return t
}

// niceStep is the smallest of 1, 2, 2.5 or 5 times a power of ten that is at least raw.
func niceStep(raw float64) float64 {
	if !(raw > 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= raw*(1-1e-9) {
			return m * p
		}
	}
	return 10 * p
}

// tickLabel formats the tick v with as many decimals as the ticks all need, or in
// exponent form for very large or small values.
func tickLabel(v float64, all []float64) string {
	if math.Abs(v) < 1e-12*math.Abs(all[len(all)-1]-all[0]) {
		v = 0
	}
	step := 1.0
	if len(all) > 1 {
		step = all[1] - all[0]
	}
	big := math.Max(math.Abs(all[0]), math.Abs(all[len(all)-1]))
	if big >= 1e6 || (step < 1e-4 && big < 1e-3) {
		if v == 0 {
			return "0"
		}
		s := strconv.FormatFloat(v, 'e', 1, 64)
		return strings.Replace(strings.Replace(s, "e+0", "e", 1), "e-0", "e-", 1)
	}
	dec := 0
	for d := 0; d < 10; d++ {
		if math.Abs(step*math.Pow(10, float64(d))-math.Round(step*math.Pow(10, float64(d)))) < 1e-6 {
			dec = d
			break
		}
		dec = d + 1
	}
	return strconv.FormatFloat(v, 'f', dec, 64)
}
