// Package plot draws line charts of training runs as SVG or PNG, with the standard
// library only: a Chart is laid out once into shapes (lines, paths, text), which svg.go
// writes as SVG elements and png.go rasterizes with a small built-in bitmap font.
package plot

import (
	"image/color"
	"math"
	"slices"
)

// Series is one line of a panel: the points (X[i], Y[i]); a point whose X or Y is NaN
// or infinite breaks the line.
type Series struct {
	Label  string // what the line is, e.g. "run-a test"
	X, Y   []float64
	Color  color.RGBA
	Dashed bool
}

// Panel is one pair of axes with its series.
type Panel struct {
	Title, XLabel, YLabel string
	Series                []Series
	XInteger              bool    // ticks of the x axis at whole numbers only (epochs)
	YCeil                 float64 // the y axis ends at or below YCeil when it is > 0 (100 for percentages)
}

// LegendEntry is one sample line of the legend and its label.
type LegendEntry struct {
	Label  string
	Color  color.RGBA
	Dashed bool
}

// Chart is a titled row of panels with a legend below them.
type Chart struct {
	Title  string
	Panels []Panel
	Legend []LegendEntry
}

// Sizes of the layout, in SVG pixels.
const (
	chartWidth  = 960
	plotTop     = 64  // top of the plot areas
	plotHeight  = 300 // height of the plot areas
	marginLeft  = 74  // from a panel's left edge to its plot area
	marginRight = 22
	legendRow   = 22 // height of one row of the legend

	sizeTitle  = 16
	sizePanel  = 13
	sizeAxis   = 12
	sizeTick   = 11
	sizeLegend = 12

	lineWidth = 2 // of the series
	dashOn    = 7 // the dashes of a dashed series, and the gaps between them
	dashOff   = 5
)

// Colours of the layout.
var (
	colorText  = color.RGBA{0x22, 0x22, 0x22, 0xff}
	colorFrame = color.RGBA{0x88, 0x88, 0x88, 0xff}
	colorGrid  = color.RGBA{0xe4, 0xe4, 0xe4, 0xff}
	// ColorKey is the grey of the legend's style samples ("train" dashed, "test" solid).
	ColorKey = color.RGBA{0x55, 0x55, 0x55, 0xff}
)

// Palette is the colour of each run in turn (Tableau 10); the 11th run takes the
// first again.
var Palette = [...]color.RGBA{
	{0x1f, 0x77, 0xb4, 0xff}, {0xff, 0x7f, 0x0e, 0xff}, {0x2c, 0xa0, 0x2c, 0xff},
	{0xd6, 0x27, 0x28, 0xff}, {0x94, 0x67, 0xbd, 0xff}, {0x8c, 0x56, 0x4b, 0xff},
	{0xe3, 0x77, 0xc2, 0xff}, {0x7f, 0x7f, 0x7f, 0xff}, {0xbc, 0xbd, 0x22, 0xff},
	{0x17, 0xbe, 0xcf, 0xff},
}

// rect is an area of the drawing.
type rect struct{ x, y, w, h float64 }

// pt is a point of the drawing.
type pt struct{ x, y float64 }

// Shapes of a laid-out chart. Each renderer draws them in order.
type (
	lineShape struct {
		a, b   pt
		color  color.RGBA
		width  float64
		dashed bool
	}
	// pathShape is a series: its pieces (runs of finite points) and lone points,
	// clipped to clip.
	pathShape struct {
		label  string
		pieces [][]pt
		dots   []pt
		clip   rect
		color  color.RGBA
		dashed bool
	}
	textShape struct {
		at       pt // the baseline's anchor point (before rotation)
		s        string
		size     float64
		anchor   int // -1 start, 0 middle, 1 end
		vertical bool
		bold     bool
	}
	rectShape struct {
		r      rect
		fill   color.RGBA // zero: none
		stroke color.RGBA // zero: none
	}
)

// drawing is a laid-out chart.
type drawing struct {
	w, h   float64
	title  string
	shapes []any
}

// textWidth is the width that s takes at size, in either renderer (at most).
func textWidth(s string, size float64) float64 {
	n := float64(len([]rune(s)))
	return max(0.56*size*n, 6*fontScale(size)/pngZoom*n)
}

// layout places the chart's parts.
func (c *Chart) layout() *drawing {
	d := &drawing{w: chartWidth, title: c.Title}
	add := func(s any) { d.shapes = append(d.shapes, s) }
	add(textShape{at: pt{chartWidth / 2, 28}, s: c.Title, size: sizeTitle, bold: true})
	n := max(1, len(c.Panels))
	pw := float64(chartWidth) / float64(n)
	for i, p := range c.Panels {
		x0 := float64(i) * pw
		area := rect{x0 + marginLeft, plotTop, pw - marginLeft - marginRight, plotHeight}
		c.layoutPanel(&p, area, x0, add)
	}
	// The legend: entries in rows, each row centred.
	y := float64(plotTop + plotHeight + 62)
	var row []LegendEntry
	rowWidth := 0.0
	entryWidth := func(e LegendEntry) float64 { return 30 + 6 + textWidth(e.Label, sizeLegend) + 20 }
	flush := func() {
		x := (chartWidth - rowWidth) / 2
		for _, e := range row {
			add(lineShape{a: pt{x, y - 4}, b: pt{x + 30, y - 4}, color: e.Color, width: lineWidth + 0.5, dashed: e.Dashed})
			add(textShape{at: pt{x + 36, y}, s: e.Label, size: sizeLegend, anchor: -1})
			x += entryWidth(e)
		}
		y += legendRow
		row, rowWidth = nil, 0
	}
	for _, e := range c.Legend {
		if w := entryWidth(e); len(row) > 0 && rowWidth+w > chartWidth-40 {
			flush()
		}
		row = append(row, e)
		rowWidth += entryWidth(e)
	}
	if len(row) > 0 {
		flush()
	}
	d.h = math.Ceil(y - legendRow + 16)
	if len(c.Legend) == 0 {
		d.h = plotTop + plotHeight + 50
	}
	return d
}

// layoutPanel places one panel in area (x0 is the panel's left edge).
func (c *Chart) layoutPanel(p *Panel, area rect, x0 float64, add func(any)) {
	var xs, ys, firsts []float64
	for _, s := range p.Series {
		first := true
		for i := range min(len(s.X), len(s.Y)) {
			if finite(s.X[i]) && finite(s.Y[i]) {
				xs, ys = append(xs, s.X[i]), append(ys, s.Y[i])
				if first {
					firsts, first = append(firsts, s.Y[i]), false
				}
			}
		}
	}
	xt := ticks(0, maxOr(xs, 1), p.XInteger)
	ylo, yhi := 0.0, robustMax(ys, firsts)
	if p.YCeil > 0 {
		yhi = min(yhi, p.YCeil)
	}
	yt := ticks(min(ylo, minOr(ys, 0)), yhi, false)
	xmin, xmax := xt[0], xt[len(xt)-1]
	ymin, ymax := yt[0], yt[len(yt)-1]
	if p.YCeil > 0 && ymax > p.YCeil {
		yt = slices.DeleteFunc(yt, func(v float64) bool { return v > p.YCeil })
		ymax = p.YCeil
	}
	px := func(v float64) float64 { return area.x + (v-xmin)/(xmax-xmin)*area.w }
	py := func(v float64) float64 { return area.y + area.h - (v-ymin)/(ymax-ymin)*area.h }

	bottom := area.y + area.h
	for _, v := range yt {
		y := py(v)
		add(lineShape{a: pt{area.x, y}, b: pt{area.x + area.w, y}, color: colorGrid, width: 1})
		add(lineShape{a: pt{area.x - 5, y}, b: pt{area.x, y}, color: colorFrame, width: 1})
		add(textShape{at: pt{area.x - 8, y + 4}, s: tickLabel(v, yt), size: sizeTick, anchor: 1})
	}
	for _, v := range xt {
		x := px(v)
		add(lineShape{a: pt{x, area.y}, b: pt{x, bottom}, color: colorGrid, width: 1})
		add(lineShape{a: pt{x, bottom}, b: pt{x, bottom + 5}, color: colorFrame, width: 1})
		add(textShape{at: pt{x, bottom + 18}, s: tickLabel(v, xt), size: sizeTick})
	}
	add(rectShape{r: area, stroke: colorFrame})
	add(textShape{at: pt{area.x + area.w/2, area.y - 12}, s: p.Title, size: sizePanel, bold: true})
	add(textShape{at: pt{area.x + area.w/2, bottom + 38}, s: p.XLabel, size: sizeAxis})
	add(textShape{at: pt{x0 + 20, area.y + area.h/2}, s: p.YLabel, size: sizeAxis, vertical: true})

	// Values beyond the axes are drawn up to a little outside the area, which clips them.
	clampY := func(y float64) float64 { return min(max(y, area.y-20), bottom+20) }
	for _, s := range p.Series {
		// The clip leaves room for a lone point's dot on the frame.
		clip := rect{area.x - 4, area.y - 4, area.w + 8, area.h + 8}
		ps := pathShape{label: s.Label, clip: clip, color: s.Color, dashed: s.Dashed}
		var cur []pt
		end := func() {
			switch len(cur) {
			case 0:
			case 1:
				ps.dots = append(ps.dots, cur[0])
			default:
				ps.pieces = append(ps.pieces, cur)
			}
			cur = nil
		}
		for i := range min(len(s.X), len(s.Y)) {
			if !finite(s.X[i]) || !finite(s.Y[i]) {
				end()
				continue
			}
			cur = append(cur, pt{px(s.X[i]), clampY(py(s.Y[i]))})
		}
		end()
		add(ps)
	}
}

// finite reports whether v is neither NaN nor infinite.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func maxOr(v []float64, def float64) float64 {
	if len(v) == 0 {
		return def
	}
	return slices.Max(v)
}

func minOr(v []float64, def float64) float64 {
	if len(v) == 0 {
		return def
	}
	return slices.Min(v)
}

// robustMax is the top of a y axis for the values v, of series that start at the
// values firsts: their maximum, except that values over 10 times both the highest start
// and the median (a loss that diverged midway) are left above the axis, which clips
// them, so that they do not flatten the rest of the curves.
func robustMax(v, firsts []float64) float64 {
	if len(v) == 0 {
		return 1
	}
	s := slices.Sorted(slices.Values(v))
	limit := 10 * max(s[len(s)/2], maxOr(firsts, 0))
	if limit <= 0 || s[len(s)-1] <= limit {
		return s[len(s)-1]
	}
	i, _ := slices.BinarySearch(s, limit)
	return s[max(0, i-1)]
}
