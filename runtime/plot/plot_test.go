package plot

import (
	"bytes"
	"encoding/xml"
	"image/png"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestTicks(t *testing.T) {
	tests := []struct {
		lo, hi  float64
		integer bool
		want    []float64
	}{
		{0, 2.3, false, []float64{0, 0.5, 1, 1.5, 2, 2.5}},
		{0, 1, true, []float64{0, 1}},
		{0, 3, true, []float64{0, 1, 2, 3}},
		{0, 30, true, []float64{0, 10, 20, 30}},
		{0, 200, true, []float64{0, 50, 100, 150, 200}},
		{0, 0.0123, false, []float64{0, 0.0025, 0.005, 0.0075, 0.01, 0.0125}},
		{0, 0, false, []float64{0, 0.2, 0.4, 0.6, 0.8, 1}},
		{math.NaN(), math.Inf(1), false, []float64{0, 0.2, 0.4, 0.6, 0.8, 1}},
		{0, 77, false, []float64{0, 20, 40, 60, 80}},
	}
	for _, tc := range tests {
		got := ticks(tc.lo, tc.hi, tc.integer)
		if diff := cmp.Diff(tc.want, got, cmpopts.EquateApprox(0, 1e-12)); diff != "" {
			t.Errorf("ticks(%g, %g, %v) (-want +got):\n%s", tc.lo, tc.hi, tc.integer, diff)
		}
	}
}

func TestTickLabel(t *testing.T) {
	tests := []struct {
		all  []float64
		want []string
	}{
		{[]float64{0, 0.5, 1, 1.5}, []string{"0.0", "0.5", "1.0", "1.5"}},
		{[]float64{0, 0.0025, 0.005}, []string{"0.0000", "0.0025", "0.0050"}},
		{[]float64{0, 50, 100}, []string{"0", "50", "100"}},
		{[]float64{0, 5e8, 1e9}, []string{"0", "5.0e8", "1.0e9"}},
	}
	for _, tc := range tests {
		var got []string
		for _, v := range tc.all {
			got = append(got, tickLabel(v, tc.all))
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("labels of %v (-want +got):\n%s", tc.all, diff)
		}
	}
}

func TestRobustMax(t *testing.T) {
	tests := []struct {
		name      string
		v, firsts []float64
		want      float64
	}{
		{"a high first epoch is kept", []float64{2.3, 0.9, 0.5, 0.3, 0.2, 0.1}, []float64{2.3}, 2.3},
		{"a long tail is kept", []float64{0.15, 4e-4, 4e-5, 4e-5, 4e-5, 4e-5}, []float64{0.15}, 0.15},
		{"a spike is left above the axis", []float64{2.3, 1e12, 0.5, 0.3, 0.2, 0.1}, []float64{2.3}, 2.3},
		{"a start that diverged is kept", []float64{1e6, 0.5, 0.3}, []float64{1e6}, 1e6},
		{"nothing", nil, nil, 1},
	}
	for _, tc := range tests {
		if got := robustMax(tc.v, tc.firsts); got != tc.want {
			t.Errorf("%s: robustMax(%v, %v) = %g, want %g", tc.name, tc.v, tc.firsts, got, tc.want)
		}
	}
}

// synthetic is a run of n epochs whose loss and error fall, the second run of a chart
// (name ending in "b") more slowly.
func synthetic(name string, n int) Run {
	k := 1.0
	if strings.HasSuffix(name, "b") {
		k = 2
	}
	r := Run{Name: name}
	for e := 1; e <= n; e++ {
		f := float64(e)
		r.Epoch = append(r.Epoch, f)
		r.TrainLoss = append(r.TrainLoss, 2*math.Exp(-f/(5*k))+0.05)
		r.TestLoss = append(r.TestLoss, 2*math.Exp(-f/(6*k))+0.2)
		r.TrainError = append(r.TrainError, 0.8*math.Exp(-f/(5*k)))
		r.TestError = append(r.TestError, 0.8*math.Exp(-f/(6*k))+0.05)
	}
	return r
}

// svgSummary parses an SVG document and returns its <path> elements' d attributes and
// all its text.
func svgSummary(t *testing.T, b []byte) (paths []string, text string) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	var sb strings.Builder
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if tok.Name.Local == "path" {
				for _, a := range tok.Attr {
					if a.Name.Local == "d" {
						paths = append(paths, a.Value)
					}
				}
			}
		case xml.CharData:
			sb.Write(tok)
			sb.WriteByte('\n')
		}
	}
	return paths, sb.String()
}

func TestCurvesSVG(t *testing.T) {
	spiky := synthetic("b", 200)
	spiky.TrainLoss[3], spiky.TestLoss[5], spiky.TestError[7] = 1e30, math.NaN(), math.Inf(1)
	for _, tc := range []struct {
		name  string
		runs  []Run
		paths int
	}{
		{"one run", []Run{synthetic("run-a", 30)}, 4},
		{"two runs", []Run{synthetic("run-a", 30), spiky}, 8},
		{"one epoch", []Run{synthetic("e1", 1)}, 4},
		{"empty log", []Run{{Name: "empty"}}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Curves("title <&>", tc.runs).SVG(&b); err != nil {
				t.Fatal(err)
			}
			paths, text := svgSummary(t, b.Bytes())
			if len(paths) != tc.paths {
				t.Errorf("%d <path> elements, want %d", len(paths), tc.paths)
			}
			for _, want := range []string{"title <&>", "Loss", "Error", "epoch", "cross-entropy loss", "error (%)", "train", "test", tc.runs[0].Name} {
				if !strings.Contains(text, want) {
					t.Errorf("the text lacks %q:\n%s", want, text)
				}
			}
			if s := b.String(); strings.Contains(s, "NaN") || strings.Contains(s, "Inf") || strings.Contains(s, "e+") {
				t.Errorf("the SVG holds a non-finite or huge coordinate")
			}
			if tc.runs[0].Epoch != nil && !strings.HasPrefix(paths[0], "M") && !strings.Contains(b.String(), "<circle") {
				t.Errorf("the first series draws nothing: %q", paths[0])
			}
		})
	}
}

func TestCurvesPNG(t *testing.T) {
	c := Curves("two runs", []Run{synthetic("run-a", 30), synthetic("run-b", 60)})
	var b bytes.Buffer
	if err := c.PNG(&b); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&b)
	if err != nil {
		t.Fatal(err)
	}
	w, h := c.Size()
	if got := img.Bounds().Size(); got.X != 2*w || got.Y != 2*h {
		t.Fatalf("PNG %v, want %dx%d", got, 2*w, 2*h)
	}
	// Pixels of each run's colour (the lines), and dark ones (the text).
	counts := map[[3]uint32]int{}
	dark := 0
	for y := range img.Bounds().Max.Y {
		for x := range img.Bounds().Max.X {
			r, g, bl, _ := img.At(x, y).RGBA()
			counts[[3]uint32{r >> 8, g >> 8, bl >> 8}]++
			if r>>8 < 0x40 && g>>8 < 0x40 && bl>>8 < 0x40 {
				dark++
			}
		}
	}
	for i := range 2 {
		p := Palette[i]
		if n := counts[[3]uint32{uint32(p.R), uint32(p.G), uint32(p.B)}]; n < 1000 {
			t.Errorf("run %d: %d pixels of its colour, want lines", i, n)
		}
	}
	if dark < 2000 {
		t.Errorf("%d dark pixels: no text?", dark)
	}
}

func TestGlyphs(t *testing.T) {
	for r, art := range glyphs {
		rows := strings.Fields(art)
		if len(rows) > glyphH {
			t.Errorf("%q: %d rows", r, len(rows))
		}
		for _, row := range rows {
			if len(row) != glyphW || strings.Trim(row, ".#") != "" {
				t.Errorf("%q: row %q", r, row)
			}
		}
	}
	for _, r := range "0123456789abcxyzABCXYZ.%()-" {
		if _, ok := glyphs[r]; !ok {
			t.Errorf("no glyph for %q", r)
		}
	}
}
