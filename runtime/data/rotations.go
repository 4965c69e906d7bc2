package data

import (
	"math"
	"sync"
)

// rotations applies the plane rotations of the QL sweeps to the rows of t,
// which is where nearly all the time of SymEigen goes (about n^3 row
// updates). Two things make it fast in scalar Go:
//
//   - Square-root-free ("fast") Givens rotations: every row i carries a scale
//     sig[i] (the true row is sig[i] times the stored one), so a rotation
//     costs 2 multiplications and 2 additions per element instead of 4 and 2.
//     The form is chosen per rotation (|c| >= |s| or not) so that the scales
//     shrink by at most 1/sqrt(2) per rotation; rows are rescaled between
//     batches, long before they could underflow.
//   - Wavefront application: the rotations of a batch of sweeps are gathered,
//     then applied strip by strip of columns, sweep s lagging two rows behind
//     sweep s-1, so that only about 2*batch rows of the strip are live at a
//     time and stay in the L1 cache (each element of t is loaded and stored
//     once per batch instead of once per sweep).
type rotations struct {
	t       []float64
	n       int
	workers int
	sig     []float64 // row scales
	sweeps  []qlSweep
	coef    []float64 // (alpha, beta) of every gathered rotation
	swap    []bool    // whether a rotation has the second form
}

// qlSweep is one QL sweep: rotations of rows (i, i+1) for i = m-1 down to l,
// rotation i stored at index off + m-1-i of coef (pairs) and swap.
type qlSweep struct{ l, m, off int }

const (
	// waveSweeps is the number of sweeps gathered before they are applied.
	waveSweeps = 32
	// waveWidth is the number of columns of t one strip holds; 2*waveSweeps
	// rows of it (32 KiB) are live in the wave.
	waveWidth = 64
	// rescaleBelow is the row scale below which a row is rescaled after a
	// batch; a batch shrinks a scale by at most 2^-waveSweeps.
	rescaleBelow = 0x1p-200
)

func newRotations(t []float64, n, workers int) *rotations {
	sig := make([]float64, n)
	for i := range sig {
		sig[i] = 1
	}
	return &rotations{t: t, n: n, workers: workers, sig: sig}
}

// sweep starts a sweep over rows l..m and returns its index.
func (rb *rotations) sweep(l, m int) int {
	if len(rb.sweeps) == waveSweeps {
		rb.flush()
	}
	off := len(rb.swap)
	rb.coef = append(rb.coef, make([]float64, 2*(m-l))...)
	rb.swap = append(rb.swap, make([]bool, m-l)...)
	rb.sweeps = append(rb.sweeps, qlSweep{l, m, off})
	return len(rb.sweeps) - 1
}

// rotate records the rotation of rows (i, i+1) of sweep sw: the new rows are
// (c*x - s*y, s*x + c*y). Rotations of a sweep come in order, i descending.
func (rb *rotations) rotate(sw, i int, c, s float64) {
	q := rb.sweeps[sw]
	r := q.off + q.m - 1 - i
	sx, sy := rb.sig[i], rb.sig[i+1]
	if math.Abs(c) >= math.Abs(s) {
		// y' = c*sy * (y + alpha*x), x' = c*sx * (x - beta*y)
		rb.coef[2*r], rb.coef[2*r+1] = s*sx/(c*sy), s*sy/(c*sx)
		rb.sig[i], rb.sig[i+1] = c*sx, c*sy
	} else {
		// y' = s*sx * (x + alpha*y), x' = -s*sy * (y - beta*x)
		rb.coef[2*r], rb.coef[2*r+1] = c*sy/(s*sx), c*sx/(s*sy)
		rb.sig[i], rb.sig[i+1] = -s*sy, s*sx
		rb.swap[r] = true
	}
}

// flush applies the gathered rotations to every column of t.
func (rb *rotations) flush() {
	if len(rb.sweeps) == 0 {
		return
	}
	strips := (rb.n + waveWidth - 1) / waveWidth
	if w := min(rb.workers, strips); w <= 1 {
		for k := range strips {
			rb.wave(k * waveWidth)
		}
	} else {
		var wg sync.WaitGroup
		for id := range w {
			wg.Go(func() {
				for k := id; k < strips; k += w {
					rb.wave(k * waveWidth)
				}
			})
		}
		wg.Wait()
	}
	for i, s := range rb.sig {
		if math.Abs(s) < rescaleBelow {
			rb.scaleRow(i)
		}
	}
	rb.sweeps = rb.sweeps[:0]
	rb.coef = rb.coef[:0]
	rb.swap = rb.swap[:0]
}

// finish applies what is gathered and multiplies every row by its scale.
func (rb *rotations) finish() {
	rb.flush()
	for i, s := range rb.sig {
		if s != 1 {
			rb.scaleRow(i)
		}
	}
}

// scaleRow multiplies row i by its scale, which becomes 1.
func (rb *rotations) scaleRow(i int) {
	row := rb.t[i*rb.n : (i+1)*rb.n]
	s := rb.sig[i]
	for k := range row {
		row[k] *= s
	}
	rb.sig[i] = 1
}

// wave applies the gathered rotations to the strip of columns from k0:
// rotation (s, i) at step top-i+2s. Rotations sharing a row keep their order
// (within a sweep i descends; sweep s+1 at i comes after sweep s at i-1), and
// rotations of one step touch disjoint rows.
func (rb *rotations) wave(k0 int) {
	t, n := rb.t, rb.n
	k1 := min(k0+waveWidth, n)
	top, bottom := 0, n
	for _, q := range rb.sweeps {
		top, bottom = max(top, q.m-1), min(bottom, q.l)
	}
	last := top - bottom + 2*(len(rb.sweeps)-1)
	for step := 0; step <= last; step++ {
		for s, q := range rb.sweeps {
			i := top - step + 2*s
			if i >= q.m || i < q.l {
				continue
			}
			r := q.off + q.m - 1 - i
			x := t[i*n+k0 : i*n+k1]
			y := t[(i+1)*n+k0 : (i+1)*n+k1]
			if rb.swap[r] {
				rotate2(x, y, rb.coef[2*r], rb.coef[2*r+1])
			} else {
				rotate1(x, y, rb.coef[2*r], rb.coef[2*r+1])
			}
		}
	}
}

// rotate1 sets y = y + alpha*x, x = x - beta*y (old values on the right).
func rotate1(x, y []float64, alpha, beta float64) {
	y = y[:len(x)]
	k := 0
	for ; k+4 <= len(x); k += 4 {
		xs, ys := x[k:k+4:k+4], y[k:k+4:k+4]
		x0, x1, x2, x3 := xs[0], xs[1], xs[2], xs[3]
		y0, y1, y2, y3 := ys[0], ys[1], ys[2], ys[3]
		ys[0] = y0 + alpha*x0
		ys[1] = y1 + alpha*x1
		ys[2] = y2 + alpha*x2
		ys[3] = y3 + alpha*x3
		xs[0] = x0 - beta*y0
		xs[1] = x1 - beta*y1
		xs[2] = x2 - beta*y2
		xs[3] = x3 - beta*y3
	}
	for ; k < len(x); k++ {
		x0, y0 := x[k], y[k]
		y[k] = y0 + alpha*x0
		x[k] = x0 - beta*y0
	}
}

// rotate2 sets y = x + alpha*y, x = y - beta*x (old values on the right).
func rotate2(x, y []float64, alpha, beta float64) {
	y = y[:len(x)]
	k := 0
	for ; k+4 <= len(x); k += 4 {
		xs, ys := x[k:k+4:k+4], y[k:k+4:k+4]
		x0, x1, x2, x3 := xs[0], xs[1], xs[2], xs[3]
		y0, y1, y2, y3 := ys[0], ys[1], ys[2], ys[3]
		ys[0] = x0 + alpha*y0
		ys[1] = x1 + alpha*y1
		ys[2] = x2 + alpha*y2
		ys[3] = x3 + alpha*y3
		xs[0] = y0 - beta*x0
		xs[1] = y1 - beta*x1
		xs[2] = y2 - beta*x2
		xs[3] = y3 - beta*x3
	}
	for ; k < len(x); k++ {
		x0, y0 := x[k], y[k]
		y[k] = x0 + alpha*y0
		x[k] = y0 - beta*x0
	}
}
