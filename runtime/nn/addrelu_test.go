package nn

import (
	"fmt"
	"math"
	"testing"

	"github.com/wrnc/wrnc/testdata/ref"
)

var addCases = []struct {
	n, C, HW, threads int
}{
	{1, 3, 35, 1},
	{3, 4, 49, 2},
	{3, 17, 15, 3},
	{1, 2, 1, 2},
	{2, 5, 64, 2},
}

// TestAddReLU compares AddReLUForward (identity and BN shortcut, z a buffer of its own or
// y or res itself) and AddReLUBackward (g a buffer of its own or dz) with the float64
// reference, and checks the forward's float32 rounding bit for bit.
func TestAddReLU(t *testing.T) {
	for i, tc := range addCases {
		for _, short := range []string{"identity", "bn"} {
			for _, out := range []string{"z", "z=y", "z=res"} {
				t.Run(fmt.Sprintf("n=%d,C=%d,HW=%d,t=%d/%s/%s", tc.n, tc.C, tc.HW, tc.threads, short, out), func(t *testing.T) {
					r := newRand(uint64(1200 + i))
					size := tc.n * tc.C * tc.HW
					y, res := randF32(r, size, -2, 2), randF32(r, size, -2, 2)
					scale, shift := randF32(r, tc.C, -1.5, 1.5), randF32(r, tc.C, -0.5, 0.5)
					var rscale, rshift []float32
					if short == "bn" {
						rscale, rshift = randF32(r, tc.C, -1.5, 1.5), randF32(r, tc.C, -0.5, 0.5)
					}
					var wrscale, wrshift []float64 // nil for an identity shortcut
					if rscale != nil {
						wrscale, wrshift = f64(rscale), f64(rshift)
					}
					want := ref.AddReLU(tc.n, tc.C, tc.HW, f64(y), f64(scale), f64(shift), f64(res), wrscale, wrshift)
					exact := addReLU32(tc.C, tc.HW, y, scale, shift, res, rscale, rshift)
					z := randF32(r, size, -9, 9)
					switch out {
					case "z=y":
						z = append([]float32(nil), y...)
						y = z
					case "z=res":
						z = append([]float32(nil), res...)
						res = z
					}
					ctx := newTestCtx(t, tc.threads, 0)
					AddReLUForward(ctx, tc.n, tc.C, tc.HW, y, scale, shift, res, rscale, rshift, z)
					checkClose(t, "z", z, want, tol)
					if j := firstDiff(z, exact); j >= 0 {
						t.Errorf("z[%d] = %v, rounded in float32 in order %v", j, z[j], exact[j])
					}
					if size > 4 && (countPositive(z) == 0 || countPositive(z) == size) {
						t.Fatalf("%d of %d values pass the ReLU: the mask is not tested", countPositive(z), size)
					}

					dz := randF32(r, size, -1, 1)
					wg := ref.AddReLUBackward(f64(z), f64(dz))
					g := randF32(r, size, -9, 9)
					if out == "z=y" {
						g = dz // in place
					}
					AddReLUBackward(ctx, tc.n, tc.C, tc.HW, z, dz, g)
					checkClose(t, "g", g, wg, tol)
				})
			}
		}
	}
}

// addReLU32 is AddReLUForward as scalar float32 code, each product and sum rounded.
func addReLU32(C, HW int, y, scale, shift, res, rscale, rshift []float32) []float32 {
	z := make([]float32, len(y))
	for e := range y {
		ch := e / HW % C
		r := res[e]
		if rscale != nil {
			r = float32(res[e]*rscale[ch]) + rshift[ch]
		}
		z[e] = max(0, (float32(y[e]*scale[ch])+shift[ch])+r)
	}
	return z
}

func countPositive(s []float32) int {
	k := 0
	for _, v := range s {
		if v > 0 {
			k++
		}
	}
	return k
}

// TestAddReLUBNChain runs the end of a post-activation block as generated code does:
// BNTrain of the block's last conv output y (and of the shortcut's conv output res, or an
// identity shortcut), AddReLUForward, AddReLUBackward, and BNBackward of each BN (the
// shortcut's in place), against the float64 chain that TestRefAddReLUBNGrad checks by
// finite differences.
func TestAddReLUBNChain(t *testing.T) {
	for i, tc := range addCases {
		if tc.n*tc.HW == 1 {
			continue
		}
		for _, short := range []string{"identity", "bn"} {
			t.Run(fmt.Sprintf("n=%d,C=%d,HW=%d,t=%d/%s", tc.n, tc.C, tc.HW, tc.threads, short), func(t *testing.T) {
				r := newRand(uint64(1300 + i))
				size := tc.n * tc.C * tc.HW
				y, res := randF32(r, size, -1, 3), randF32(r, size, -1, 3)
				p, q := randBN(uint64(1400+i), tc.C), randBN(uint64(1500+i), tc.C)
				dz := randF32(r, size, -1, 1)
				ctx := newTestCtx(t, tc.threads, 0)
				bn := func(x []float32, p bnParams) (mean, invstd, scale, shift []float32) {
					mean, invstd = make([]float32, tc.C), make([]float32, tc.C)
					scale, shift = make([]float32, tc.C), make([]float32, tc.C)
					BNTrain(ctx, tc.n, tc.C, tc.HW, x, p.gamma, p.beta, p.runMean, p.runVar, mean, invstd, scale, shift)
					return
				}
				mean, invstd, scale, shift := bn(y, p)
				var rmean, rinvstd, rscale, rshift []float32
				if short == "bn" {
					rmean, rinvstd, rscale, rshift = bn(res, q)
				}
				z := make([]float32, size)
				AddReLUForward(ctx, tc.n, tc.C, tc.HW, y, scale, shift, res, rscale, rshift, z)
				g := make([]float32, size)
				AddReLUBackward(ctx, tc.n, tc.C, tc.HW, z, dz, g)
				dy, dgamma, dbeta := make([]float32, size), make([]float32, tc.C), make([]float32, tc.C)
				BNBackward(ctx, tc.n, tc.C, tc.HW, y, mean, invstd, p.gamma, g, dy, false, dgamma, dbeta)
				dres, rdgamma, rdbeta := g, make([]float32, tc.C), make([]float32, tc.C)
				if short == "bn" {
					BNBackward(ctx, tc.n, tc.C, tc.HW, res, rmean, rinvstd, q.gamma, g, g, false, rdgamma, rdbeta)
				}

				w := refPostActBlock(tc.n, tc.C, tc.HW, f64(y), f64(p.gamma), f64(p.beta), f64(res), f64(q.gamma), f64(q.beta), short == "bn", f64(dz))
				checkClose(t, "z", z, w.z, tol)
				checkClose(t, "dy", dy, w.dy, tol)
				checkClose(t, "dgamma", dgamma, w.dgamma, tol)
				checkClose(t, "dbeta", dbeta, w.dbeta, tol)
				checkClose(t, "dres", dres, w.dres, tol)
				if short == "bn" {
					checkClose(t, "shortcut dgamma", rdgamma, w.rdgamma, tol)
					checkClose(t, "shortcut dbeta", rdbeta, w.rdbeta, tol)
				}
			})
		}
	}
}

// postAct is the float64 end of a post-activation block and its gradients.
type postAct struct {
	z, dy, dgamma, dbeta, dres, rdgamma, rdbeta []float64
}

// refPostActBlock returns z = relu(bn(y) + r), r = bn'(res) when bnShort else res (both
// BNs in training mode), and the gradients of dot(dz, z).
func refPostActBlock(n, C, HW int, y, gamma, beta, res, rgamma, rbeta []float64, bnShort bool, dz []float64) postAct {
	train := func(x, gamma, beta []float64) (mean, inv, scale, shift []float64) {
		mean, vr := ref.BNStats(n, C, HW, x)
		scale, shift = ref.BNAffine(gamma, beta, mean, vr)
		inv = make([]float64, C)
		for ch := range inv {
			inv[ch] = 1 / math.Sqrt(vr[ch]+bnEps)
		}
		return mean, inv, scale, shift
	}
	mean, inv, scale, shift := train(y, gamma, beta)
	var o postAct
	var rmean, rinv, rscale, rshift []float64
	if bnShort {
		rmean, rinv, rscale, rshift = train(res, rgamma, rbeta)
	}
	o.z = ref.AddReLU(n, C, HW, y, scale, shift, res, rscale, rshift)
	g := ref.AddReLUBackward(o.z, dz)
	o.dy, o.dgamma, o.dbeta = ref.BNBackward(n, C, HW, y, gamma, mean, inv, g, true)
	o.dres = g
	if bnShort {
		o.dres, o.rdgamma, o.rdbeta = ref.BNBackward(n, C, HW, res, rgamma, rmean, rinv, g, true)
	}
	return o
}
