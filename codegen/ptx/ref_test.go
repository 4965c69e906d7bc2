package ptx

import (
	"github.com/wrnc/wrnc/runtime/nn"
	"github.com/wrnc/wrnc/testdata/ref"
)

// The simulated kernels are measured against the repository's float64 reference
// (testdata/ref) of the convolution, from the loaded input z = pre(x).

func f64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func round32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// refConv returns the forward output (plus res), dz (plus dz0) and dw in float64, rounded;
// dz and dw only when dy != nil.
func refConv(n int, c nn.Conv, x, w []float32, pre *nn.Pre, res, dy, dz0 []float32) (y, dz, dw []float32) {
	z := f64(x)
	if pre != nil {
		z = ref.Pre(n, c.C, c.H*c.W, z, f64(pre.Scale), f64(pre.Shift), pre.Drop, pre.Seed)
	}
	yf := ref.Conv(n, c, z, f64(w))
	if res != nil {
		for i, v := range res {
			yf[i] += float64(v)
		}
	}
	if dy == nil {
		return round32(yf), make([]float32, len(x)), make([]float32, len(w))
	}
	dwf, dzf := ref.ConvBackward(n, c, z, f64(w), f64(dy))
	if dz0 != nil {
		for i, v := range dz0 {
			dzf[i] += float64(v)
		}
	}
	return round32(yf), round32(dzf), round32(dwf)
}
