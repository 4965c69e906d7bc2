package plot

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"image/color"
	"io"
	"strconv"
	"strings"
)

// SVG writes the chart as a standalone SVG document. Each series is one <path> element
// (its lone points are <circle> elements beside it); nothing else is a <path>.
func (c *Chart) SVG(w io.Writer) error {
	d := c.layout()
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, `<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">`+"\n",
		num(d.w), num(d.h), num(d.w), num(d.h))
	fmt.Fprintf(bw, "<title>%s</title>\n", esc(d.title))
	fmt.Fprintf(bw, `<rect x="0" y="0" width="%s" height="%s" fill="#ffffff"/>`+"\n", num(d.w), num(d.h))
	clips := 0
	for _, s := range d.shapes {
		switch s := s.(type) {
		case lineShape:
			fmt.Fprintf(bw, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="%s"%s/>`+"\n",
				num(s.a.x), num(s.a.y), num(s.b.x), num(s.b.y), hex(s.color), num(s.width), dash(s.dashed, s.width))
		case rectShape:
			fill, stroke := "none", "none"
			if s.fill.A != 0 {
				fill = hex(s.fill)
			}
			if s.stroke.A != 0 {
				stroke = hex(s.stroke)
			}
			fmt.Fprintf(bw, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s" stroke="%s"/>`+"\n",
				num(s.r.x), num(s.r.y), num(s.r.w), num(s.r.h), fill, stroke)
		case textShape:
			anchor := [...]string{"start", "middle", "end"}[s.anchor+1]
			rot, weight := "", ""
			if s.vertical {
				rot = fmt.Sprintf(` transform="rotate(-90 %s %s)"`, num(s.at.x), num(s.at.y))
			}
			if s.bold {
				weight = ` font-weight="bold"`
			}
			fmt.Fprintf(bw, `<text x="%s" y="%s" font-size="%s" text-anchor="%s" fill="%s"%s%s>%s</text>`+"\n",
				num(s.at.x), num(s.at.y), num(s.size), anchor, hex(colorText), weight, rot, esc(s.s))
		case pathShape:
			clips++
			id := "clip" + strconv.Itoa(clips)
			fmt.Fprintf(bw, `<clipPath id="%s"><rect x="%s" y="%s" width="%s" height="%s"/></clipPath>`+"\n",
				id, num(s.clip.x), num(s.clip.y), num(s.clip.w), num(s.clip.h))
			var p strings.Builder
			for _, piece := range s.pieces {
				for i, q := range piece {
					if i == 0 {
						p.WriteString("M")
					} else {
						p.WriteString(" L")
					}
					p.WriteString(num(q.x) + " " + num(q.y))
				}
				p.WriteString(" ")
			}
			fmt.Fprintf(bw, `<g clip-path="url(#%s)"><path d="%s" fill="none" stroke="%s" stroke-width="%s" stroke-linejoin="round"%s><title>%s</title></path>`,
				id, strings.TrimSpace(p.String()), hex(s.color), num(lineWidth), dash(s.dashed, lineWidth), esc(s.label))
			for _, q := range s.dots {
				fmt.Fprintf(bw, `<circle cx="%s" cy="%s" r="3" fill="%s"/>`, num(q.x), num(q.y), hex(s.color))
			}
			bw.WriteString("</g>\n")
		}
	}
	bw.WriteString("</svg>\n")
	return bw.Flush()
}

// num formats a coordinate with two decimals at most, without trailing zeros.
func num(v float64) string {
	s := strconv.FormatFloat(v, 'f', 2, 64)
	s = strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
	if s == "-0" {
		return "0"
	}
	return s
}

// hex is c as #rrggbb.
func hex(c color.RGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

// dash is the stroke-dasharray attribute of a dashed line of width w, or nothing.
func dash(dashed bool, w float64) string {
	if !dashed {
		return ""
	}
	return fmt.Sprintf(` stroke-dasharray="%s %s"`, num(dashOn*w/lineWidth), num(dashOff*w/lineWidth))
}

// esc escapes s for XML text and attributes.
func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
