package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// statsTol bounds the relative error of the float64 reductions (sums of float32 values
// in float64: exact but for the order of the additions).
const statsTol = 1e-12

func TestStats(t *testing.T) {
	for _, k := range kernelFamilies(t) {
		for _, n := range []int{1, 7, 8, 16, 24, 33, 48, 56, 1024, 1031, 1048} {
			t.Run(fmt.Sprintf("%s/n=%d", k.Name(), n), func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(n), 9))
				x, dz := randSlice(r, n), randSlice(r, n)
				for i := range x {
					x[i] += 3 // a mean away from zero
				}
				const sc, sh = float32(-1.3), float32(3.9)
				var s, q, sg, sgx, sgm, sgxm float64
				for _, v := range x {
					s += float64(v)
				}
				m := s / float64(n)
				for i, v := range x {
					q += (float64(v) - m) * (float64(v) - m)
					if float32(v*sc)+sh > 0 {
						sg += float64(dz[i])
						sgx += float64(dz[i]) * float64(v)
					}
					sgm += math.Abs(float64(dz[i]))
					sgxm += math.Abs(float64(dz[i]) * float64(v))
				}
				close := func(name string, got, want, mag float64) {
					if math.Abs(got-want) > statsTol*mag {
						t.Errorf("%s = %.17g, want %.17g", name, got, want)
					}
				}
				close("SumF64", k.SumF64(x), s, 4*float64(n))
				close("SqDevF64", k.SqDevF64(x, m), q, q)
				gs, gsx := k.ReLUGradSums(x, dz, sc, sh)
				close("sum g", gs, sg, sgm)
				close("sum g*x", gsx, sgx, sgxm)
				const a, b, c = 0.7, -0.25, 1.5
				for _, acc := range []bool{false, true} {
					dx := randSlice(r, n)
					dx0 := append([]float32(nil), dx...)
					k.ReLUGradDx(x, dz, dx, sc, sh, a, b, c, acc)
					for i, v := range x {
						g := 0.0
						if float32(v*sc)+sh > 0 {
							g = float64(dz[i])
						}
						want := float32(a*g + b + c*float64(v))
						if acc {
							want += dx0[i]
						}
						if d := math.Abs(float64(dx[i] - want)); d > 1e-6*math.Abs(float64(want)) {
							t.Fatalf("ReLUGradDx acc=%v [%d] = %v, want %v", acc, i, dx[i], want)
						}
					}
				}
			})
		}
	}
}

// TestMax3 compares Max3 of every family with Go's max on random values with NaNs,
// infinities and zeros of both signs, at lengths around the 8-value blocks, and in place.
func TestMax3(t *testing.T) {
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1))}
	for _, k := range kernelFamilies(t) {
		for _, n := range []int{1, 7, 8, 9, 16, 31, 40} {
			r := rand.New(rand.NewPCG(uint64(n), 3))
			gen := func() []float32 {
				s := randSlice(r, n)
				for i := range s {
					if r.IntN(4) == 0 {
						s[i] = special[r.IntN(len(special))]
					}
				}
				return s
			}
			a, b, c := gen(), gen(), gen()
			dst := gen()
			k.Max3(dst, a, b, c)
			for i := range dst {
				want := max(a[i], b[i], c[i])
				if got := dst[i]; !(got == want || got != got && want != want) {
					t.Fatalf("%s n=%d: max(%v, %v, %v) = %v, want %v", k.Name(), n, a[i], b[i], c[i], got, want)
				}
			}
			in := append([]float32(nil), a...)
			k.Max3(in, in, b, c)
			for i := range in {
				if want := dst[i]; !(in[i] == want || in[i] != in[i] && want != want) {
					t.Fatalf("%s n=%d in place: %v at %d, want %v", k.Name(), n, in[i], i, want)
				}
			}
		}
		if err := k.Err(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAddReLUAndMask checks AddReLU, AddReLUBN and ReLUMask of every family bit for bit
// against float64-free scalar formulas (each step rounded to float32 as documented), with
// NaNs, infinities and signed zeros among random values, tails and the in-place forms.
func TestAddReLUAndMask(t *testing.T) {
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1))}
	same := func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) || a != a && b != b }
	for _, k := range kernelFamilies(t) {
		for _, n := range []int{1, 7, 8, 9, 16, 31, 40} {
			r := rand.New(rand.NewPCG(uint64(n), 5))
			gen := func() []float32 {
				s := randSlice(r, n)
				for i := range s {
					if r.IntN(5) == 0 {
						s[i] = special[r.IntN(len(special))]
					}
				}
				return s
			}
			y, res, dz := gen(), gen(), gen()
			sc, sh, rsc, rsh := r.Float32()*2-1, r.Float32()-0.5, r.Float32()*2-1, r.Float32()-0.5
			z := make([]float32, n)
			k.AddReLU(z, y, res, sc, sh)
			zb := make([]float32, n)
			k.AddReLUBN(zb, y, res, sc, sh, rsc, rsh)
			g := make([]float32, n)
			k.ReLUMask(g, z, dz)
			for i := range z {
				s := (float32(y[i]*sc) + sh) + res[i]
				want := s
				if !(s > 0) && s == s {
					want = 0 // +0, also for a sum of -0
				}
				if !same(z[i], want) {
					t.Fatalf("%s n=%d: AddReLU(%v, %v) = %v, want %v", k.Name(), n, y[i], res[i], z[i], want)
				}
				sb := (float32(y[i]*sc) + sh) + (float32(res[i]*rsc) + rsh)
				wantb := sb
				if !(sb > 0) && sb == sb {
					wantb = 0
				}
				if !same(zb[i], wantb) {
					t.Fatalf("%s n=%d: AddReLUBN(%v, %v) = %v, want %v", k.Name(), n, y[i], res[i], zb[i], wantb)
				}
				wantg := float32(0)
				if z[i] > 0 {
					wantg = dz[i]
				}
				if !same(g[i], wantg) {
					t.Fatalf("%s n=%d: ReLUMask(%v, %v) = %v, want %v", k.Name(), n, z[i], dz[i], g[i], wantg)
				}
			}
			in := append([]float32(nil), y...)
			k.AddReLU(in, in, res, sc, sh)
			inb := append([]float32(nil), res...)
			k.AddReLUBN(inb, y, inb, sc, sh, rsc, rsh)
			ing := append([]float32(nil), dz...)
			k.ReLUMask(ing, z, ing)
			for i := range in {
				if !same(in[i], z[i]) || !same(inb[i], zb[i]) || !same(ing[i], g[i]) {
					t.Fatalf("%s n=%d in place at %d: %v %v %v, want %v %v %v", k.Name(), n, i, in[i], inb[i], ing[i], z[i], zb[i], g[i])
				}
			}
		}
		if err := k.Err(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAxpyF64 checks AxpyF64 of every family bit for bit against the Go loop (a multiply,
// then an add), at lengths that take the assembly, its tail and neither.
func TestAxpyF64(t *testing.T) {
	for _, k := range kernelFamilies(t) {
		for _, n := range []int{1, 7, 8, 15, 16, 17, 40, 333} {
			r := rand.New(rand.NewPCG(uint64(n), 21))
			x := randSlice(r, n)
			dst := make([]float64, n+1)
			for i := range dst {
				dst[i] = r.NormFloat64()
			}
			want := append([]float64(nil), dst...)
			a := r.NormFloat64()
			for i, v := range x {
				want[i] += float64(a * float64(v))
			}
			k.AxpyF64(dst, a, x)
			for i := range dst {
				if math.Float64bits(dst[i]) != math.Float64bits(want[i]) {
					t.Fatalf("%s n=%d: dst[%d] = %v, want %v", k.Name(), n, i, dst[i], want[i])
				}
			}
		}
		if err := k.Err(); err != nil {
			t.Fatal(err)
		}
	}
}
