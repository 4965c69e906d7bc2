package plot

import (
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
)

// pngZoom is how many PNG pixels one SVG pixel takes: PNGs are drawn at twice the
// resolution, for crisp lines and text.
const pngZoom = 2

// Size is the chart's size in SVG pixels; its PNG is pngZoom (2) times as wide and high.
func (c *Chart) Size() (w, h int) {
	d := c.layout()
	return int(d.w), int(d.h)
}

// PNG writes the chart as a PNG image, twice the size of its SVG.
func (c *Chart) PNG(w io.Writer) error {
	return png.Encode(w, c.Image())
}

// Image rasterizes the chart (twice the size of its SVG), with antialiased lines and a
// built-in bitmap font.
func (c *Chart) Image() *image.RGBA {
	d := c.layout()
	cv := newCanvas(int(d.w)*pngZoom, int(d.h)*pngZoom)
	z := float64(pngZoom)
	zp := func(p pt) pt { return pt{p.x * z, p.y * z} }
	full := rect{0, 0, float64(cv.w), float64(cv.h)}
	for _, s := range d.shapes {
		switch s := s.(type) {
		case lineShape:
			cv.stroke([][]pt{{zp(s.a), zp(s.b)}}, s.width*z, s.dashed, full, s.color)
		case rectShape:
			r := rect{s.r.x * z, s.r.y * z, s.r.w * z, s.r.h * z}
			if s.fill.A != 0 {
				cv.fill(r, s.fill)
			}
			if s.stroke.A != 0 {
				a, b, cc, dd := pt{r.x, r.y}, pt{r.x + r.w, r.y}, pt{r.x + r.w, r.y + r.h}, pt{r.x, r.y + r.h}
				cv.stroke([][]pt{{a, b, cc, dd, a}}, z, false, full, s.stroke)
			}
		case textShape:
			cv.text(s, colorText)
		case pathShape:
			clip := rect{s.clip.x * z, s.clip.y * z, s.clip.w * z, s.clip.h * z}
			var pieces [][]pt
			for _, p := range s.pieces {
				q := make([]pt, len(p))
				for i := range p {
					q[i] = zp(p[i])
				}
				pieces = append(pieces, q)
			}
			cv.stroke(pieces, lineWidth*z, s.dashed, clip, s.color)
			for _, p := range s.dots {
				cv.dot(zp(p), 3*z, clip, s.color)
			}
		}
	}
	return cv.img
}

// canvas is an image being drawn, with a coverage mask for the stroke in progress
// (so that where segments of one line overlap, it is not painted twice).
type canvas struct {
	img  *image.RGBA
	w, h int
	mask []float32
}

func newCanvas(w, h int) *canvas {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	return &canvas{img: img, w: w, h: h, mask: make([]float32, w*h)}
}

// blend paints c over the pixel (x, y) with coverage a in [0, 1].
func (cv *canvas) blend(x, y int, c color.RGBA, a float64) {
	if x < 0 || y < 0 || x >= cv.w || y >= cv.h || a <= 0 {
		return
	}
	a = min(a, 1) * float64(c.A) / 255
	i := cv.img.PixOffset(x, y)
	p := cv.img.Pix[i : i+3 : i+3]
	for k, v := range [3]uint8{c.R, c.G, c.B} {
		p[k] = uint8(math.Round(float64(p[k])*(1-a) + float64(v)*a))
	}
}

// fill paints the rectangle r.
func (cv *canvas) fill(r rect, c color.RGBA) {
	for y := int(r.y); y < int(math.Ceil(r.y+r.h)); y++ {
		for x := int(r.x); x < int(math.Ceil(r.x+r.w)); x++ {
			cv.blend(x, y, c, 1)
		}
	}
}

// bounds is the pixels of r (within the canvas) as [x0, x1) x [y0, y1).
func (cv *canvas) bounds(r rect) (x0, y0, x1, y1 int) {
	x0, y0 = max(0, int(math.Floor(r.x))), max(0, int(math.Floor(r.y)))
	x1, y1 = min(cv.w, int(math.Ceil(r.x+r.w))), min(cv.h, int(math.Ceil(r.y+r.h)))
	return
}

// stroke draws the polylines of width w (dashed or not) clipped to clip.
func (cv *canvas) stroke(lines [][]pt, w float64, dashed bool, clip rect, c color.RGBA) {
	cx0, cy0, cx1, cy1 := cv.bounds(clip)
	dx0, dy0, dx1, dy1 := cx1, cy1, cx0, cy0 // the part of the mask touched
	seg := func(a, b pt) {
		r := w/2 + 1
		x0, y0 := max(cx0, int(math.Floor(min(a.x, b.x)-r))), max(cy0, int(math.Floor(min(a.y, b.y)-r)))
		x1, y1 := min(cx1, int(math.Ceil(max(a.x, b.x)+r))), min(cy1, int(math.Ceil(max(a.y, b.y)+r)))
		dx0, dy0, dx1, dy1 = min(dx0, x0), min(dy0, y0), max(dx1, x1), max(dy1, y1)
		for y := y0; y < y1; y++ {
			for x := x0; x < x1; x++ {
				cov := float32(w/2 + 0.5 - distToSegment(pt{float64(x) + 0.5, float64(y) + 0.5}, a, b))
				if i := y*cv.w + x; cov > cv.mask[i] {
					cv.mask[i] = min(cov, 1)
				}
			}
		}
	}
	on, off := dashOn*w/lineWidth, dashOff*w/lineWidth
	for _, l := range lines {
		phase := 0.0 // distance along the dash pattern
		for i := 1; i < len(l); i++ {
			a, b := l[i-1], l[i]
			n := math.Hypot(b.x-a.x, b.y-a.y)
			if !dashed || n == 0 {
				seg(a, b)
				continue
			}
			for t := 0.0; t < n; {
				pos := math.Mod(phase, on+off)
				left := on + off - pos // to the end of the gap
				if pos < on {
					left = on - pos // to the end of the dash
				}
				step := math.Min(n-t, left)
				if pos < on {
					p, q := t/n, (t+step)/n
					seg(pt{a.x + p*(b.x-a.x), a.y + p*(b.y-a.y)}, pt{a.x + q*(b.x-a.x), a.y + q*(b.y-a.y)})
				}
				t += step
				phase += step
			}
		}
	}
	for y := dy0; y < dy1; y++ {
		for x := dx0; x < dx1; x++ {
			i := y*cv.w + x
			if cv.mask[i] > 0 {
				cv.blend(x, y, c, float64(cv.mask[i]))
				cv.mask[i] = 0
			}
		}
	}
}

// dot draws a filled disc of radius r at p, clipped to clip.
func (cv *canvas) dot(p pt, r float64, clip rect, c color.RGBA) {
	cx0, cy0, cx1, cy1 := cv.bounds(clip)
	for y := max(cy0, int(p.y-r-1)); y < min(cy1, int(p.y+r+2)); y++ {
		for x := max(cx0, int(p.x-r-1)); x < min(cx1, int(p.x+r+2)); x++ {
			cv.blend(x, y, c, r+0.5-math.Hypot(float64(x)+0.5-p.x, float64(y)+0.5-p.y))
		}
	}
}

// distToSegment is the distance from p to the segment ab.
func distToSegment(p, a, b pt) float64 {
	vx, vy := b.x-a.x, b.y-a.y
	t := 0.0
	if l := vx*vx + vy*vy; l > 0 {
		t = min(1, max(0, ((p.x-a.x)*vx+(p.y-a.y)*vy)/l))
	}
	return math.Hypot(p.x-(a.x+t*vx), p.y-(a.y+t*vy))
}

// fontScale is the size of a font pixel, in PNG pixels, for text of size (SVG pixels).
func fontScale(size float64) float64 { return max(1, math.Round(pngZoom*size/10)) }

// text draws s with the bitmap font.
func (cv *canvas) text(s textShape, c color.RGBA) {
	k := fontScale(s.size)
	rs := []rune(s.s)
	width := float64(len(rs)*advanceW-1) * k
	u0 := -width / 2 * float64(s.anchor+1) // the start, along the text, from the anchor
	ax, ay := math.Round(s.at.x*pngZoom), math.Round(s.at.y*pngZoom)
	put := func(u, v float64) { // a font pixel at u along the text, v below the baseline
		for i := 0.0; i < k; i++ {
			for j := 0.0; j < k; j++ {
				if s.vertical {
					cv.blend(int(ax+v+j), int(ay-u-i), c, 1)
				} else {
					cv.blend(int(ax+u+i), int(ay+v+j), c, 1)
				}
			}
		}
	}
	for n, r := range rs {
		g := glyph(r)
		for row := range glyphH {
			for col := range glyphW {
				if g[row]&(1<<(glyphW-1-col)) == 0 {
					continue
				}
				u, v := math.Round(u0)+float64(n*advanceW+col)*k, float64(row-7)*k
				put(u, v)
				if s.bold {
					put(u+1, v)
				}
			}
		}
	}
}
