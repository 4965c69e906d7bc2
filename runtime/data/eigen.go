package data

import (
	"fmt"
	"math"
	"runtime"
	"sync"
)

// SymEigen computes the eigenvalues and eigenvectors of the symmetric n x n
// matrix a (row-major, not modified). It returns the eigenvalues in ascending
// order and the eigenvectors as the rows of vecs (row k, vecs[k*n:(k+1)*n],
// belongs to vals[k]), so that a = sum_k vals[k] v_k v_k^T.
//
// The method is Householder tridiagonalization followed by the implicit QL
// algorithm (EISPACK tred2 and tql2, as in JAMA), laid out so that every
// O(n^3) loop runs along rows of a row-major matrix, with the QL rotations
// applied as fast Givens rotations in wavefronts (see rotations). The O(n^3)
// loops are spread over GOMAXPROCS goroutines.
func SymEigen(a []float64, n int) (vals, vecs []float64, err error) {
	return symEigen(a, n, runtime.GOMAXPROCS(0))
}

func symEigen(a []float64, n int, workers int) (vals, vecs []float64, err error) {
	if n <= 0 || len(a) != n*n {
		return nil, nil, fmt.Errorf("data: SymEigen needs an n x n matrix with n >= 1, got n=%d and %d values", n, len(a))
	}
	for i, v := range a {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, nil, fmt.Errorf("data: SymEigen: entry (%d, %d) is %g", i/n, i%n, v)
		}
	}
	// t holds JAMA's V transposed: V[r][c] == t[c*n+r]. a is symmetric, so
	// the starting t is a itself.
	t := append([]float64(nil), a...)
	d := make([]float64, n)
	e := make([]float64, n)
	workers = max(1, workers)
	tred2(t, n, d, e, workers)
	if err := tql2(t, n, d, e, workers); err != nil {
		return nil, nil, err
	}
	return d, t, nil
}

// parallelMin is the row length below which the row loops run on one goroutine.
const parallelMin = 192

// forRows calls f(id, j) for every j in [lo, hi), spread over workers
// goroutines in interleaved chunks of 8 rows (id is the goroutine's index).
func forRows(workers, lo, hi int, f func(id, j int)) {
	if workers <= 1 || hi-lo < 2*8 {
		for j := lo; j < hi; j++ {
			f(0, j)
		}
		return
	}
	const chunk = 8
	var wg sync.WaitGroup
	for id := range workers {
		wg.Go(func() {
			for c := lo + id*chunk; c < hi; c += workers * chunk {
				for j := c; j < min(c+chunk, hi); j++ {
					f(id, j)
				}
			}
		})
	}
	wg.Wait()
}

// tred2 reduces the matrix to tridiagonal form (diagonal d, sub-diagonal e)
// and accumulates the orthogonal transformation, whose columns end up as the
// rows of t. Row j of t holds the active part of column j of JAMA's V, from
// the diagonal on.
func tred2(t []float64, n int, d, e []float64, workers int) {
	partial := make([][]float64, workers) // per-goroutine parts of e = A u
	for id := range partial {
		partial[id] = make([]float64, n)
	}
	for j := range n {
		d[j] = t[j*n+n-1]
	}
	for i := n - 1; i > 0; i-- {
		w := workers
		if i < parallelMin {
			w = 1
		}
		scale, h := 0.0, 0.0
		for _, v := range d[:i] {
			scale += math.Abs(v)
		}
		if scale == 0 {
			e[i] = d[i-1]
			for j := range i {
				d[j] = t[j*n+i-1]
				t[j*n+i] = 0
				t[i*n+j] = 0
			}
			d[i] = h
			continue
		}
		// Householder vector u = d[:i], kept in row i.
		for k := range i {
			d[k] /= scale
			h += d[k] * d[k]
		}
		f := d[i-1]
		g := math.Sqrt(h)
		if f > 0 {
			g = -g
		}
		e[i] = scale * g
		h -= f * g
		d[i-1] = f - g
		copy(t[i*n:i*n+i], d[:i])
		// e = A u, A the leading i x i block.
		for id := range w {
			clear(partial[id][:i])
		}
		forRows(w, 0, i, func(id, j int) {
			row := t[j*n+j : j*n+i]
			part := partial[id]
			part[j] += row[0]*d[j] + symRowUpdate(row[1:], d[j+1:i], part[j+1:i], d[j])
		})
		for j := range i {
			s := 0.0
			for id := range w {
				s += partial[id][j]
			}
			e[j] = s
		}
		f = 0
		for j := range i {
			e[j] /= h
			f += e[j] * d[j]
		}
		hh := f / (h + h)
		for j := range i {
			e[j] -= hh * d[j]
		}
		// A -= u e^T + e u^T, then gather the next column.
		forRows(w, 0, i, func(_, j int) {
			rank2(t[j*n+j:j*n+i], d[j:i], e[j:i], d[j], e[j])
		})
		for j := range i {
			d[j] = t[j*n+i-1]
			t[j*n+i] = 0
		}
		d[i] = h
	}
	accumulate(t, n, d, e, workers)
}

// accumulateBlock is the number of Householder reflectors accumulate applies
// in one pass over the rows of t.
const accumulateBlock = 8

// accumulate forms the orthogonal matrix of tred2's Householder reflectors
// (stored in the rows of t, their norms in d) in t, and leaves the
// tridiagonal's diagonal in d and e[0] = 0. Reflector i updates the first
// i+1 entries of rows 0..i, each row on its own, so the reflectors are
// applied accumulateBlock at a time, row by row, while the row is in cache.
func accumulate(t []float64, n int, d, e []float64, workers int) {
	var h [accumulateBlock]float64
	var u, du [accumulateBlock][]float64
	for q := range accumulateBlock {
		u[q] = make([]float64, n)
		du[q] = make([]float64, n)
	}
	for bs := 0; bs < n-1; bs += accumulateBlock {
		be := min(bs+accumulateBlock, n-1)
		for i := bs; i < be; i++ {
			q := i - bs
			h[q] = d[i+1]
			src := t[(i+1)*n : (i+1)*n+i+1]
			copy(u[q], src)
			if h[q] != 0 {
				for k, v := range src {
					du[q][k] = v / h[q]
				}
			}
		}
		for i := bs; i < be; i++ {
			t[i*n+n-1] = t[i*n+i]
			t[i*n+i] = 1
			clear(t[(i+1)*n : (i+1)*n+i+1])
		}
		w := workers
		if be < parallelMin {
			w = 1
		}
		forRows(w, 0, be, func(_, j int) {
			for i := max(bs, j); i < be; i++ {
				if q := i - bs; h[q] != 0 {
					row := t[j*n : j*n+i+1]
					axpy(-dot(u[q][:i+1], row), du[q], row)
				}
			}
		})
	}
	for j := range n {
		d[j] = t[j*n+n-1]
		t[j*n+n-1] = 0
	}
	t[n*n-1] = 1
	e[0] = 0
}
