package data

import (
	"bytes"
	"image"
	"image/color"
	_ "image/jpeg" // for image.Decode
	"image/png"
	"math/rand/v2"
	"strings"
	"testing"
)

// imageSeeds are valid PNG and JPEG files (grey, RGB, RGBA with transparency, paletted,
// 16-bit grey) and hostile ones: a PNG header declaring 100000x100000 pixels, PNGs cut
// inside their IDAT chunk or header, garbage behind a PNG signature or a JPEG SOI marker,
// a JPEG cut short, and 64 KiB of zeros.
func imageSeeds(t testing.TB) [][]byte {
	rng := rand.New(rand.NewPCG(8, 8))
	pix := func(n int) []uint8 {
		b := make([]uint8, n)
		for i := range b {
			b[i] = uint8(rng.IntN(256))
		}
		return b
	}
	enc := func(img image.Image) []byte {
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	rgba := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	copy(rgba.Pix, pix(len(rgba.Pix)))
	pal := image.NewPaletted(image.Rect(0, 0, 4, 4), color.Palette{color.Black, color.White, color.RGBA{200, 10, 30, 255}})
	for i := range pal.Pix {
		pal.Pix[i] = uint8(i % 3)
	}
	g16 := image.NewGray16(image.Rect(0, 0, 2, 3))
	for i := range g16.Pix {
		g16.Pix[i] = uint8(i * 37)
	}
	grey, rgb := encodeImage(t, pix(4*5), 1, 4, 5, "png"), encodeImage(t, pix(3*4*5), 3, 4, 5, "png")
	jpg := encodeImage(t, pix(3*8*8), 3, 8, 8, "jpeg")
	return [][]byte{
		grey, rgb, enc(rgba), enc(pal), enc(g16), jpg,
		encodeImage(t, pix(16*16), 1, 16, 16, "jpeg"),
		pngHeaderOnly(100000, 100000),
		pngHeaderOnly(4, 5),
		rgb[:len(rgb)-20], // inside IDAT
		rgb[:40],
		append([]byte("\x89PNG\r\n\x1a\n"), pix(200)...),
		append([]byte{0xff, 0xd8}, pix(200)...),
		jpg[:len(jpg)/2],
		make([]byte, 64<<10),
		{},
	}
}

// FuzzImage checks the PNG and JPEG decoder on any bytes, for the image size the file
// declares (when at most 64x64) and for 32x32, grey and colour: every refusal names the
// file; an accepted image fills exactly the C*H*W bytes it is given and not one more; a
// grey network's pixels are the luminance of the colour network's, and greyed says
// whether the file was in colour; a colour network gets the RGB that Go's image package
// gives (exactly for PNG, within 2 for JPEG's YCbCr).
func FuzzImage(f *testing.F) {
	for _, b := range imageSeeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		const name = "fuzz.png"
		sizes := [][2]int{{32, 32}}
		cfg, format, cfgErr := image.DecodeConfig(bytes.NewReader(b))
		if cfgErr == nil && cfg.Height >= 1 && cfg.Height <= 64 && cfg.Width >= 1 && cfg.Width <= 64 {
			sizes = append(sizes, [2]int{cfg.Height, cfg.Width})
		}
		const guard = 16
		for _, hw := range sizes {
			h, w := hw[0], hw[1]
			var out [2][]uint8 // grey, colour
			for k, c := range []int{1, 3} {
				n := c * h * w
				dst := bytes.Repeat([]byte{0xa5}, n+guard)
				greyed, err := decodeImageBytes(name, b, [3]int{c, h, w}, dst[:n:n])
				if err != nil {
					if !strings.Contains(err.Error(), name) {
						t.Fatalf("error %q does not name the file", err)
					}
					if k == 1 && out[0] != nil {
						t.Fatalf("decoded for 1 channel, refused for 3: %v", err)
					}
					continue
				}
				if !bytes.Equal(dst[n:], bytes.Repeat([]byte{0xa5}, guard)) {
					t.Fatalf("wrote past the %d bytes of a %dx%dx%d image", n, c, h, w)
				}
				if cfgErr != nil || cfg.Height != h || cfg.Width != w {
					t.Fatalf("accepted as %dx%d a file whose header says %dx%d (%v)", h, w, cfg.Height, cfg.Width, cfgErr)
				}
				if c == 1 {
					colour := cfg.ColorModel != color.GrayModel && cfg.ColorModel != color.Gray16Model
					if greyed != colour {
						t.Fatalf("greyed %v for a %v image", greyed, cfg.ColorModel)
					}
				} else if greyed {
					t.Fatalf("greyed for a 3-channel network")
				}
				out[k] = dst[:n]
			}
			grey, rgb := out[0], out[1]
			if rgb == nil {
				if grey != nil {
					t.Fatalf("decoded for 1 channel only")
				}
				continue
			}
			if grey == nil {
				t.Fatalf("decoded for 3 channels only")
			}
			img, _, err := image.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("accepted a file Go's image package cannot decode: %v", err)
			}
			tol := 0
			if format == "jpeg" {
				tol = 2
			}
			hw := h * w
			for i := range hw {
				if l := luminance(rgb[i], rgb[hw+i], rgb[2*hw+i]); grey[i] != l {
					t.Fatalf("pixel %d: grey %d, the colour pixel's luminance is %d", i, grey[i], l)
				}
				r, g, bl, _ := img.At(img.Bounds().Min.X+i%w, img.Bounds().Min.Y+i/w).RGBA()
				for p, v := range []uint32{r, g, bl} {
					if d := int(rgb[p*hw+i]) - int(v>>8); d < -tol || d > tol {
						t.Fatalf("pixel %d channel %d: %d, Go's image package gives %d", i, p, rgb[p*hw+i], v>>8)
					}
				}
			}
		}
	})
}
