package cpu

import "math"

// The reductions of batch normalization: float32 data, sums in float64.

type (
	sumF64Func       func(x *float32, n int) float64
	sqDevF64Func     func(x *float32, n int, m float64) float64
	reluGradSumsFunc func(x, dz *float32, n int, sc, sh float32) (sg, sgx float64)
	reluGradDxFunc   func(x, dz, dx *float32, n int, sc, sh float32, a, b, c float64, acc bool)
)

// statsSet is a family's reductions; nil entries mean the portable Go loops. Each runs
// on a multiple of statsBlock values (the Go code does the rest).
type statsSet struct {
	max3  max3Func
	axpy  axpyF64Func // with axpyN, the multiple of values it takes
	axpyN int
	add   addReLUFunc
	addBN addReLUBNFunc
	mask  reluMaskFunc
	sum   sumF64Func
	sqDev sqDevF64Func
	sums  reluGradSumsFunc
	dx    reluGradDxFunc
}

// statsBlock is the values per iteration of the assembly.
const statsBlock = 16

// SumF64 returns the sum of x, accumulated in float64 (in an order of its own).
func (k *Kernels) SumF64(x []float32) float64 {
	var s float64
	n := len(x) &^ (statsBlock - 1)
	if k.st.sum != nil && n > 0 {
		s = k.st.sum(&x[0], n)
	} else {
		n = 0
	}
	var a [4]float64
	i := n
	for ; i+4 <= len(x); i += 4 {
		a[0] += float64(x[i])
		a[1] += float64(x[i+1])
		a[2] += float64(x[i+2])
		a[3] += float64(x[i+3])
	}
	for ; i < len(x); i++ {
		a[0] += float64(x[i])
	}
	return s + (a[0] + a[1]) + (a[2] + a[3])
}

// SqDevF64 returns the sum of (x[i] - m)^2, in float64.
func (k *Kernels) SqDevF64(x []float32, m float64) float64 {
	var s float64
	n := len(x) &^ (statsBlock - 1)
	if k.st.sqDev != nil && n > 0 {
		s = k.st.sqDev(&x[0], n, m)
	} else {
		n = 0
	}
	var a [4]float64
	i := n
	for ; i+4 <= len(x); i += 4 {
		for j := range a {
			d := float64(x[i+j]) - m
			a[j] += d * d
		}
	}
	for ; i < len(x); i++ {
		d := float64(x[i]) - m
		a[0] += d * d
	}
	return s + (a[0] + a[1]) + (a[2] + a[3])
}

// reluGrad returns dz where max(0, v*sc + sh) > 0 (rounded after the multiply and
// after the add, as the forward pass computes it), else 0.
func reluGrad(v, d, sc, sh float32) float64 {
	if float32(v*sc)+sh > 0 {
		return float64(d)
	}
	return 0
}

// ReLUGradSums returns, in float64, the sums of g and g*x[i] over x, with g = dz[i]
// where x[i]*sc + sh > 0 (the ReLU of a BN-ReLU let it through), else 0. dz must be as
// long as x.
func (k *Kernels) ReLUGradSums(x, dz []float32, sc, sh float32) (sg, sgx float64) {
	if len(dz) < len(x) {
		k.f.failf("cpu.Kernels.ReLUGradSums: len(dz)=%d < len(x)=%d", len(dz), len(x))
		return 0, 0
	}
	n := len(x) &^ 7
	if k.st.sums != nil && n > 0 {
		sg, sgx = k.st.sums(&x[0], &dz[0], n, sc, sh)
	} else {
		n = 0
	}
	for i := n; i < len(x); i++ {
		g := reluGrad(x[i], dz[i], sc, sh)
		sg += g
		sgx += g * float64(x[i])
	}
	return sg, sgx
}

// ReLUGradDx writes dx[i] = float32(a*g + b + c*x[i]), evaluated in float64 (added to
// dx[i] when acc), with g as in ReLUGradSums. dz and dx must be as long as x; dx may be dz
// itself.
func (k *Kernels) ReLUGradDx(x, dz, dx []float32, sc, sh float32, a, b, c float64, acc bool) {
	if len(dz) < len(x) || len(dx) < len(x) {
		k.f.failf("cpu.Kernels.ReLUGradDx: len(dz)=%d len(dx)=%d < len(x)=%d", len(dz), len(dx), len(x))
		return
	}
	n := len(x) &^ 7
	if k.st.dx != nil && n > 0 {
		k.st.dx(&x[0], &dz[0], &dx[0], n, sc, sh, a, b, c, acc)
	} else {
		n = 0
	}
	for i := n; i < len(x); i++ {
		d := float32(a*reluGrad(x[i], dz[i], sc, sh) + b + c*float64(x[i]))
		if acc {
			d += dx[i]
		}
		dx[i] = d
	}
}

// max3Func writes dst[i] = max(a[i], b[i], c[i]) (NaN where any is NaN) for i < n, n a
// positive multiple of 8.
type max3Func func(dst, a, b, c *float32, n int)

// Max3 writes dst[i] = max(a[i], b[i], c[i]) for i < len(dst): NaN where any of the three
// is NaN, as Go's max; of a -0 and a +0 either may come out. a, b and c may be dst
// itself (each value is read before its position is written) but not overlap it
// otherwise. It panics when a slice is shorter than dst.
func (k *Kernels) Max3(dst, a, b, c []float32) {
	n := len(dst)
	if len(a) < n || len(b) < n || len(c) < n {
		k.f.failf("cpu.Kernels.Max3: len(dst)=%d with len(a)=%d len(b)=%d len(c)=%d", n, len(a), len(b), len(c))
		return
	}
	i := 0
	if k.st.max3 != nil && n >= 8 {
		i = n &^ 7
		k.st.max3(&dst[0], &a[0], &b[0], &c[0], i)
	}
	for ; i < n; i++ {
		dst[i] = max(a[i], b[i], c[i])
	}
}

type (
	addReLUFunc   func(z, y, r *float32, n int, sc, sh float32)
	addReLUBNFunc func(z, y, r *float32, n int, sc, sh, rsc, rsh float32)
	reluMaskFunc  func(g, z, dz *float32, n int)
)

// AddReLU writes z[i] = max(0, (y[i]*sc + sh) + r[i]) for i < len(z), the end of a
// post-activation residual block with an identity shortcut: the product and each sum
// rounded to float32 in that order, the maximum Go's (NaN for NaN, +0 for -0). z may be
// y or r itself but not overlap them otherwise. It fails when y or r is shorter than z.
func (k *Kernels) AddReLU(z, y, r []float32, sc, sh float32) {
	n := len(z)
	if len(y) < n || len(r) < n {
		k.f.failf("cpu.Kernels.AddReLU: len(z)=%d with len(y)=%d len(r)=%d", n, len(y), len(r))
		return
	}
	i := 0
	if k.st.add != nil && n >= 8 {
		i = n &^ 7
		k.st.add(&z[0], &y[0], &r[0], i, sc, sh)
	}
	for ; i < n; i++ {
		z[i] = max(0, (float32(y[i]*sc)+sh)+r[i])
	}
}

// AddReLUBN is AddReLU with a BN on the shortcut: r[i] becomes float32(r[i]*rsc) + rsh
// before it is added.
func (k *Kernels) AddReLUBN(z, y, r []float32, sc, sh, rsc, rsh float32) {
	n := len(z)
	if len(y) < n || len(r) < n {
		k.f.failf("cpu.Kernels.AddReLUBN: len(z)=%d with len(y)=%d len(r)=%d", n, len(y), len(r))
		return
	}
	i := 0
	if k.st.addBN != nil && n >= 8 {
		i = n &^ 7
		k.st.addBN(&z[0], &y[0], &r[0], i, sc, sh, rsc, rsh)
	}
	for ; i < n; i++ {
		v := float32(r[i]*rsc) + rsh
		z[i] = max(0, (float32(y[i]*sc)+sh)+v)
	}
}

// ReLUMask writes g[i] = dz[i] where z[i] > 0, else +0, for i < len(g): the gradient
// through a ReLU from its output z. g may be dz itself. It fails when z or dz is shorter
// than g.
func (k *Kernels) ReLUMask(g, z, dz []float32) {
	n := len(g)
	if len(z) < n || len(dz) < n {
		k.f.failf("cpu.Kernels.ReLUMask: len(g)=%d with len(z)=%d len(dz)=%d", n, len(z), len(dz))
		return
	}
	i := 0
	if k.st.mask != nil && n >= 8 {
		i = n &^ 7
		k.st.mask(&g[0], &z[0], &dz[0], i)
	}
	for ; i < n; i++ {
		var keep uint32 // all ones where z > 0: a conditional move, not a branch
		if z[i] > 0 {
			keep = ^uint32(0)
		}
		g[i] = math.Float32frombits(math.Float32bits(dz[i]) & keep)
	}
}

// axpyF64Func adds a*float64(x[i]) to dst[i] for i < n, n a positive multiple of the
// family's axpyN.
type axpyF64Func func(dst *float64, x *float32, n int, a float64)

// AxpyF64 adds a*float64(x[i]) to dst[i] for i < len(x): a multiply and then an add in
// float64, each rounded (no FMA), so every family computes the same bits. It fails when
// dst is shorter than x.
func (k *Kernels) AxpyF64(dst []float64, a float64, x []float32) {
	if len(dst) < len(x) {
		k.f.failf("cpu.Kernels.AxpyF64: len(dst)=%d < len(x)=%d", len(dst), len(x))
		return
	}
	i := 0
	if k.st.axpy != nil && len(x) >= k.st.axpyN {
		i = len(x) / k.st.axpyN * k.st.axpyN
		k.st.axpy(&dst[0], &x[0], i, a)
	}
	for ; i < len(x); i++ {
		dst[i] += float64(a * float64(x[i])) // the conversion keeps a compiler from fusing an FMA
	}
}
