package cpu

import "fmt"

// CheckIm2col reports whether the arguments of Im2col (or Col2im) are
// consistent: positive sizes, OH and OW equal to (H+2*pad-kh)/s+1 and
// (W+2*pad-kw)/s+1, an image of C*H*W values, a column matrix of
// C*kh*kw x OH*OW values, and scale/shift either both nil or of length C.
// Im2col and Col2im panic with this error; generated code, whose shapes are
// constants, checks once up front.
func CheckIm2col(C, H, W, kh, kw, s, pad, OH, OW int, img []float32, scale, shift []float32, col []float32) error {
	if C < 1 || H < 1 || W < 1 || kh < 1 || kw < 1 || s < 1 || pad < 0 {
		return fmt.Errorf("cpu.Im2col: want C, H, W, kh, kw, stride >= 1 and pad >= 0, got C=%d H=%d W=%d kernel=%dx%d stride=%d pad=%d", C, H, W, kh, kw, s, pad)
	}
	wantOH, wantOW := (H+2*pad-kh)/s+1, (W+2*pad-kw)/s+1
	if H+2*pad < kh || W+2*pad < kw || OH != wantOH || OW != wantOW {
		return fmt.Errorf("cpu.Im2col: output %dx%d, want %dx%d for input %dx%d, kernel %dx%d, stride %d, pad %d", OH, OW, wantOH, wantOW, H, W, kh, kw, s, pad)
	}
	if len(img) < C*H*W {
		return fmt.Errorf("cpu.Im2col: image has %d values, want >= %d (C*H*W)", len(img), C*H*W)
	}
	if need := C * kh * kw * OH * OW; len(col) < need {
		return fmt.Errorf("cpu.Im2col: column matrix has %d values, want >= %d (C*kh*kw x OH*OW)", len(col), need)
	}
	if (scale == nil) != (shift == nil) {
		return fmt.Errorf("cpu.Im2col: scale and shift must both be set or both nil")
	}
	if scale != nil && (len(scale) < C || len(shift) < C) {
		return fmt.Errorf("cpu.Im2col: scale/shift have %d/%d values, want >= %d (C)", len(scale), len(shift), C)
	}
	return nil
}

// Im2col builds the K x (OH*OW) column matrix (K = C*kh*kw, row
// (c*kh+i)*kw+j, column oy*OW+ox) of one CHW image src for a convolution with
// kernel kh x kw, stride s and zero padding pad:
//
//	dst[(c*kh+i)*kw+j, oy*OW+ox] = f(src[c, oy*s-pad+i, ox*s-pad+j]), 0 outside the image,
//
// where f is the identity, or y = max(0, x*scale[c]+shift[c]) when scale and
// shift are non-nil (BN-ReLU fused on load; the padding stays 0, as PyTorch
// pads after the ReLU). A 1x1 stride-1 unpadded convolution needs no Im2col:
// pass the image to Gemm.Do as B directly. Im2col returns CheckIm2col's error,
// having written nothing, when the arguments are inconsistent.
func Im2col(src []float32, C, H, W, kh, kw, s, pad, OH, OW int, scale, shift []float32, dst []float32) error {
	if err := CheckIm2col(C, H, W, kh, kw, s, pad, OH, OW, src, scale, shift, dst); err != nil {
		return err
	}
	// A channel is BN-ReLU'd once into plane when it fits, instead of once per
	// kernel tap; larger planes apply it on every load.
	var planeBuf [im2colPlaneMax]float32
	for c := 0; c < C; c++ {
		plane := src[c*H*W : (c+1)*H*W]
		bn := scale != nil
		var sc, sh float32
		if bn {
			sc, sh = scale[c], shift[c]
			if H*W <= len(planeBuf) {
				t := planeBuf[:H*W]
				for q, v := range plane {
					t[q] = max(0, v*sc+sh)
				}
				plane, bn = t, false
			}
		}
		rows := dst[c*kh*kw*OH*OW : (c+1)*kh*kw*OH*OW]
		if s == 1 && OW == W && !bn {
			im2colSame(plane, H, W, kh, kw, pad, OH, rows)
			continue
		}
		im2colChannel(plane, H, W, kh, kw, s, pad, OH, OW, bn, sc, sh, rows)
	}
	return nil
}

// im2colPlaneMax is the largest H*W whose BN-ReLU Im2col computes once per
// channel (in a stack buffer).
const im2colPlaneMax = 4096

// im2colSame writes the kh*kw rows of one channel for a stride-1 conv whose
// output is as wide as its input (2*pad == kw-1). Then every row is the plane
// shifted by a constant offset, with the taps that fall off the left or right
// edge (which the shift wraps onto the neighbouring row) set to zero.
func im2colSame(plane []float32, H, W, kh, kw, pad, OH int, rows []float32) {
	n := OH * W
	for i := 0; i < kh; i++ {
		oy0, oy1 := min(max(0, pad-i), OH), min(max(0, H+pad-i), OH) // rows whose iy is in [0, H)
		for j := 0; j < kw; j++ {
			row := rows[(i*kw+j)*n : (i*kw+j+1)*n]
			lo, hi := oy0*W, max(oy1*W, oy0*W)
			clear(row[:lo])
			clear(row[hi:])
			d := (i-pad)*W + (j - pad) // row[q] = plane[q+d]
			qlo, qhi := min(max(lo, -d), hi), max(min(hi, H*W-d), lo)
			if qlo >= qhi {
				clear(row[lo:hi])
				continue
			}
			clear(row[lo:qlo])
			copy(row[qlo:qhi], plane[qlo+d:qhi+d])
			clear(row[qhi:hi])
			if left := min(pad-j, W); left > 0 {
				for oy := oy0; oy < oy1; oy++ {
					clear(row[oy*W : oy*W+left])
				}
			}
			if right := min(j-pad, W); right > 0 {
				for oy := oy0; oy < oy1; oy++ {
					clear(row[(oy+1)*W-right : (oy+1)*W])
				}
			}
		}
	}
}

// im2colChannel writes the kh*kw rows of one channel, any stride, applying
// the BN-ReLU on load when bn.
func im2colChannel(plane []float32, H, W, kh, kw, s, pad, OH, OW int, bn bool, sc, sh float32, rows []float32) {
	n := OH * OW
	for i := 0; i < kh; i++ {
		for j := 0; j < kw; j++ {
			row := rows[(i*kw+j)*n : (i*kw+j+1)*n]
			ox0, ox1 := validRange(j, s, pad, W, OW)
			for oy := 0; oy < OH; oy++ {
				out := row[oy*OW : (oy+1)*OW]
				iy := oy*s - pad + i
				if iy < 0 || iy >= H || ox0 >= ox1 {
					clear(out)
					continue
				}
				clear(out[:ox0])
				clear(out[ox1:])
				in := plane[iy*W : (iy+1)*W]
				x0 := ox0*s - pad + j
				seg := out[ox0:ox1]
				switch {
				case s == 1 && !bn:
					copy(seg, in[x0:])
				case s == 1:
					for q, v := range in[x0 : x0+len(seg)] {
						seg[q] = max(0, v*sc+sh)
					}
				case !bn:
					for q := range seg {
						seg[q] = in[x0+q*s]
					}
				default:
					for q := range seg {
						seg[q] = max(0, in[x0+q*s]*sc+sh)
					}
				}
			}
		}
	}
}

// validRange returns the output columns [lo, hi) whose input column
// ox*s-pad+j lies in [0, W).
func validRange(j, s, pad, W, OW int) (lo, hi int) {
	// ox*s >= pad-j  and  ox*s <= W-1+pad-j
	lo = 0
	if d := pad - j; d > 0 {
		lo = (d + s - 1) / s
	}
	hi = 0
	if d := W - 1 + pad - j; d >= 0 {
		hi = d/s + 1
	}
	return min(lo, OW), min(hi, OW)
}

// Col2im adds the K x (OH*OW) column matrix col back into the CHW image dst,
// each entry to the input position Im2col read it from (entries that Im2col
// took from the padding are dropped): the adjoint of Im2col without the
// BN-ReLU, used for the input gradient of a convolution. dst is accumulated
// into, not overwritten. Col2im returns CheckIm2col's error, having written
// nothing, when the arguments are inconsistent.
func Col2im(col []float32, C, H, W, kh, kw, s, pad, OH, OW int, dst []float32) error {
	if err := CheckIm2col(C, H, W, kh, kw, s, pad, OH, OW, dst, nil, nil, col); err != nil {
		return err
	}
	n := OH * OW
	for c := 0; c < C; c++ {
		plane := dst[c*H*W : (c+1)*H*W]
		for i := 0; i < kh; i++ {
			for j := 0; j < kw; j++ {
				row := col[((c*kh+i)*kw+j)*n : ((c*kh+i)*kw+j+1)*n]
				ox0, ox1 := validRange(j, s, pad, W, OW)
				if ox0 >= ox1 {
					continue
				}
				for oy := 0; oy < OH; oy++ {
					iy := oy*s - pad + i
					if iy < 0 || iy >= H {
						continue
					}
					in := plane[iy*W : (iy+1)*W]
					x0 := ox0*s - pad + j
					seg := row[oy*OW+ox0 : oy*OW+ox1]
					if s == 1 {
						for q, v := range seg {
							in[x0+q] += v
						}
						continue
					}
					for q, v := range seg {
						in[x0+q*s] += v
					}
				}
			}
		}
	}
	return nil
}
