package cpu

import "unsafe"

// The portable Winograd transforms and c8 layout changes: the same arithmetic as the
// assembly, one lane at a time.

type vec [lanes]float32

// vecs returns the n vectors of 8 floats at p (stride 8).
func vecAt(p *float32, off int) *vec {
	return (*vec)(unsafe.Add(unsafe.Pointer(p), off*4))
}

// in4 is the 1-D input transform of F(4, 3): o = B^T d.
func in4(d *[6]vec, o *[6]vec) {
	for l := 0; l < lanes; l++ {
		d0, d1, d2, d3, d4, d5 := d[0][l], d[1][l], d[2][l], d[3][l], d[4][l], d[5][l]
		o[0][l] = 4*d0 + (d4 - 5*d2)
		o[5][l] = 4*d1 + (d5 - 5*d3)
		a, b := d4-4*d2, d3-4*d1
		o[1][l], o[2][l] = a+b, a-b
		c, e := d4-d2, d3-d1
		o[3][l], o[4][l] = c+2*e, c-2*e
	}
}

// in2 is the 1-D input transform of F(2, 3).
func in2(d *[4]vec, o *[4]vec) {
	for l := 0; l < lanes; l++ {
		d0, d1, d2, d3 := d[0][l], d[1][l], d[2][l], d[3][l]
		o[0][l], o[1][l], o[2][l], o[3][l] = d0-d2, d1+d2, d2-d1, d1-d3
	}
}

// out4 is the 1-D output transform of F(4, 3): y = A^T m.
func out4(m *[6]vec, y *[4]vec) {
	for l := 0; l < lanes; l++ {
		s12, d12 := m[1][l]+m[2][l], m[1][l]-m[2][l]
		s34, d34 := m[3][l]+m[4][l], m[3][l]-m[4][l]
		y[0][l] = m[0][l] + s12 + s34
		y[1][l] = d12 + 2*d34
		y[2][l] = s12 + 4*s34
		y[3][l] = d12 + 8*d34 + m[5][l]
	}
}

// out2 is the 1-D output transform of F(2, 3).
func out2(m *[4]vec, y *[2]vec) {
	for l := 0; l < lanes; l++ {
		y[0][l] = m[0][l] + m[1][l] + m[2][l]
		y[1][l] = m[1][l] - m[2][l] - m[3][l]
	}
}

func goWinoIn4(src *float32, srcRow int, dst *float32, dstT, dstTile, n int) {
	var col, tc [6]vec
	var tmp [6][6]vec
	for i := 0; i < n; i++ {
		for c := 0; c < 6; c++ {
			for r := 0; r < 6; r++ {
				col[r] = *vecAt(src, r*srcRow+(i*4+c)*lanes)
			}
			in4(&col, &tc)
			for r := 0; r < 6; r++ {
				tmp[r][c] = tc[r]
			}
		}
		for r := 0; r < 6; r++ {
			in4(&tmp[r], &tc)
			for c := 0; c < 6; c++ {
				*vecAt(dst, i*dstTile+(r*6+c)*dstT) = tc[c]
			}
		}
	}
}

func goWinoIn2(src *float32, srcRow int, dst *float32, dstT, dstTile, n int) {
	var col, tc [4]vec
	var tmp [4][4]vec
	for i := 0; i < n; i++ {
		for c := 0; c < 4; c++ {
			for r := 0; r < 4; r++ {
				col[r] = *vecAt(src, r*srcRow+(i*2+c)*lanes)
			}
			in2(&col, &tc)
			for r := 0; r < 4; r++ {
				tmp[r][c] = tc[r]
			}
		}
		for r := 0; r < 4; r++ {
			in2(&tmp[r], &tc)
			for c := 0; c < 4; c++ {
				*vecAt(dst, i*dstTile+(r*4+c)*dstT) = tc[c]
			}
		}
	}
}

func goWinoOut4(src *float32, srcT, srcTile int, dst *float32, dstRow, n int) {
	var col [6]vec
	var yc [4]vec
	var tmp [4][6]vec
	for i := 0; i < n; i++ {
		for c := 0; c < 6; c++ {
			for r := 0; r < 6; r++ {
				col[r] = *vecAt(src, i*srcTile+(r*6+c)*srcT)
			}
			out4(&col, &yc)
			for r := 0; r < 4; r++ {
				tmp[r][c] = yc[r]
			}
		}
		for r := 0; r < 4; r++ {
			out4(&tmp[r], &yc)
			for c := 0; c < 4; c++ {
				*vecAt(dst, r*dstRow+(i*4+c)*lanes) = yc[c]
			}
		}
	}
}

func goWinoOut2(src *float32, srcT, srcTile int, dst *float32, dstRow, n int) {
	var col [4]vec
	var yc [2]vec
	var tmp [2][4]vec
	for i := 0; i < n; i++ {
		for c := 0; c < 4; c++ {
			for r := 0; r < 4; r++ {
				col[r] = *vecAt(src, i*srcTile+(r*4+c)*srcT)
			}
			out2(&col, &yc)
			for r := 0; r < 2; r++ {
				tmp[r][c] = yc[r]
			}
		}
		for r := 0; r < 2; r++ {
			out2(&tmp[r], &yc)
			for c := 0; c < 2; c++ {
				*vecAt(dst, r*dstRow+(i*2+c)*lanes) = yc[c]
			}
		}
	}
}

func goPackC8(src *float32, srcRow, srcC, w, rows int, scale, shift *float32, bn bool, dst *float32, dstRow int) {
	s := unsafe.Slice(src, 7*srcC+(rows-1)*srcRow+w)
	d := unsafe.Slice(dst, (rows-1)*dstRow+w*lanes)
	var sc, sh []float32
	if bn {
		sc, sh = unsafe.Slice(scale, lanes), unsafe.Slice(shift, lanes)
	}
	for y := 0; y < rows; y++ {
		for l := 0; l < lanes; l++ {
			row := s[l*srcC+y*srcRow : l*srcC+y*srcRow+w]
			out := d[y*dstRow+l:]
			if bn {
				a, b := sc[l], sh[l]
				for x, v := range row {
					out[x*lanes] = max(0, float32(v*a)+b)
				}
				continue
			}
			for x, v := range row {
				out[x*lanes] = v
			}
		}
	}
}

func goUnpackC8(src *float32, srcRow, srcPix, w, rows int, dst *float32, dstRow, dstC int, res *float32) {
	n := 7*dstC + (rows-1)*dstRow + w
	s := unsafe.Slice(src, (rows-1)*srcRow+(w-1)*srcPix+lanes)
	d := unsafe.Slice(dst, n)
	var r []float32
	if res != nil {
		r = unsafe.Slice(res, n)
	}
	for l := 0; l < lanes; l++ {
		for y := 0; y < rows; y++ {
			o := l*dstC + y*dstRow
			in := s[y*srcRow+l:]
			out := d[o : o+w]
			if r != nil {
				rr := r[o : o+w]
				for x := range out {
					out[x] = in[x*srcPix] + rr[x]
				}
				continue
			}
			for x := range out {
				out[x] = in[x*srcPix]
			}
		}
	}
}

// dy4 is the 1-D dy transform of F(4, 3): o = A d, 4 values to 6.
func dy4(d *[4]vec, o *[6]vec) {
	for l := 0; l < lanes; l++ {
		d0, d1, d2, d3 := d[0][l], d[1][l], d[2][l], d[3][l]
		e, od := d0+d2, d1+d3
		e2, od2 := d0+4*d2, 2*d1+8*d3
		o[0][l], o[1][l], o[2][l], o[3][l], o[4][l], o[5][l] = d0, e+od, e-od, e2+od2, e2-od2, d3
	}
}

// dy2 is the 1-D dy transform of F(2, 3): 2 values to 4.
func dy2(d *[2]vec, o *[4]vec) {
	for l := 0; l < lanes; l++ {
		d0, d1 := d[0][l], d[1][l]
		o[0][l], o[1][l], o[2][l], o[3][l] = d0, d0+d1, d0-d1, -d1
	}
}

func goWinoDY4(src *float32, srcRow int, dst *float32, dstT, dstTile, n int) {
	var col [4]vec
	var tc [6]vec
	var tmp [6][4]vec
	for i := 0; i < n; i++ {
		for c := 0; c < 4; c++ {
			for r := 0; r < 4; r++ {
				col[r] = *vecAt(src, r*srcRow+(i*4+c)*lanes)
			}
			dy4(&col, &tc)
			for r := 0; r < 6; r++ {
				tmp[r][c] = tc[r]
			}
		}
		for r := 0; r < 6; r++ {
			dy4(&tmp[r], &tc)
			for c := 0; c < 6; c++ {
				*vecAt(dst, i*dstTile+(r*6+c)*dstT) = tc[c]
			}
		}
	}
}

func goWinoDY2(src *float32, srcRow int, dst *float32, dstT, dstTile, n int) {
	var col [2]vec
	var tc [4]vec
	var tmp [4][2]vec
	for i := 0; i < n; i++ {
		for c := 0; c < 2; c++ {
			for r := 0; r < 2; r++ {
				col[r] = *vecAt(src, r*srcRow+(i*2+c)*lanes)
			}
			dy2(&col, &tc)
			for r := 0; r < 4; r++ {
				tmp[r][c] = tc[r]
			}
		}
		for r := 0; r < 4; r++ {
			dy2(&tmp[r], &tc)
			for c := 0; c < 4; c++ {
				*vecAt(dst, i*dstTile+(r*4+c)*dstT) = tc[c]
			}
		}
	}
}

// goGatherRowsC8 is gatherRowsC8Func in Go.
func goGatherRowsC8(dst *float32, lda int, src *float32, step, n, r, nb, cp, zRow, cStride int) {
	d := unsafe.Slice(dst, (n-1)*lda+(r*r-1)*cp+nb*lanes)
	s := unsafe.Slice(src, (n-1)*step+(nb-1)*cStride+(r-1)*zRow+r*lanes)
	for p := 0; p < n; p++ {
		for i := 0; i < r; i++ {
			for j := 0; j < r; j++ {
				o, so := p*lda+(i*r+j)*cp, p*step+i*zRow+j*lanes
				for b := 0; b < nb; b++ {
					copy(d[o+b*lanes:o+b*lanes+lanes], s[so+b*cStride:so+b*cStride+lanes])
				}
			}
		}
	}
}
