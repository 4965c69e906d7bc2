package data

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"strings"
	"testing"
)

// FuzzPicture checks the decoder of images read at any size (augment resized_crop) on
// any bytes, for grey and colour networks: no panic; every refusal names the file; an
// accepted image is the size its header declares, and a window of it (a crop is converted
// after cropping) holds exactly the pixels of that window of the whole image.
func FuzzPicture(f *testing.F) {
	for _, b := range imageSeeds(f) {
		f.Add(b)
	}
	var buf bytes.Buffer
	cmyk := image.NewCMYK(image.Rect(0, 0, 7, 5))
	for i := range cmyk.Pix {
		cmyk.Pix[i] = uint8(i * 29)
	}
	if err := jpeg.Encode(&buf, cmyk, nil); err != nil { // written as YCbCr; decoding converts
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		const name = "fuzz.jpg"
		const maxPixels = 1 << 16 // keeps every accepted image small
		for _, c := range []int{1, 3} {
			var whole picture
			err := decodePicture(name, b, c, maxPixels, func(h, w int) Rect { return Rect{H: h, W: w} }, &whole)
			if err != nil {
				if !strings.Contains(err.Error(), name) {
					t.Fatalf("error %q does not name the file", err)
				}
				continue
			}
			cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
			if err != nil || cfg.Height != whole.h || cfg.Width != whole.w || len(whole.pix) != c*whole.h*whole.w || whole.c != c {
				t.Fatalf("decoded %dx%dx%d (%d bytes), header %dx%d (%v)", whole.c, whole.h, whole.w, len(whole.pix), cfg.Height, cfg.Width, err)
			}
			if cfg.ColorModel == color.GrayModel && c == 3 {
				hw := whole.h * whole.w
				if !bytes.Equal(whole.pix[:hw], whole.pix[hw:2*hw]) || !bytes.Equal(whole.pix[:hw], whole.pix[2*hw:]) {
					t.Fatal("a grey image's three channels differ")
				}
			}
			win := Rect{Top: whole.h / 3, Left: whole.w / 4, H: max(whole.h/2, 1), W: max(whole.w/2, 1)}
			var part picture
			if err := decodePicture(name, b, c, maxPixels, func(h, w int) Rect { return win }, &part); err != nil {
				t.Fatalf("decoded whole, not windowed %+v: %v", win, err)
			}
			for ch := range c {
				for y := range win.H {
					got := part.pix[(ch*win.H+y)*win.W:][:win.W]
					want := whole.pix[(ch*whole.h+win.Top+y)*whole.w+win.Left:][:win.W]
					if !bytes.Equal(got, want) {
						t.Fatalf("window %+v, channel %d, row %d: %v, the whole image has %v", win, ch, y, got, want)
					}
				}
			}
			if err := decodePicture(name, b, c, maxPixels, func(h, w int) Rect { return Rect{H: h + 1, W: w} }, &part); err == nil {
				t.Fatal("accepted a window outside the image")
			}
		}
	})
}
