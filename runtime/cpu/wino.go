package cpu

// Winograd convolution F(m x m, 3 x 3) works on tiles of a channel-blocked ("c8") layout:
// 8 channels interleaved, so that every value below is a vector of 8 lanes (8 float32s,
// one per channel) and the transforms are plain vector arithmetic. With alpha = m+2, a
// tile of alpha x alpha input vectors becomes alpha^2 transformed vectors (V = B^T d B),
// which the caller multiplies by the transformed weights (one GEMM per position t), and
// alpha^2 product vectors become the m x m output vectors of the tile (Y = A^T M A).
//
// The matrices are Lavin and Gray's (arXiv:1509.09308) for m = 2 and the points
// 0, +-1, +-2 and infinity for m = 4:
//
//	m = 2: B^T rows (1 0 -1 0) (0 1 1 0) (0 -1 1 0) (0 1 0 -1); A^T rows (1 1 1 0) (0 1 -1 -1)
//	m = 4: B^T rows (4 0 -5 0 1 0) (0 -4 -4 1 1 0) (0 4 -4 -1 1 0) (0 -2 -1 2 1 0)
//	       (0 2 -1 -2 1 0) (0 4 0 -5 0 1); A^T rows (1 1 1 1 1 0) (0 1 -1 2 -2 0)
//	       (0 1 1 4 4 0) (0 1 -1 8 -8 1)
//
// The weight transform G g G^T is the caller's (it is done once per weight update).

// lanes is the channels of one c8 vector.
const lanes = 8

// winoInFunc transforms n tiles: tile i's input vector (r, c) is at
// src + r*srcRow + (i*m + c)*8, its transformed vector t = r*alpha + c goes to
// dst + i*dstTile + t*dstT (all in float32s).
type winoInFunc func(src *float32, srcRow int, dst *float32, dstT, dstTile, n int)

// winoOutFunc is the output transform of n tiles: tile i's product vector t is at
// src + i*srcTile + t*srcT, its output vector (r, c) goes to dst + r*dstRow + (i*m + c)*8.
type winoOutFunc func(src *float32, srcT, srcTile int, dst *float32, dstRow, n int)

// winoDYFunc is the dy transform of the weight gradient on n tiles: tile i's dy vector
// (r, c), r, c < m, is at src + r*srcRow + (i*m + c)*8, its transformed vector
// t = r*alpha + c (of A d A^T, alpha x alpha) goes to dst + i*dstTile + t*dstT.
type winoDYFunc func(src *float32, srcRow int, dst *float32, dstT, dstTile, n int)

// packC8Func converts rows rows of 8 channels, w values each (w a multiple of 8), to c8:
// dst[y*dstRow + x*8 + l] = f_l(src[l*srcC + y*srcRow + x]), f_l(v) = max(0, v*scale[l] +
// shift[l]) (a multiply, then an add: no fused multiply-add) when bn, else v.
type packC8Func func(src *float32, srcRow, srcC, w, rows int, scale, shift *float32, bn bool, dst *float32, dstRow int)

// unpackC8Func is the inverse layout change of 8 channels with an optional residual:
// dst[l*dstC + y*dstRow + x] = src[y*srcRow + x*srcPix + l] (+ res at the same offset as
// dst when res != nil); w a multiple of 8.
type unpackC8Func func(src *float32, srcRow, srcPix, w, rows int, dst *float32, dstRow, dstC int, res *float32)

// gatherRowsC8Func writes n rows of an im2row matrix from c8 planes (r, nb, n >= 1): for
// pixel p, tap (i, j) and channel block b, the 8 floats at dst[p*lda + (i*r+j)*cp + b*8:]
// are those at src[p*step + b*cStride + i*zRow + j*8:].
type gatherRowsC8Func func(dst *float32, lda int, src *float32, step, n, r, nb, cp, zRow, cStride int)

// winoSet is a family's Winograd transforms and c8 layout changes.
type winoSet struct {
	in     [5]winoInFunc  // by m (2 and 4)
	in2    [5]winoInFunc  // by m, nil or two tiles at a time (an even count)
	out    [5]winoOutFunc // by m
	out2   [5]winoOutFunc // by m, nil or two tiles at a time (an even count)
	dy     [5]winoDYFunc  // by m
	dy2    [5]winoDYFunc  // by m, nil or two tiles at a time (an even count)
	pack   packC8Func
	unpack unpackC8Func
	// pack16 and unpack16 are nil or pack and unpack on a multiple of 16 pixels.
	pack16   packC8Func
	unpack16 unpackC8Func
	// rows gathers im2row rows from c8 planes (the same ymm code in both x86 families).
	rows gatherRowsC8Func
}

// winoFor returns the transforms of a kernel family (the AVX-512 family uses the
// AVX2 ones, and its own tile transforms of two tiles at a time).
func winoFor(kind kernelKind) winoSet {
	if kind == kernelAVX2 || kind == kernelAVX512 {
		if s, ok := avx2Wino(); ok {
			if kind == kernelAVX512 {
				avx512Wino(&s)
			}
			return s
		}
	}
	return goWino()
}

// statsFor returns the reductions of a kernel family (the AVX-512 family uses the
// AVX2 ones where it has none of its own).
func statsFor(kind kernelKind) statsSet {
	if kind == kernelAVX2 || kind == kernelAVX512 {
		if s, ok := avx2Stats(); ok {
			if kind == kernelAVX512 {
				avx512Stats(&s)
			}
			return s
		}
	}
	return statsSet{}
}

func goWino() winoSet {
	var s winoSet
	s.in[2], s.in[4] = goWinoIn2, goWinoIn4
	s.out[2], s.out[4] = goWinoOut2, goWinoOut4
	s.dy[2], s.dy[4] = goWinoDY2, goWinoDY4
	s.pack, s.unpack = goPackC8, goUnpackC8
	s.rows = goGatherRowsC8
	return s
}

// GatherRowsC8 writes n rows of an im2row matrix (row p at dst[p*lda:]) from the c8
// planes of an input (channel block b's plane at src[b*cStride:], zRow floats a row of
// c8 vectors): tap (i, j) of row p is the r x r window at src[p*step + i*zRow + j*8:],
// its nb channel blocks at dst[p*lda + (i*r+j)*cp:], 8 floats each. It panics when the
// slices are too short.
func (k *Kernels) GatherRowsC8(dst []float32, lda int, src []float32, step, n, r, nb, cp, zRow, cStride int) {
	if n < 1 {
		return
	}
	if r < 1 || nb < 1 || cp < nb*lanes || lda < (r*r-1)*cp+nb*lanes || step < 0 || zRow < r*lanes || cStride < 0 ||
		len(dst) < (n-1)*lda+(r*r-1)*cp+nb*lanes || len(src) < (n-1)*step+(nb-1)*cStride+(r-1)*zRow+r*lanes {
		k.f.failf("cpu.Kernels.GatherRowsC8: n=%d r=%d nb=%d lda=%d cp=%d step=%d zRow=%d cStride=%d with len(dst)=%d len(src)=%d",
			n, r, nb, lda, cp, step, zRow, cStride, len(dst), len(src))
		return
	}
	k.wt.rows(&dst[0], lda, &src[0], step, n, r, nb, cp, zRow, cStride)
}

// WinoAlpha returns the tile size m+2 of F(m x m, 3 x 3), or 0 when m is not 2 or 4.
func WinoAlpha(m int) int {
	if m == 2 || m == 4 {
		return m + 2
	}
	return 0
}

// WinoInput runs the input transform of F(m x m, 3 x 3) (m = 2 or 4, alpha = m+2) on
// tiles tiles of a c8 image: tile i's input vector (r, c), r, c < alpha, is the 8 floats
// at src[r*srcRow + (i*m+c)*8:], and its transformed vector t = r*alpha+c (of B^T d B)
// goes to dst[i*dstTile + t*dstT:]. It panics when the slices are too short.
func (k *Kernels) WinoInput(m int, src []float32, srcRow int, dst []float32, dstT, dstTile, tiles int) {
	a := WinoAlpha(m)
	if tiles < 1 {
		return
	}
	if a == 0 || len(src) < (a-1)*srcRow+((tiles-1)*m+a)*lanes || len(dst) < (tiles-1)*dstTile+(a*a-1)*dstT+lanes {
		k.f.failf("cpu.Kernels.WinoInput: m=%d tiles=%d srcRow=%d dstT=%d dstTile=%d with len(src)=%d len(dst)=%d",
			m, tiles, srcRow, dstT, dstTile, len(src), len(dst))
		return
	}
	tileRows(k.wt.in[m], k.wt.in2[m], m, src, srcRow, dst, dstT, dstTile, tiles)
}

// tileRows runs an input or dy transform (one, and two where not nil: two tiles at a
// time, on an even count) on tiles tiles whose vectors are read from rows of c8 vectors
// (src, m vectors further on a tile) and written a tile dstTile apart.
func tileRows(one, two func(src *float32, srcRow int, dst *float32, dstT, dstTile, n int),
	m int, src []float32, srcRow int, dst []float32, dstT, dstTile, tiles int) {
	if two != nil && tiles >= 2 {
		even := tiles &^ 1
		two(&src[0], srcRow, &dst[0], dstT, dstTile, even)
		if even == tiles {
			return
		}
		src, dst, tiles = src[even*m*lanes:], dst[even*dstTile:], 1
	}
	one(&src[0], srcRow, &dst[0], dstT, dstTile, tiles)
}

// WinoOutput runs the output transform of F(m x m, 3 x 3) on tiles tiles: tile i's
// product vector t < alpha^2 is at src[i*srcTile + t*srcT:], its output vector (r, c),
// r, c < m, (of A^T M A) goes to dst[r*dstRow + (i*m+c)*8:]. It panics when the slices are
// too short.
func (k *Kernels) WinoOutput(m int, src []float32, srcT, srcTile int, dst []float32, dstRow, tiles int) {
	a := WinoAlpha(m)
	if tiles < 1 {
		return
	}
	if a == 0 || len(src) < (tiles-1)*srcTile+(a*a-1)*srcT+lanes || len(dst) < (m-1)*dstRow+tiles*m*lanes {
		k.f.failf("cpu.Kernels.WinoOutput: m=%d tiles=%d srcT=%d srcTile=%d dstRow=%d with len(src)=%d len(dst)=%d",
			m, tiles, srcT, srcTile, dstRow, len(src), len(dst))
		return
	}
	if k.wt.out2[m] != nil && tiles >= 2 {
		even := tiles &^ 1
		k.wt.out2[m](&src[0], srcT, srcTile, &dst[0], dstRow, even)
		if even == tiles {
			return
		}
		src, dst, tiles = src[even*srcTile:], dst[even*m*lanes:], 1
	}
	k.wt.out[m](&src[0], srcT, srcTile, &dst[0], dstRow, tiles)
}

// WinoDY runs the dy transform of the F(m x m, 3 x 3) weight gradient on tiles tiles:
// tile i's vector (r, c), r, c < m, is at src[r*srcRow + (i*m+c)*8:], its transformed
// vector t = r*alpha+c (of A d A^T, A = (A^T)^T of the output transform) goes to
// dst[i*dstTile + t*dstT:]. The weight gradient of a tile is then G^T (dyhat . zhat) G,
// with zhat from WinoInput: the transposition principle applied to F(m x m, 3 x 3). It
// panics when the slices are too short.
func (k *Kernels) WinoDY(m int, src []float32, srcRow int, dst []float32, dstT, dstTile, tiles int) {
	a := WinoAlpha(m)
	if tiles < 1 {
		return
	}
	if a == 0 || len(src) < (m-1)*srcRow+tiles*m*lanes || len(dst) < (tiles-1)*dstTile+(a*a-1)*dstT+lanes {
		k.f.failf("cpu.Kernels.WinoDY: m=%d tiles=%d srcRow=%d dstT=%d dstTile=%d with len(src)=%d len(dst)=%d",
			m, tiles, srcRow, dstT, dstTile, len(src), len(dst))
		return
	}
	tileRows(k.wt.dy[m], k.wt.dy2[m], m, src, srcRow, dst, dstT, dstTile, tiles)
}

// PackC8 converts rows rows of cn <= 8 channels (channel l's row y at
// src[l*srcC + y*srcRow:], w values) to the c8 layout: dst[y*dstRow + x*8 + l] is
// max(0, v*scale[l] + shift[l]) of the source value v (rounded after the multiply and
// after the add) when scale != nil, else v itself; lanes l >= cn are zero. It panics when
// the slices are too short.
func (k *Kernels) PackC8(src []float32, srcRow, srcC, cn, w, rows int, scale, shift []float32, dst []float32, dstRow int) {
	if rows < 1 || w < 1 {
		return
	}
	bn := scale != nil
	if cn < 1 || cn > lanes || len(src) < (cn-1)*srcC+(rows-1)*srcRow+w || len(dst) < (rows-1)*dstRow+w*lanes ||
		(bn && (len(scale) < cn || len(shift) < cn)) {
		k.f.failf("cpu.Kernels.PackC8: cn=%d w=%d rows=%d srcRow=%d srcC=%d dstRow=%d with len(src)=%d len(dst)=%d len(scale)=%d",
			cn, w, rows, srcRow, srcC, dstRow, len(src), len(dst), len(scale))
		return
	}
	w8 := w &^ (lanes - 1)
	if cn == lanes && w8 > 0 {
		var sc, sh *float32
		if bn {
			sc, sh = &scale[0], &shift[0]
		}
		x0 := 0
		if k.wt.pack16 != nil && w8 >= 16 {
			x0 = w8 &^ 15
			k.wt.pack16(&src[0], srcRow, srcC, x0, rows, sc, sh, bn, &dst[0], dstRow)
		}
		if x0 < w8 {
			k.wt.pack(&src[x0], srcRow, srcC, w8-x0, rows, sc, sh, bn, &dst[x0*lanes], dstRow)
		}
		if w8 == w {
			return
		}
	} else {
		w8 = 0
	}
	for y := 0; y < rows; y++ {
		d := dst[y*dstRow : y*dstRow+w*lanes]
		for x := w8; x < w; x++ {
			v := d[x*lanes : x*lanes+lanes]
			for l := range v {
				if l >= cn {
					v[l] = 0
					continue
				}
				s := src[l*srcC+y*srcRow+x]
				if bn {
					s = max(0, float32(s*scale[l])+shift[l])
				}
				v[l] = s
			}
		}
	}
}

// UnpackC8 converts rows rows of w vectors of 8 channels (row y's vector x at
// src[y*srcRow + x*srcPix:], srcPix >= 8: c8 rows when 8, rows of a wider matrix
// otherwise) back to kn <= 8 channels: dst[l*dstC + y*dstRow + x] = src[y*srcRow +
// x*srcPix + l], plus res at the same offset when res != nil (res may be dst itself). It
// panics when the slices are too short.
func (k *Kernels) UnpackC8(src []float32, srcRow, srcPix, kn, w, rows int, dst []float32, dstRow, dstC int, res []float32) {
	if rows < 1 || w < 1 {
		return
	}
	need := (kn-1)*dstC + (rows-1)*dstRow + w
	if kn < 1 || kn > lanes || srcPix < lanes || len(src) < (rows-1)*srcRow+(w-1)*srcPix+lanes || len(dst) < need || (res != nil && len(res) < need) {
		k.f.failf("cpu.Kernels.UnpackC8: kn=%d w=%d rows=%d srcRow=%d srcPix=%d dstRow=%d dstC=%d with len(src)=%d len(dst)=%d len(res)=%d",
			kn, w, rows, srcRow, srcPix, dstRow, dstC, len(src), len(dst), len(res))
		return
	}
	w8 := w &^ (lanes - 1)
	if kn == lanes && w8 > 0 {
		var r *float32
		if res != nil {
			r = &res[0]
		}
		x0 := 0
		if k.wt.unpack16 != nil && w8 >= 16 {
			x0 = w8 &^ 15
			k.wt.unpack16(&src[0], srcRow, srcPix, x0, rows, &dst[0], dstRow, dstC, r)
		}
		if x0 < w8 {
			var rx *float32
			if r != nil {
				rx = &res[x0]
			}
			k.wt.unpack(&src[x0*srcPix], srcRow, srcPix, w8-x0, rows, &dst[x0], dstRow, dstC, rx)
		}
		if w8 == w {
			return
		}
	} else {
		w8 = 0
	}
	for l := 0; l < kn; l++ {
		for y := 0; y < rows; y++ {
			o := l*dstC + y*dstRow
			for x := w8; x < w; x++ {
				v := src[y*srcRow+x*srcPix+l]
				if res != nil {
					v += res[o+x]
				}
				dst[o+x] = v
			}
		}
	}
}
