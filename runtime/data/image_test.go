package data

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDecodeImage(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	const h, w = 4, 5
	grey := make([]uint8, h*w)
	rgb := make([]uint8, 3*h*w)
	for i := range grey {
		grey[i] = uint8(rng.IntN(256))
	}
	for i := range rgb {
		rgb[i] = uint8(rng.IntN(256))
	}
	lum := make([]uint8, h*w)
	for i := range lum {
		g := color.GrayModel.Convert(color.NRGBA{rgb[i], rgb[h*w+i], rgb[2*h*w+i], 255}).(color.Gray)
		lum[i] = g.Y
	}
	dir := t.TempDir()
	greyPath, rgbPath := filepath.Join(dir, "g.png"), filepath.Join(dir, "c.png")
	writeFile(t, greyPath, encodeImage(t, grey, 1, h, w, "png"))
	writeFile(t, rgbPath, encodeImage(t, rgb, 3, h, w, "png"))
	// Paletted and RGBA PNGs take other decoding paths.
	pal := image.NewPaletted(image.Rect(0, 0, w, h), color.Palette{color.RGBA{10, 20, 30, 255}, color.RGBA{200, 100, 50, 255}})
	rgba := image.NewRGBA(image.Rect(0, 0, w, h))
	wantPal, wantRGBA := make([]uint8, 3*h*w), make([]uint8, 3*h*w)
	for i := range h * w {
		k := uint8(i % 2)
		pal.Pix[i] = k
		c := pal.Palette[k].(color.RGBA)
		wantPal[i], wantPal[h*w+i], wantPal[2*h*w+i] = c.R, c.G, c.B
		rgba.Pix[4*i], rgba.Pix[4*i+1], rgba.Pix[4*i+2], rgba.Pix[4*i+3] = rgb[i], rgb[h*w+i], rgb[2*h*w+i], 255
		wantRGBA[i], wantRGBA[h*w+i], wantRGBA[2*h*w+i] = rgb[i], rgb[h*w+i], rgb[2*h*w+i]
	}
	palPath, rgbaPath := filepath.Join(dir, "p.png"), filepath.Join(dir, "r.png")
	for p, img := range map[string]image.Image{palPath: pal, rgbaPath: rgba} {
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			t.Fatal(err)
		}
		writeFile(t, p, buf.Bytes())
	}
	for _, tc := range []struct {
		name string
		path string
		c    int
		want []uint8
	}{
		{"grey as grey", greyPath, 1, grey},
		{"grey to 3 channels", greyPath, 3, append(append(append([]uint8(nil), grey...), grey...), grey...)},
		{"colour as colour", rgbPath, 3, rgb},
		{"colour to luminance", rgbPath, 1, lum},
		{"paletted", palPath, 3, wantPal},
		{"rgba", rgbaPath, 3, wantRGBA},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeImage(tc.path, [3]int{tc.c, h, w})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("pixels (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeJPEGIsClose(t *testing.T) {
	// A smooth colour image survives JPEG at quality 95 within a few levels.
	const h, w = 16, 16
	pix := make([]uint8, 3*h*w)
	for c := range 3 {
		for y := range h {
			for x := range w {
				pix[c*h*w+y*w+x] = uint8(60 + 4*x + 2*y + 20*c)
			}
		}
	}
	path := filepath.Join(t.TempDir(), "s.jpg")
	writeFile(t, path, encodeImage(t, pix, 3, h, w, "jpeg"))
	got, err := DecodeImage(path, [3]int{3, h, w})
	if err != nil {
		t.Fatal(err)
	}
	for i := range pix {
		if d := int(got[i]) - int(pix[i]); d < -8 || d > 8 {
			t.Fatalf("pixel %d: %d, want about %d", i, got[i], pix[i])
		}
	}
}

func TestDecodeImageErrors(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "img.png")
	writeFile(t, p, encodeImage(t, make([]uint8, 3*4*5), 3, 4, 5, "png"))
	// A PNG whose header declares 100000x100000 pixels, with no pixels behind it: refused
	// from its header, before anything is allocated for its pixels.
	huge := filepath.Join(dir, "huge.png")
	writeFile(t, huge, pngHeaderOnly(100000, 100000))
	// A file larger than any 4x5 image may be.
	big := filepath.Join(dir, "big.png")
	writeFile(t, big, append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, maxImageBytes([3]int{3, 4, 5}))...))
	for _, tc := range []struct {
		name string
		path string
		want [3]int
		errs []string
	}{
		{"wrong size", p, [3]int{3, 5, 4}, []string{"img.png", "4x5", "expects 5x4"}},
		{"two channels", p, [3]int{2, 4, 5}, []string{"img.png", "2 channels"}},
		{"missing", filepath.Join(dir, "none.png"), [3]int{3, 4, 5}, []string{"none.png"}},
		{"huge declared size", huge, [3]int{3, 4, 5}, []string{"huge.png", "100000x100000", "expects 4x5"}},
		{"too large a file", big, [3]int{3, 4, 5}, []string{"big.png", "bytes is more than an image file"}},
		{"endless device", "/dev/urandom", [3]int{3, 4, 5}, []string{"/dev/urandom", "not a regular file"}},
		{"a folder", dir, [3]int{3, 4, 5}, []string{"is a directory"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeImage(tc.path, tc.want)
			checkErr(t, err, tc.errs...)
		})
	}
}

// pngHeaderOnly is a PNG signature and an IHDR chunk (8-bit RGB) of the given size.
func pngHeaderOnly(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32([]byte("IHDR"), w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 2, 0, 0, 0)
	b := []byte("\x89PNG\r\n\x1a\n")
	b = binary.BigEndian.AppendUint32(b, uint32(len(ihdr)-4))
	b = append(b, ihdr...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(ihdr))
}

func BenchmarkDecodeJPEG(b *testing.B) {
	const h, w = 32, 32
	pix := make([]uint8, 3*h*w)
	rng := rand.New(rand.NewPCG(1, 6))
	for i := range pix {
		pix[i] = uint8(rng.IntN(256))
	}
	path := filepath.Join(b.TempDir(), "x.jpg")
	writeFile(b, path, encodeImage(b, pix, 3, h, w, "jpeg"))
	dst := make([]uint8, len(pix))
	for b.Loop() {
		if _, err := decodeInto(path, [3]int{3, h, w}, dst); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(pix))*float64(b.N)/b.Elapsed().Seconds()/1e6, "MB/s")
}
