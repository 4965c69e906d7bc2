package nn

// The fused load: im2col columns of pre(x), and its adjoint col2im.
//
// Column matrix of one image: C*R*R rows (row (c*R+i)*R+j), OH*OW columns (oy*OW+ox),
// entry z[c, oy*S-P+i, ox*S-P+j], 0 where that lies in the padding (PyTorch pads after the
// ReLU and the dropout).

// cols writes the column rows of channels [c0, c1) of image img (xi: its C*H*W values)
// into col, applying l; plane is scratch of H*W values.
func (l *loader) cols(c *Conv, img int, xi, col, plane []float32, c0, c1 int) {
	hw, n, rr := c.H*c.W, c.OH*c.OW, c.R*c.R
	for ch := c0; ch < c1; ch++ {
		src := xi[ch*hw : (ch+1)*hw]
		if l.on {
			base := (img*c.C + ch) * hw
			if c.Pointwise() {
				l.apply(col[ch*n:(ch+1)*n], src, ch, base)
				continue
			}
			l.apply(plane[:hw], src, ch, base)
			src = plane[:hw]
		}
		im2colPlane(c, col[ch*rr*n:(ch+1)*rr*n], src)
	}
}

// im2colPlane writes the R*R column rows of one input plane (H*W values) into dst.
func im2colPlane(c *Conv, dst, plane []float32) {
	n := c.OH * c.OW
	for i := 0; i < c.R; i++ {
		for j := 0; j < c.R; j++ {
			row := dst[(i*c.R+j)*n : (i*c.R+j+1)*n]
			ox0, ox1 := validRange(j, c.S, c.P, c.W, c.OW)
			for oy := 0; oy < c.OH; oy++ {
				out := row[oy*c.OW : (oy+1)*c.OW]
				iy := oy*c.S - c.P + i
				if iy < 0 || iy >= c.H || ox0 >= ox1 {
					clear(out)
					continue
				}
				clear(out[:ox0])
				clear(out[ox1:])
				in := plane[iy*c.W : (iy+1)*c.W]
				x0 := ox0*c.S - c.P + j
				seg := out[ox0:ox1]
				if c.S == 1 {
					copy(seg, in[x0:])
					continue
				}
				for q := range seg {
					seg[q] = in[x0+q*c.S]
				}
			}
		}
	}
}

// col2imPlane adds the R*R column rows src of one channel into its input plane (H*W
// values), each entry where im2colPlane read it; entries from the padding are dropped.
func col2imPlane(c *Conv, plane, src []float32) {
	n := c.OH * c.OW
	for i := 0; i < c.R; i++ {
		for j := 0; j < c.R; j++ {
			row := src[(i*c.R+j)*n : (i*c.R+j+1)*n]
			ox0, ox1 := validRange(j, c.S, c.P, c.W, c.OW)
			if ox0 >= ox1 {
				continue
			}
			for oy := 0; oy < c.OH; oy++ {
				iy := oy*c.S - c.P + i
				if iy < 0 || iy >= c.H {
					continue
				}
				in := plane[iy*c.W : (iy+1)*c.W]
				x0 := ox0*c.S - c.P + j
				seg := row[oy*c.OW+ox0 : oy*c.OW+ox1]
				if c.S == 1 {
					in = in[x0 : x0+len(seg)]
					for q, v := range seg {
						in[q] += v
					}
					continue
				}
				for q, v := range seg {
					in[x0+q*c.S] += v
				}
			}
		}
	}
}

// validRange returns the output columns [lo, hi) whose input column ox*s-pad+j lies in
// [0, w).
func validRange(j, s, pad, w, ow int) (lo, hi int) {
	if d := pad - j; d > 0 {
		lo = (d + s - 1) / s
	}
	if d := w - 1 + pad - j; d >= 0 {
		hi = d/s + 1
	}
	return min(lo, ow), min(hi, ow)
}
