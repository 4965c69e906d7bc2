package data

import "math"

// This file holds the geometry of the imagenet recipe's transforms: where torchvision's
// RandomResizedCrop cuts an image, and where evaluation's Resize(int) and CenterCrop put
// the input window.

// RandomResizedCrop's ranges (torchvision's defaults): the area of the crop as a fraction
// of the image's, and its aspect ratio width/height.
const (
	CropScaleMin = 0.08
	CropScaleMax = 1.0
	CropRatioMin = 3.0 / 4
	CropRatioMax = 4.0 / 3
)

// cropAttempts is how many random crops get_params tries before its central fallback.
const cropAttempts = 10

// Rect is a window of an image: rows Top..Top+H-1, columns Left..Left+W-1.
type Rect struct{ Top, Left, H, W int }

// cropSampler draws what RandomResizedCrop.get_params draws: uniform reals in [0, 1)
// and uniform integers in [0, n).
type cropSampler interface {
	Float64() float64
	IntN(n int) int
}

// CropParams is torchvision 0.14's RandomResizedCrop.get_params for an image of h x w
// pixels with CropScale* and CropRatio*: up to ten times it draws an area
// h*w*U(scale) and a ratio exp(U(log ratio)), rounds the sides w' = round(sqrt(area*ratio))
// and h' = round(sqrt(area/ratio)) half to even (Python's round), and takes the first that
// fits the image, at a uniform position (top first, then left); after ten misses it falls
// back to the largest central crop whose ratio is within range (the whole image when the
// image's own ratio is). The draws come from rng, in that order: two reals per attempt,
// then two integers. h and w must be positive.
func CropParams(rng cropSampler, h, w int) Rect {
	area := float64(h) * float64(w)
	logLo, logHi := math.Log(CropRatioMin), math.Log(CropRatioMax)
	for range cropAttempts {
		target := area * (CropScaleMin + (CropScaleMax-CropScaleMin)*rng.Float64())
		ratio := math.Exp(logLo + (logHi-logLo)*rng.Float64())
		cw := int(math.RoundToEven(math.Sqrt(target * ratio)))
		ch := int(math.RoundToEven(math.Sqrt(target / ratio)))
		if cw > 0 && cw <= w && ch > 0 && ch <= h {
			top := rng.IntN(h - ch + 1)
			left := rng.IntN(w - cw + 1)
			return Rect{Top: top, Left: left, H: ch, W: cw}
		}
	}
	return centralCrop(h, w)
}

// centralCrop is get_params' fallback: the central crop of the image's full width or
// height whose ratio is clamped to [CropRatioMin, CropRatioMax].
func centralCrop(h, w int) Rect {
	cw, ch := w, h
	switch in := float64(w) / float64(h); {
	case in < CropRatioMin:
		ch = int(math.RoundToEven(float64(cw) / CropRatioMin))
	case in > CropRatioMax:
		cw = int(math.RoundToEven(float64(ch) * CropRatioMax))
	}
	return Rect{Top: (h - ch) / 2, Left: (w - cw) / 2, H: ch, W: cw}
}

// EvalResizeSide is the shorter side evaluation resizes an image to for an input of
// h x w: round(max(h, w) * 256/224), torchvision's Resize(256) for a 224 input (73 for 64).
// For a square input this is the reference recipe; for another, the longer input side
// sets it, so that the centre crop always fits inside the resized image.
func EvalResizeSide(h, w int) int {
	return int(math.Round(float64(max(h, w)) * 256 / 224))
}

// EvalGeometry says how evaluation maps an image of ih x iw pixels to an input of h x w:
// torchvision's Resize(EvalResizeSide(h, w)) gives it rh x rw pixels (the shorter side
// that size, the longer int(side*long/short), truncated), and CenterCrop((h, w)) takes the
// window win of that resized image (its offsets (rh-h)/2 and (rw-w)/2 rounded half to
// even, as Python's round). Every size must be positive.
func EvalGeometry(ih, iw, h, w int) (rh, rw int, win Rect) {
	side := EvalResizeSide(h, w)
	if iw <= ih {
		rw, rh = side, int(float64(side)*float64(ih)/float64(iw))
	} else {
		rh, rw = side, int(float64(side)*float64(iw)/float64(ih))
	}
	top := int(math.RoundToEven(float64(rh-h) / 2))
	left := int(math.RoundToEven(float64(rw-w) / 2))
	return rh, rw, Rect{Top: top, Left: left, H: h, W: w}
}
