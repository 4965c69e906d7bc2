package data

import "math/rand/v2"

// Augment is the random augmentation of the .wrn `augment` statement,
// applied to a normalized float32 CHW image: a random crop of the image
// padded by Crop on each side (with zeros, or by reflection as PyTorch's
// padding_mode="reflect", which does not repeat the edge), then a horizontal
// flip with probability 1/2.
type Augment struct {
	Flip    bool
	Crop    int // padding P of the random crop; 0 = no crop
	Reflect bool
}

// Identity reports whether a never changes an image.
func (a Augment) Identity() bool { return !a.Flip && a.Crop <= 0 }

// Apply writes an augmented copy of src (c x h x w) to dst (which must not
// overlap src). The window offsets oy, ox in [0, 2P] of the padded image are
// drawn first (rng.IntN(2P+1) each, only when P > 0), then the flip
// (rng.IntN(2) == 1, only when Flip): out[y][x] = padded[y+oy][x'+ox] with
// x' = w-1-x when flipped, else x.
func (a Augment) Apply(rng *rand.Rand, src, dst []float32, c, h, w int) {
	src, dst = src[:c*h*w], dst[:c*h*w]
	p := max(a.Crop, 0)
	dy, dx := 0, 0
	if p > 0 {
		dy, dx = rng.IntN(2*p+1)-p, rng.IntN(2*p+1)-p
	}
	flip := a.Flip && rng.IntN(2) == 1
	if dy == 0 && dx == 0 && !flip {
		copy(dst, src)
		return
	}
	for y := range h {
		sy, inY := a.source(y+dy, h)
		for ch := range c {
			out := dst[(ch*h+y)*w : (ch*h+y+1)*w]
			if !inY {
				clear(out)
				continue
			}
			row := src[(ch*h+sy)*w : (ch*h+sy+1)*w]
			for x := range w {
				xx := x
				if flip {
					xx = w - 1 - x
				}
				if sx, ok := a.source(xx+dx, w); ok {
					out[x] = row[sx]
				} else {
					out[x] = 0
				}
			}
		}
	}
}

// source maps a coordinate of the padded image (shifted so that 0 is the
// first real pixel) to the source pixel: reflected into [0, n), or not
// there (zero padding).
func (a Augment) source(i, n int) (int, bool) {
	if i >= 0 && i < n {
		return i, true
	}
	if !a.Reflect {
		return 0, false
	}
	return reflectIndex(i, n), true
}

// reflectIndex reflects i into [0, n) without repeating the edge pixel
// (-1 -> 1, n -> n-2), folding again for paddings larger than the image.
func reflectIndex(i, n int) int {
	if n == 1 {
		return 0
	}
	period := 2 * (n - 1)
	i %= period
	if i < 0 {
		i += period
	}
	if i >= n {
		i = period - i
	}
	return i
}
