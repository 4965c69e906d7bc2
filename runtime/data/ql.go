package data

import (
	"fmt"
	"math"
	"slices"
)

// maxQLIterations bounds the QL iterations spent on one eigenvalue.
const maxQLIterations = 60

// tql2 diagonalizes the tridiagonal matrix (diagonal d, sub-diagonal e[1:])
// by implicit QL with shifts, applying the rotations to the rows of t, then
// sorts the eigenvalues ascending with their rows.
//
// The eigenvalues are first computed without vectors (O(n^2)); the first
// iteration on each eigenvalue then shifts by the computed eigenvalue
// nearest the usual Wilkinson-type shift ("perfect shift"), which mostly
// deflates it in one sweep instead of about two. This halves the rotations
// applied to t, where nearly all the time goes. Later iterations, if any, use
// the usual shift.
func tql2(t []float64, n int, d, e []float64, workers int) error {
	for i := 1; i < n; i++ {
		e[i-1] = e[i]
	}
	e[n-1] = 0
	dv, ev := slices.Clone(d), slices.Clone(e)
	if err := ql(dv, ev, nil, nil); err != nil {
		return err
	}
	slices.Sort(dv)
	rb := newRotations(t, n, workers)
	if err := ql(d, e, dv, rb); err != nil {
		return err
	}
	rb.finish()
	// Selection sort, ascending, swapping eigenvector rows.
	for i := range n - 1 {
		k := i
		for j := i + 1; j < n; j++ {
			if d[j] < d[k] {
				k = j
			}
		}
		if k != i {
			d[k], d[i] = d[i], d[k]
			ri, rk := t[i*n:(i+1)*n], t[k*n:(k+1)*n]
			for j := range ri {
				ri[j], rk[j] = rk[j], ri[j]
			}
		}
	}
	return nil
}

// ql runs the QL iteration on (d, e), recording the rotations in rb when it
// is not nil. shifts, when not nil, are the sorted eigenvalues to use as
// perfect shifts; the one nearest each converged eigenvalue is then
// marked used.
func ql(d, e, shifts []float64, rb *rotations) error {
	n := len(d)
	used := make([]bool, len(shifts))
	f, tst1 := 0.0, 0.0
	const eps = 0x1p-52
	for l := range n {
		tst1 = max(tst1, math.Abs(d[l])+math.Abs(e[l]))
		m := l
		for m < n-1 && math.Abs(e[m]) > eps*tst1 {
			m++
		}
		for iter := 0; m > l; iter++ {
			if iter == maxQLIterations {
				return fmt.Errorf("data: symmetric eigendecomposition did not converge (eigenvalue %d of %d)", l, n)
			}
			// Wilkinson-type shift: the eigenvalue of the leading 2x2
			// block nearest d[l].
			g := d[l]
			p := (d[l+1] - g) / (2 * e[l])
			r := math.Hypot(p, 1)
			if p < 0 {
				r = -r
			}
			perfect := iter == 0 && shifts != nil
			var h, dl1 float64
			if perfect {
				h = shifts[nearestUnused(shifts, used, f+g-e[l]/(p+r))] - f
				for i := l; i < n; i++ {
					d[i] -= h
				}
			} else {
				d[l] = e[l] / (p + r)
				d[l+1] = e[l] * (p + r)
				dl1 = d[l+1]
				h = g - d[l]
				for i := l + 2; i < n; i++ {
					d[i] -= h
				}
			}
			f += h
			// QL sweep.
			p = d[m]
			c, c2, c3 := 1.0, 1.0, 1.0
			el1 := e[l+1]
			s, s2 := 0.0, 0.0
			sw := -1
			if rb != nil {
				sw = rb.sweep(l, m)
			}
			for i := m - 1; i >= l; i-- {
				c3, c2, s2 = c2, c, s
				g = c * e[i]
				h = c * p
				r = math.Hypot(p, e[i])
				e[i+1] = s * r
				s = e[i] / r
				c = p / r
				p = c*d[i] - s*g
				d[i+1] = h + s*(c*g+s*d[i])
				if rb != nil {
					rb.rotate(sw, i, c, s)
				}
			}
			if !perfect {
				// The shifted leading 2x2 block is singular, which
				// gives a more accurate last step (JAMA's tql2).
				p = -s * s2 * c3 * el1 * e[l] / dl1
			}
			e[l] = s * p
			d[l] = c * p
			if math.Abs(e[l]) <= eps*tst1 {
				break
			}
		}
		d[l] += f
		e[l] = 0
		if shifts != nil {
			used[nearestUnused(shifts, used, d[l])] = true
		}
	}
	return nil
}

// nearestUnused returns the index of the unused value of the sorted vals
// nearest x.
func nearestUnused(vals []float64, used []bool, x float64) int {
	k, _ := slices.BinarySearch(vals, x)
	lo, hi := k-1, k
	for lo >= 0 && used[lo] {
		lo--
	}
	for hi < len(vals) && used[hi] {
		hi++
	}
	switch {
	case lo < 0:
		return hi
	case hi >= len(vals):
		return lo
	case x-vals[lo] <= vals[hi]-x:
		return lo
	}
	return hi
}
