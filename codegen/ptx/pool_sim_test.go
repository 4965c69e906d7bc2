package ptx

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/wrnc/wrnc/runtime/contract"
)

// pool is the contract.Pool of C channels of H x W through an R x R window at stride S with
// padding P.
func pool(C, H, W, R, S, P int) contract.Pool {
	return contract.Pool{C: C, H: H, W: W, R: R, S: S, P: P, OH: (H+2*P-R)/S + 1, OW: (W+2*P-R)/S + 1}
}

// simPools are the small pools the simulator runs: the stem's 3x3/2 pad 1 on even, odd and
// 1x1 images, overlapping stride-1 windows, unpadded windows that leave rows uncovered, and a
// stride longer than the window.
var simPools = []contract.Pool{
	pool(3, 16, 16, 3, 2, 1),
	pool(2, 7, 9, 3, 2, 1),
	pool(2, 1, 1, 3, 2, 1),
	pool(2, 5, 4, 3, 1, 1),
	pool(3, 5, 6, 2, 2, 0),
	pool(1, 7, 7, 1, 3, 0),
	pool(2, 7, 8, 3, 2, 0),
}

// poolInputs are the kinds of input of the pool tests: uniform values; negative values
// (padding, were it a 0, would win); and values in {-1, 0, 1} (ties everywhere, so the
// backward pass follows the first maximum or fails).
var poolInputs = []string{"uniform", "negative", "ties"}

func poolInput(r *rand.Rand, kind string, size int) []float32 {
	switch kind {
	case "negative":
		return randF32(r, size, -2, -1)
	case "ties":
		x := make([]float32, size)
		for i := range x {
			x[i] = float32(r.IntN(3) - 1)
		}
		return x
	}
	return randF32(r, size, -1, 1)
}

// bnAffine returns scale and shift of C channels with the scale negative in every other
// channel, so that the BN-ReLU clips about half of its inputs to 0.
func bnAffine(r *rand.Rand, C int) (scale, shift []float32) {
	scale, shift = randF32(r, C, 0.5, 1.5), randF32(r, C, -0.5, 0.5)
	for c := 1; c < C; c += 2 {
		scale[c] = -scale[c]
	}
	return scale, shift
}

// preZ is pre(x) as every kernel computes it (max(0, x*scale + shift), the product and the
// sum rounded to float32), or x when scale is nil. The pool's reference takes it as its input:
// which position wins a window depends on exact ties (the ReLU's zeros), so the reference must
// see the values the kernel sees; the pool itself is then computed in float64.
func preZ(n, C, HW int, x, scale, shift []float32) []float64 {
	z := f64(x)
	if scale == nil {
		return z
	}
	for i := range z {
		c := i / HW % C
		z[i] = float64(max(0, float32(x[i]*scale[c])+shift[c]))
	}
	return z
}

// refWindow is the index in z [n,C,H,W] of the maximum of window (oh, ow) of plane pl: its
// first real position whose value is strictly greater than every earlier one's.
func refWindow(p contract.Pool, z []float64, pl, oh, ow int) int {
	at := -1
	for kh := 0; kh < p.R; kh++ {
		for kw := 0; kw < p.R; kw++ {
			ih, iw := oh*p.S-p.P+kh, ow*p.S-p.P+kw
			if ih < 0 || ih >= p.H || iw < 0 || iw >= p.W {
				continue
			}
			if i := (pl*p.H+ih)*p.W + iw; at < 0 || z[i] > z[at] {
				at = i
			}
		}
	}
	return at
}

// refMaxPool is the max pool of z [n,C,H,W] in float64: y, and dz, the gradient of dy
// scattered to each window's maximum; dz32 is dz summed in float32 in row-major output
// order, as the CPU kernel sums it.
func refMaxPool(n int, p contract.Pool, z []float64, dy []float32) (y, dz []float64, dz32 []float32) {
	y, dz, dz32 = make([]float64, n*p.C*p.OH*p.OW), make([]float64, len(z)), make([]float32, len(z))
	for pl := 0; pl < n*p.C; pl++ {
		for oh := 0; oh < p.OH; oh++ {
			for ow := 0; ow < p.OW; ow++ {
				at, o := refWindow(p, z, pl, oh, ow), (pl*p.OH+oh)*p.OW+ow
				y[o] = z[at]
				dz[at] += float64(dy[o])
				dz32[at] += dy[o]
			}
		}
	}
	return y, dz, dz32
}

func TestMaxPoolSim(t *testing.T) {
	for pi, p := range simPools {
		for _, on := range []bool{false, true} {
			for ki, kind := range poolInputs {
				n := 1 + (pi+ki)%2
				t.Run(fmt.Sprintf("C%d_%dx%d_R%dS%dP%d_pre%v_%s_n%d", p.C, p.H, p.W, p.R, p.S, p.P, on, kind, n), func(t *testing.T) {
					r := newRand(800 + uint64(pi*10+ki))
					d := newDevice(t)
					x := poolInput(r, kind, n*p.C*p.H*p.W)
					dy := randF32(r, n*p.C*p.OH*p.OW, -1, 1)
					var scale, shift []float32
					if on {
						scale, shift = bnAffine(r, p.C)
						d.f32("scale", scale)
						d.f32("shift", shift)
					}
					d.f32("x", x)
					d.f32("dy", dy)
					d.poison("y", len(dy))
					d.poison("dz", len(x))
					d.scalar("n", uint64(n))
					fwd, err := MaxPoolForward("max_pool_fwd", p, Pre{On: on})
					if err != nil {
						t.Fatal(err)
					}
					bwd, err := MaxPoolBackward("max_pool_bwd", p, Pre{On: on})
					if err != nil {
						t.Fatal(err)
					}
					d.launch(fwd, n)
					d.launch(bwd, n)
					y, dz, exact := refMaxPool(n, p, preZ(n, p.C, p.H*p.W, x, scale, shift), dy)
					check(t, "y", d.read("y"), round32(y), 1e-5)
					got := d.read("dz")
					check(t, "dz", got, round32(dz), 1e-5)
					// The kernel adds each element's dy in the order the CPU's scatter does: the
					// same sums, so the same bits.
					if !slices.Equal(got, exact) {
						j := worst(got, exact)
						t.Errorf("dz[%d] = %g, want %g: not the CPU's order of sums", j, got[j], exact[j])
					}
				})
			}
		}
	}
}

// TestMaxPoolSimImages launches the pool for fewer images than its buffers hold: the images
// past n are left alone.
func TestMaxPoolSimImages(t *testing.T) {
	p := pool(2, 7, 9, 3, 2, 1)
	r := newRand(850)
	d := newDevice(t)
	x := randF32(r, 2*p.C*p.H*p.W, -1, 1)
	d.f32("x", x)
	d.poison("y", 2*p.C*p.OH*p.OW)
	d.scalar("n", 1)
	e, err := MaxPoolForward("max_pool_fwd", p, Pre{})
	if err != nil {
		t.Fatal(err)
	}
	d.launch(e, 2) // a grid for two images, n = 1
	y := d.read("y")
	want, _, _ := refMaxPool(1, p, f64(x[:len(x)/2]), make([]float32, len(y)/2))
	check(t, "image 0", y[:len(y)/2], round32(want), 1e-5)
	for i, v := range y[len(y)/2:] {
		if !math.IsNaN(float64(v)) {
			t.Fatalf("image 1, element %d written: %g", i, v)
		}
	}
}
