package ptx

import (
	"fmt"
	"testing"

	"github.com/wrnc/wrnc/runtime/nn"
	"github.com/wrnc/wrnc/testdata/ref"
)

// bnShapes are (n, C, HW) of the BN tests: odd channel counts and image sizes, n*HW == 1
// (running variance left alone), and one channel larger than a block's stride.
var bnShapes = [][3]int{{1, 1, 1}, {3, 17, 35}, {1, 8, 1}, {3, 3, 49}, {2, 1, 300}}

func TestBNTrainSim(t *testing.T) {
	for i, s := range bnShapes {
		n, C, HW := s[0], s[1], s[2]
		t.Run(fmt.Sprintf("n%d_C%d_HW%d", n, C, HW), func(t *testing.T) {
			r := newRand(200 + uint64(i))
			d := newDevice(t)
			// An offset mean, so that the variance is a small part of the second moment.
			x := randF32(r, n*C*HW, 2, 4)
			gamma, beta := randF32(r, C, 0.5, 1.5), randF32(r, C, -0.5, 0.5)
			rm, rv := randF32(r, C, -1, 1), randF32(r, C, 0.5, 2)
			for name, v := range map[string][]float32{"x": x, "gamma": gamma, "beta": beta, "runMean": rm, "runVar": rv} {
				d.f32(name, v)
			}
			outs := []string{"mean", "invstd", "scale", "shift"}
			for _, o := range outs {
				d.poison(o, C)
			}
			d.scalar("n", uint64(n))
			e, err := BNTrain("bn_train", C, HW)
			if err != nil {
				t.Fatal(err)
			}
			d.launch(e, n)
			want := map[string][]float32{"runMean": append([]float32(nil), rm...), "runVar": append([]float32(nil), rv...)}
			for _, o := range outs {
				want[o] = make([]float32, C)
			}
			nn.BNTrain(newCtx(t, nn.Conv{}), n, C, HW, x, gamma, beta, want["runMean"], want["runVar"], want["mean"], want["invstd"], want["scale"], want["shift"])
			for _, o := range append(outs, "runMean", "runVar") {
				check(t, o, d.read(o), want[o], 1e-5)
			}
		})
	}
}

func TestBNInferSim(t *testing.T) {
	for _, C := range []int{1, 17, 300} {
		t.Run(fmt.Sprint(C), func(t *testing.T) {
			r := newRand(300 + uint64(C))
			d := newDevice(t)
			gamma, beta := randF32(r, C, 0.5, 1.5), randF32(r, C, -0.5, 0.5)
			rm, rv := randF32(r, C, -1, 1), randF32(r, C, 1e-4, 2)
			for name, v := range map[string][]float32{"gamma": gamma, "beta": beta, "runMean": rm, "runVar": rv} {
				d.f32(name, v)
			}
			d.poison("scale", C)
			d.poison("shift", C)
			e, err := BNInfer("bn_infer", C)
			if err != nil {
				t.Fatal(err)
			}
			d.launch(e, 1)
			sc, sh := make([]float32, C), make([]float32, C)
			nn.BNInfer(C, gamma, beta, rm, rv, sc, sh)
			check(t, "scale", d.read("scale"), sc, 1e-5)
			check(t, "shift", d.read("shift"), sh, 1e-5)
		})
	}
}

func TestBNFoldSim(t *testing.T) {
	for _, s := range [][2]int{{1, 1}, {3, 27}, {17, 9}, {64, 1}, {300, 5}} {
		K, per := s[0], s[1]
		t.Run(fmt.Sprintf("K%d_per%d", K, per), func(t *testing.T) {
			r := newRand(350 + uint64(K*per))
			d := newDevice(t)
			gamma, beta := randF32(r, K, 0.5, 1.5), randF32(r, K, -0.5, 0.5)
			rm, rv := randF32(r, K, -1, 1), randF32(r, K, 1e-4, 2)
			w := randF32(r, K*per, -1, 1)
			for name, v := range map[string][]float32{"gamma": gamma, "beta": beta, "runMean": rm, "runVar": rv, "w": w} {
				d.f32(name, v)
			}
			d.poison("wf", K*per)
			d.poison("scale", K)
			d.poison("shift", K)
			e, err := BNFold("bn_fold", K, per)
			if err != nil {
				t.Fatal(err)
			}
			d.launch(e, 1)
			wf, one, bias := make([]float32, K*per), make([]float32, K), make([]float32, K)
			nn.FoldBN(K, per, gamma, beta, rm, rv, w, wf, one, bias)
			check(t, "wf", d.read("wf"), wf, 1e-5)
			check(t, "scale", d.read("scale"), one, 0)
			check(t, "shift", d.read("shift"), bias, 1e-5)
		})
	}
}

func TestBNReLUBackwardSim(t *testing.T) {
	for i, s := range bnShapes {
		for _, acc := range []bool{false, true} {
			for _, drop := range []float32{0, 0.3} {
				n, C, HW := s[0], s[1], s[2]
				t.Run(fmt.Sprintf("n%d_C%d_HW%d_acc%v_drop%g", n, C, HW, acc, drop), func(t *testing.T) {
					r := newRand(400 + uint64(i))
					d := newDevice(t)
					x := randF32(r, n*C*HW, -1, 1)
					dz := randF32(r, len(x), -1, 1)
					dx0 := randF32(r, len(x), -1, 1)
					mean, invstd, gamma := randF32(r, C, -0.2, 0.2), randF32(r, C, 0.5, 2), randF32(r, C, 0.5, 1.5)
					for name, v := range map[string][]float32{"x": x, "dz": dz, "mean": mean, "invstd": invstd, "gamma": gamma} {
						d.f32(name, v)
					}
					pre := preFor(d, r, Pre{On: true, Drop: drop}, C, 77+uint64(i))
					if acc {
						d.f32("dx", dx0)
					} else {
						d.alias("dx", "dz") // in place, as nn allows
					}
					d.poison("dgamma", C)
					d.poison("dbeta", C)
					d.scalar("n", uint64(n))
					e, err := BNReLUBackward("bn_back", C, HW, Pre{On: true, Drop: drop}, acc)
					if err != nil {
						t.Fatal(err)
					}
					d.launch(e, n)
					wantDx := append([]float32(nil), dz...)
					if acc {
						wantDx = append([]float32(nil), dx0...)
					}
					dg, db := make([]float32, C), make([]float32, C)
					nn.BNReLUBackward(newCtx(t, nn.Conv{}), n, C, HW, x, mean, invstd, gamma, pre, dz, wantDx, acc, dg, db)
					check(t, "dx", d.read("dx"), wantDx, 1e-5)
					check(t, "dgamma", d.read("dgamma"), dg, 1e-5)
					check(t, "dbeta", d.read("dbeta"), db, 1e-5)
				})
			}
		}
	}
}

func TestBNBackwardSim(t *testing.T) {
	for i, s := range bnShapes {
		for _, acc := range []bool{false, true} {
			n, C, HW := s[0], s[1], s[2]
			t.Run(fmt.Sprintf("n%d_C%d_HW%d_acc%v", n, C, HW, acc), func(t *testing.T) {
				r := newRand(450 + uint64(i))
				d := newDevice(t)
				x := randF32(r, n*C*HW, -1, 1)
				dz := randF32(r, len(x), -1, 1)
				dx0 := randF32(r, len(x), -1, 1)
				mean, invstd, gamma := randF32(r, C, -0.2, 0.2), randF32(r, C, 0.5, 2), randF32(r, C, 0.5, 1.5)
				for name, v := range map[string][]float32{"x": x, "dz": dz, "mean": mean, "invstd": invstd, "gamma": gamma} {
					d.f32(name, v)
				}
				if acc {
					d.f32("dx", dx0)
				} else {
					d.alias("dx", "dz") // in place, as nn allows
				}
				d.poison("dgamma", C)
				d.poison("dbeta", C)
				d.scalar("n", uint64(n))
				e, err := BNBackward("bn_back", C, HW, acc)
				if err != nil {
					t.Fatal(err)
				}
				d.launch(e, n)
				dx, dg, db := ref.BNBackward(n, C, HW, f64(x), f64(gamma), f64(mean), f64(invstd), f64(dz), true)
				if acc {
					for j, v := range dx0 {
						dx[j] += float64(v)
					}
				}
				check(t, "dx", d.read("dx"), round32(dx), 1e-5)
				check(t, "dgamma", d.read("dgamma"), round32(dg), 1e-5)
				check(t, "dbeta", d.read("dbeta"), round32(db), 1e-5)
			})
		}
	}
}
