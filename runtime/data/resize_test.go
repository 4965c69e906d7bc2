package data

import (
	"math"
	"math/rand/v2"
	"testing"
)

// resizeRef is the float64 reference of resize (before the normalization and the flip):
// the plain formula of bilinear interpolation at PyTorch's source coordinates, for tests
// and for checking the fast path.
func resizeRef(src *picture, crop Rect, rh, rw int, win Rect) []float64 {
	out := make([]float64, src.c*win.H*win.W)
	coord := func(i, n, m int) (int, int, float64) {
		s := math.Max((float64(i)+0.5)*float64(n)/float64(m)-0.5, 0)
		i0 := int(math.Floor(s))
		if i0 > n-1 {
			i0 = n - 1
		}
		return i0, min(i0+1, n-1), s - float64(i0)
	}
	for ch := range src.c {
		for y := range win.H {
			y0, y1, ly := coord(win.Top+y, crop.H, rh)
			for x := range win.W {
				x0, x1, lx := coord(win.Left+x, crop.W, rw)
				at := func(yy, xx int) float64 {
					return float64(src.pix[(ch*src.h+crop.Top+yy)*src.w+crop.Left+xx])
				}
				v := (1-ly)*((1-lx)*at(y0, x0)+lx*at(y0, x1)) + ly*((1-lx)*at(y1, x0)+lx*at(y1, x1))
				out[(ch*win.H+y)*win.W+x] = v
			}
		}
	}
	return out
}

// randomPicture is c planes of h x w random bytes.
func randomPicture(rng *rand.Rand, c, h, w int) *picture {
	p := &picture{c: c, h: h, w: w, pix: make([]uint8, c*h*w)}
	for i := range p.pix {
		p.pix[i] = uint8(rng.IntN(256))
	}
	return p
}

// identity is the affine map that leaves pixel values as they are.
func identity(c int) affine {
	m := affine{a: make([]float64, c), b: make([]float64, c)}
	for i := range m.a {
		m.a[i] = 1
	}
	return m
}

// closeTo reports whether got is within 1e-5 of want, relative to max(1, |want|).
func closeTo(got float32, want float64) bool {
	return math.Abs(float64(got)-want) <= 1e-5*math.Max(1, math.Abs(want))
}

// TestResizeMatchesReference compares the bilinear resize with the float64 formula of
// F.interpolate (bilinear, align_corners=False, antialias=False) for random crops of random
// images, shrinking and enlarging, for training's whole output and evaluation's windows,
// flipped and not.
func TestResizeMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var r resizer // reused throughout, as a worker reuses it
	for trial := range 300 {
		c := 1 + 2*rng.IntN(2)
		ih, iw := 1+rng.IntN(60), 1+rng.IntN(60)
		src := randomPicture(rng, c, ih, iw)
		crop := CropParams(rng, ih, iw)
		if trial%5 == 0 {
			crop = Rect{H: ih, W: iw}
		}
		oh, ow := 1+rng.IntN(50), 1+rng.IntN(50)
		rh, rw, win := oh, ow, Rect{H: oh, W: ow}
		if trial%2 == 1 { // evaluation: resize, then the centre window
			rh, rw, win = EvalGeometry(crop.H, crop.W, oh, ow)
		}
		want := resizeRef(src, crop, rh, rw, win)
		got := make([]float32, c*win.H*win.W)
		r.resize(src, crop, rh, rw, win, false, identity(c), got)
		flipped := make([]float32, len(got))
		r.resize(src, crop, rh, rw, win, true, identity(c), flipped)
		for i, v := range got {
			if !closeTo(v, want[i]) {
				t.Fatalf("trial %d: %dx%dx%d crop %+v to %dx%d window %+v: value %d = %v, reference %v",
					trial, c, ih, iw, crop, rh, rw, win, i, v, want[i])
			}
			x := i % win.W
			if m := flipped[i-x+win.W-1-x]; m != v {
				t.Fatalf("trial %d: flipped value at %d is %v, want the mirror's %v", trial, i, m, v)
			}
		}
	}
}

// TestResizeKnownValues checks small cases worked out by hand from PyTorch's source
// coordinates s = (i + 0.5) * in/out - 0.5, clamped at 0.
func TestResizeKnownValues(t *testing.T) {
	// 1 x 2 -> 1 x 4: s = -0.25 (0), 0.25, 0.75, 1.25 (clamped to the last pixel).
	src := &picture{c: 1, h: 1, w: 2, pix: []uint8{0, 100}}
	var r resizer
	got := make([]float32, 4)
	r.resize(src, Rect{H: 1, W: 2}, 1, 4, Rect{H: 1, W: 4}, false, identity(1), got)
	for i, want := range []float32{0, 25, 75, 100} {
		if got[i] != want {
			t.Errorf("1x2 -> 1x4: value %d = %v, want %v (all %v)", i, got[i], want, got)
		}
	}
	// 4 x 1 -> 2 x 1: s = 0.5, 2.5: the means of rows 0, 1 and of rows 2, 3.
	src = &picture{c: 1, h: 4, w: 1, pix: []uint8{10, 20, 200, 100}}
	got = got[:2]
	r.resize(src, Rect{H: 4, W: 1}, 2, 1, Rect{H: 2, W: 1}, false, identity(1), got)
	if got[0] != 15 || got[1] != 150 {
		t.Errorf("4x1 -> 2x1: %v, want [15 150]", got)
	}
	// The same size is a copy of the crop, normalized.
	src = randomPicture(rand.New(rand.NewPCG(1, 1)), 3, 9, 7)
	crop := Rect{Top: 2, Left: 1, H: 5, W: 4}
	got = make([]float32, 3*5*4)
	norm := ImageNetNorm()
	aff, err := norm.affine(3)
	if err != nil {
		t.Fatal(err)
	}
	r.resize(src, crop, 5, 4, Rect{H: 5, W: 4}, false, aff, got)
	for ch := range 3 {
		for y := range 5 {
			for x := range 4 {
				v := float64(src.pix[(ch*9+crop.Top+y)*7+crop.Left+x])
				want := (v/255 - float64(ImageNetMean[ch])) / float64(ImageNetStd[ch])
				if g := got[(ch*5+y)*4+x]; !closeTo(g, want) {
					t.Fatalf("copy of the crop, channel %d (%d, %d): %v, want %v", ch, y, x, g, want)
				}
			}
		}
	}
}
