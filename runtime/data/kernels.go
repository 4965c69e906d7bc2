package data

// Scalar float64 kernels of the eigendecomposition, unrolled so that sums
// carry four independent chains.

// symRowUpdate returns row . d and adds f*row to e (len(d), len(e) >= len(row)).
func symRowUpdate(row, d, e []float64, f float64) float64 {
	d, e = d[:len(row)], e[:len(row)]
	var g0, g1, g2, g3 float64
	k := 0
	for ; k+4 <= len(row); k += 4 {
		r, dd, ee := row[k:k+4:k+4], d[k:k+4:k+4], e[k:k+4:k+4]
		g0 += r[0] * dd[0]
		g1 += r[1] * dd[1]
		g2 += r[2] * dd[2]
		g3 += r[3] * dd[3]
		ee[0] += r[0] * f
		ee[1] += r[1] * f
		ee[2] += r[2] * f
		ee[3] += r[3] * f
	}
	for ; k < len(row); k++ {
		g0 += row[k] * d[k]
		e[k] += row[k] * f
	}
	return (g0 + g1) + (g2 + g3)
}

// rank2 sets row -= f*e + g*d (len(d), len(e) >= len(row)).
func rank2(row, d, e []float64, f, g float64) {
	d, e = d[:len(row)], e[:len(row)]
	for k := range row {
		row[k] -= f*e[k] + g*d[k]
	}
}

// dot returns x . y (len(y) >= len(x)).
func dot(x, y []float64) float64 {
	y = y[:len(x)]
	var g0, g1, g2, g3 float64
	k := 0
	for ; k+4 <= len(x); k += 4 {
		a, b := x[k:k+4:k+4], y[k:k+4:k+4]
		g0 += a[0] * b[0]
		g1 += a[1] * b[1]
		g2 += a[2] * b[2]
		g3 += a[3] * b[3]
	}
	for ; k < len(x); k++ {
		g0 += x[k] * y[k]
	}
	return (g0 + g1) + (g2 + g3)
}

// axpy adds alpha*x to y (len(x) >= len(y)).
func axpy(alpha float64, x, y []float64) {
	x = x[:len(y)]
	for k := range y {
		y[k] += alpha * x[k]
	}
}
