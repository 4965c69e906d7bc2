package ptx

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

// addReLUShapes are (n, C, HW) of the add-ReLU tests: one element, odd sizes, the 7x7 of the
// last stage, and images spanning several blocks.
var addReLUShapes = [][3]int{{1, 1, 1}, {2, 3, 49}, {1, 17, 35}, {2, 5, 300}}

func TestAddReLUForwardSim(t *testing.T) {
	for i, s := range addReLUShapes {
		for _, resBN := range []bool{false, true} {
			n, C, HW := s[0], s[1], s[2]
			// In place (y over x) in every other case, as the kernel allows.
			inPlace := (i+map[bool]int{false: 0, true: 1}[resBN])%2 == 1
			t.Run(fmt.Sprintf("n%d_C%d_HW%d_resBN%v_inPlace%v", n, C, HW, resBN, inPlace), func(t *testing.T) {
				r := newRand(900 + uint64(i))
				d := newDevice(t)
				x, res := randF32(r, n*C*HW, -1, 1), randF32(r, n*C*HW, -1, 1)
				scale, shift := bnAffine(r, C)
				rscale, rshift := bnAffine(r, C)
				for name, v := range map[string][]float32{"x": x, "res": res, "scale": scale, "shift": shift, "rscale": rscale, "rshift": rshift} {
					d.f32(name, v)
				}
				if inPlace {
					d.alias("y", "x")
				} else {
					d.poison("y", len(x))
				}
				d.scalar("n", uint64(n))
				e, err := AddReLUForward("add_relu_fwd", C, HW, resBN)
				if err != nil {
					t.Fatal(err)
				}
				d.launch(e, n)
				// want in float64; exact, in float32 rounded step by step as the CPU kernel
				// rounds (the conversions keep Go from fusing a product and a sum).
				want, exact := make([]float64, len(x)), make([]float32, len(x))
				zeros := 0
				for j := range want {
					c := j / HW % C
					rv, rv32 := float64(res[j]), res[j]
					if resBN {
						rv = rv*float64(rscale[c]) + float64(rshift[c])
						rv32 = float32(res[j]*rscale[c]) + rshift[c]
					}
					want[j] = math.Max(0, float64(x[j])*float64(scale[c])+float64(shift[c])+rv)
					exact[j] = max(0, float32(float32(x[j]*scale[c])+shift[c])+rv32)
					if want[j] == 0 {
						zeros++
					}
				}
				if len(x) > 1 && (zeros == 0 || zeros == len(x)) {
					t.Fatalf("%d of %d outputs clipped: the test does not exercise the ReLU", zeros, len(x))
				}
				got := d.read("y")
				check(t, "y", got, round32(want), 1e-5)
				if !slices.Equal(got, exact) {
					j := worst(got, exact)
					t.Errorf("y[%d] = %g, want %g: not the CPU's roundings", j, got[j], exact[j])
				}
			})
		}
	}
}

func TestAddReLUBackwardSim(t *testing.T) {
	for i, s := range addReLUShapes {
		n, C, HW := s[0], s[1], s[2]
		inPlace := i%2 == 1 // dz over dy
		t.Run(fmt.Sprintf("n%d_C%d_HW%d_inPlace%v", n, C, HW, inPlace), func(t *testing.T) {
			r := newRand(950 + uint64(i))
			d := newDevice(t)
			// y as the forward leaves it: about half of it exactly 0.
			y := randF32(r, n*C*HW, -1, 1)
			for j := range y {
				y[j] = max(y[j], 0)
			}
			dy := randF32(r, len(y), -1, 1)
			d.f32("y", y)
			d.f32("dy", dy)
			if inPlace {
				d.alias("dz", "dy")
			} else {
				d.poison("dz", len(y))
			}
			d.scalar("n", uint64(n))
			e, err := AddReLUBackward("add_relu_bwd", C, HW)
			if err != nil {
				t.Fatal(err)
			}
			d.launch(e, n)
			want := make([]float32, len(y))
			for j := range want {
				if y[j] > 0 {
					want[j] = dy[j]
				}
			}
			check(t, "dz", d.read("dz"), want, 0)
		})
	}
}
