package ptx

import (
	"fmt"
	"github.com/wrnc/wrnc/runtime/contract"
	"testing"

	"github.com/wrnc/wrnc/runtime/cpu"
	"github.com/wrnc/wrnc/runtime/nn"
)

// Tolerances in relErr's norm against the float64 references: fp32 differs only by the
// rounding of its sums; tf32 and bf16 round every operand (to 11 and 8 significant bits).
var mathTol = map[Math]float64{FP32: 1e-5, TF32: 2e-3, BF16: 1e-2}

// nnTol is the tolerance against the nn CPU kernels (their im2col method, within 1e-5 of
// float64): the two bounds added.
func nnTol(m Math) float64 {
	if m == FP32 {
		return 2e-5
	}
	return mathTol[m]
}

// simConvs are the odd small shapes the simulator runs: C, K in {1, 3, 8, 17}, 7x5 and 5x7
// images, R in {1, 3, 5, 7}, stride 1 and 2.
func simConvs() []nn.Conv {
	return []nn.Conv{
		conv(3, 7, 5, 17, 3, 1),
		conv(8, 7, 5, 3, 3, 2),
		conv(17, 5, 7, 8, 1, 1),
		conv(1, 7, 5, 8, 7, 2),
		conv(3, 5, 7, 1, 5, 1),
		conv(8, 7, 5, 17, 1, 2),
		{C: 3, H: 7, W: 5, K: 8, R: 3, S: 2, P: 0, OH: 3, OW: 2},
		conv(17, 9, 9, 70, 3, 1), // several tiles along m, n and k
	}
}

func newCtx(t *testing.T, c nn.Conv) *nn.Ctx {
	pool := cpu.NewPool(1)
	t.Cleanup(pool.Close)
	return nn.NewCtx(pool, nil, nn.WorkspaceFor(c))
}

// preFor builds an nn.Pre for p over C channels and the device buffers it needs.
func preFor(d *device, r interface{ Float64() float64 }, p Pre, C int, seed uint64) *nn.Pre {
	if !p.On {
		return nil
	}
	np := &nn.Pre{Scale: make([]float32, C), Shift: make([]float32, C), Drop: p.Drop, Seed: seed}
	for i := range np.Scale {
		np.Scale[i] = float32(0.5 + r.Float64())
		np.Shift[i] = float32(r.Float64() - 0.5)
	}
	d.f32("scale", np.Scale)
	d.f32("shift", np.Shift)
	d.scalar("seed", seed)
	return np
}

type convCase struct {
	c    nn.Conv
	pre  Pre
	res  bool
	m    Math
	imgs int
}

func convCases() []convCase {
	var out []convCase
	pres := []Pre{{}, {On: true}, {On: true, Drop: 0.3}}
	for ci, c := range simConvs() {
		for mi, m := range []Math{FP32, TF32, BF16} {
			out = append(out, convCase{c: c, pre: pres[(ci+mi)%3], res: (ci+mi)%2 == 1, m: m, imgs: 1 + 2*((ci+mi)%2)})
		}
	}
	return out
}

func (cc convCase) String() string {
	c := cc.c
	return fmt.Sprintf("%dx%dx%d_K%d_R%d_S%d_P%d_n%d_pre%v_drop%g_res%v_%s", c.C, c.H, c.W, c.K, c.R, c.S, c.P, cc.imgs, cc.pre.On, cc.pre.Drop, cc.res, cc.m)
}

func TestConvForwardSim(t *testing.T) {
	for i, cc := range convCases() {
		t.Run(cc.String(), func(t *testing.T) {
			c, n := cc.c, cc.imgs
			r := newRand(uint64(i))
			d := newDevice(t)
			x := randF32(r, n*c.C*c.H*c.W, -1, 1)
			w := randF32(r, c.K*c.C*c.R*c.R, -1, 1)
			d.f32("x", x)
			d.f32("w", w)
			pre := preFor(d, r, cc.pre, c.C, 0x1234+uint64(i))
			out := n * c.K * c.OH * c.OW
			var res []float32
			if cc.res {
				res = randF32(r, out, -1, 1)
				d.f32("res", res)
			}
			d.poison("y", out)
			e, err := ConvForward("conv_fwd", c, cc.pre, cc.res, cc.m, tile(c, contract.Forward, cc.m))
			if err != nil {
				t.Fatal(err)
			}
			d.launch(e, n)
			want := make([]float32, out)
			nn.Im2colForward(newCtx(t, c), n, &c, x, w, pre, res, want)
			got := d.read("y")
			check(t, "y against nn", got, want, nnTol(cc.m))
			ref, _, _ := refConv(n, c, x, w, pre, res, nil, nil)
			check(t, "y against float64", got, ref, mathTol[cc.m])
		})
	}
}

func TestConvBackwardSim(t *testing.T) {
	for i, cc := range convCases() {
		t.Run(cc.String(), func(t *testing.T) {
			c, n := cc.c, cc.imgs
			r := newRand(100 + uint64(i))
			d := newDevice(t)
			x := randF32(r, n*c.C*c.H*c.W, -1, 1)
			w := randF32(r, c.K*c.C*c.R*c.R, -1, 1)
			dy := randF32(r, n*c.K*c.OH*c.OW, -1, 1)
			dz0 := randF32(r, n*c.C*c.H*c.W, -1, 1)
			d.f32("x", x)
			d.f32("w", w)
			d.f32("dy", dy)
			pre := preFor(d, r, cc.pre, c.C, 0x4321+uint64(i))
			acc := cc.res // accumulate into dz in the cases with a residual
			if acc {
				d.f32("dz", dz0)
			} else {
				d.poison("dz", len(dz0))
			}
			d.poison("dw", len(w))
			d.scalar("n", uint64(n))
			dg, err := ConvBackwardData("conv_dgrad", c, acc, cc.m, tile(c, contract.Dgrad, cc.m))
			if err != nil {
				t.Fatal(err)
			}
			wg, err := ConvBackwardWeight("conv_wgrad", c, cc.pre, cc.m, tile(c, contract.Wgrad, cc.m))
			if err != nil {
				t.Fatal(err)
			}
			d.launch(dg, n)
			d.launch(wg, n)
			wantDz := append([]float32(nil), dz0...)
			wantDw := make([]float32, len(w))
			nn.Im2colBackward(newCtx(t, c), n, &c, x, w, pre, dy, wantDw, wantDz, acc)
			gotDz, gotDw := d.read("dz"), d.read("dw")
			check(t, "dz against nn", gotDz, wantDz, nnTol(cc.m))
			check(t, "dw against nn", gotDw, wantDw, nnTol(cc.m))
			var base []float32
			if acc {
				base = dz0
			}
			_, refDz, refDw := refConv(n, c, x, w, pre, nil, dy, base)
			check(t, "dz against float64", gotDz, refDz, mathTol[cc.m])
			check(t, "dw against float64", gotDw, refDw, mathTol[cc.m])
		})
	}
}
