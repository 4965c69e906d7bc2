package data

// picture is a decoded image of any size: C planes of H x W bytes (CHW order).
type picture struct {
	c, h, w int
	pix     []uint8 // c*h*w
}

// affine is a per-channel map v -> v*a[c] + b[c] from pixel values in [0, 255] to what the
// network sees (see Norm.affine).
type affine struct{ a, b []float64 }

// resizer holds the tables and row buffers of one bilinear resize; a worker keeps one and
// reuses it, so that a resize allocates nothing once the buffers have grown.
type resizer struct {
	x0, x1 []int        // the two source columns of every output column
	lx     []float32    // the weight of the second
	rows   [2][]float32 // horizontally resized source rows
	rowOf  [2]int       // the source row each holds, -1 for none
}

// lerpIndex is PyTorch's source index of output index i of a linear resize from n to m
// elements with align_corners=False (area_pixel_compute_source_index): s = (i+0.5)*n/m -
// 0.5, clamped at 0; it returns the two neighbours (the second clamped to n-1) and the
// weight of the second.
func lerpIndex(i, n, m int) (i0, i1 int, frac float64) {
	s := (float64(i)+0.5)*float64(n)/float64(m) - 0.5
	if s < 0 {
		s = 0
	}
	i0 = min(int(s), n-1)
	i1 = min(i0+1, n-1)
	return i0, i1, s - float64(i0)
}

// resize writes the window win of the image that crop of src becomes when resized to
// rh x rw pixels with bilinear interpolation as torch.nn.functional.interpolate computes
// it (mode bilinear, align_corners=False, antialias=False), mirrored left to right when
// flip, through norm, to dst: src.c planes of win.H x win.W floats. The crop and the window
// must lie inside src and inside the rh x rw image. Training passes a random crop and the
// whole resized image as the window; evaluation the whole image and the centre window.
func (r *resizer) resize(src *picture, crop Rect, rh, rw int, win Rect, flip bool, norm affine, dst []float32) {
	w := win.W
	if cap(r.x0) < w {
		r.x0, r.x1, r.lx = make([]int, w), make([]int, w), make([]float32, w)
		r.rows[0], r.rows[1] = make([]float32, w), make([]float32, w)
	}
	r.x0, r.x1, r.lx = r.x0[:w], r.x1[:w], r.lx[:w]
	x0, x1, lx := r.x0, r.x1, r.lx
	for x := range w {
		a, b, f := lerpIndex(win.Left+x, crop.W, rw)
		x0[x], x1[x], lx[x] = crop.Left+a, crop.Left+b, float32(f)
	}
	plane := src.h * src.w
	out := win.H * win.W
	for ch := range src.c {
		img := src.pix[ch*plane : (ch+1)*plane]
		r.rowOf = [2]int{-1, -1}
		a, b := float32(norm.a[ch]), float32(norm.b[ch])
		for y := range win.H {
			y0, y1, f := lerpIndex(win.Top+y, crop.H, rh)
			top := r.row(img, src.w, crop.Top+y0)
			bot := r.row(img, src.w, crop.Top+y1)
			ly := float32(f)
			hy := 1 - ly
			o := dst[ch*out+y*w : ch*out+(y+1)*w]
			if flip {
				for x := range w {
					o[w-1-x] = (hy*top[x]+ly*bot[x])*a + b
				}
			} else {
				for x := range w {
					o[x] = (hy*top[x]+ly*bot[x])*a + b
				}
			}
		}
	}
}

// row returns source row y of img (stride w) resized horizontally with the current
// tables, computing it unless one of the two buffers holds it. Rows are asked for in
// increasing order, so the buffer not holding the other row asked for is reused.
func (r *resizer) row(img []uint8, stride, y int) []float32 {
	for k := range r.rowOf {
		if r.rowOf[k] == y {
			return r.rows[k]
		}
	}
	k := 0
	if r.rowOf[0] > r.rowOf[1] {
		k = 1 // keep the later row: the next output row may need it again
	}
	src := img[y*stride : (y+1)*stride]
	buf := r.rows[k][:len(r.x0)]
	x0, x1, lx := r.x0, r.x1, r.lx
	for x := range buf {
		p, q := float32(src[x0[x]]), float32(src[x1[x]])
		buf[x] = p + lx[x]*(q-p)
	}
	r.rowOf[k] = y
	return buf
}
