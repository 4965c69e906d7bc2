package data

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
)

// DecodeImage reads one PNG or JPEG file into CHW bytes of the wanted shape
// [C,H,W]. A grey image is replicated to 3 channels when C is 3; a colour image
// becomes its luminance (Go's color.GrayModel of its 8-bit RGB) when C is 1.
// Transparent pixels are composited on black (Go's premultiplied RGB). An
// image of another height or width is an error naming the file and both
// sizes: nothing is resized.
func DecodeImage(path string, want [3]int) ([]uint8, error) {
	if err := checkImageShape(want); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	dst := make([]uint8, want[0]*want[1]*want[2])
	if _, err := decodeInto(path, want, dst); err != nil {
		return nil, err
	}
	return dst, nil
}

// checkImageShape checks that an image file can fill the shape.
func checkImageShape(want [3]int) error {
	if want[1] <= 0 || want[2] <= 0 {
		return fmt.Errorf("image size %dx%d must be positive", want[1], want[2])
	}
	if want[0] != 1 && want[0] != 3 {
		return fmt.Errorf("the network expects %d channels, but image files give 1 (grey) or 3 (RGB)", want[0])
	}
	return nil
}

// decodeInto decodes path into dst (len C*H*W); want must pass checkImageShape.
//
// It reads no more than an image of that size can take (maxImageBytes), and decodes
// the pixels only after the header has declared the expected size, so that a small file
// declaring a huge image costs nothing.
//
// greyed reports a colour image turned into its luminance for a 1-channel network.
func decodeInto(path string, want [3]int, dst []uint8) (greyed bool, err error) {
	b, err := readBounded(path, maxImageBytes(want), "an image file")
	if err != nil {
		return false, err
	}
	return decodeImageBytes(path, b, want, dst)
}

// decodeImageBytes decodes b, the contents of the image file path, into dst as
// decodeInto does.
func decodeImageBytes(path string, b []byte, want [3]int, dst []uint8) (greyed bool, err error) {
	decode, config, err := codecOf(path, b)
	if err != nil {
		return false, err
	}
	cfg, err := config(bytes.NewReader(b))
	if err != nil {
		return false, fmt.Errorf("%s: cannot decode: %v", path, err)
	}
	if cfg.Height != want[1] || cfg.Width != want[2] {
		return false, fmt.Errorf("%s: image is %dx%d (height x width), but the network expects %dx%d; images are not resized",
			path, cfg.Height, cfg.Width, want[1], want[2])
	}
	img, err := decode(bytes.NewReader(b))
	if err != nil {
		return false, fmt.Errorf("%s: cannot decode: %v", path, err)
	}
	r := img.Bounds()
	if r.Dy() != want[1] || r.Dx() != want[2] {
		return false, fmt.Errorf("%s: image is %dx%d (height x width), but the network expects %dx%d; images are not resized",
			path, r.Dy(), r.Dx(), want[1], want[2])
	}
	fillCHW(img, want[0], dst)
	return want[0] == 1 && cfg.ColorModel != color.GrayModel && cfg.ColorModel != color.Gray16Model, nil
}

// codecOf returns the decoder of b, the contents of the image file path, by its
// signature: PNG or JPEG, else an error naming the file.
func codecOf(path string, b []byte) (decode func(io.Reader) (image.Image, error), config func(io.Reader) (image.Config, error), err error) {
	switch {
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return png.Decode, png.DecodeConfig, nil
	case bytes.HasPrefix(b, []byte{0xff, 0xd8}):
		return jpeg.Decode, jpeg.DecodeConfig, nil
	}
	return nil, nil, fmt.Errorf("%s: not a PNG or JPEG file", path)
}

// maxImageBytes is the most bytes an image file of shape want may have: its pixels
// stored as 16-bit RGBA without compression, with room for headers and metadata.
func maxImageBytes(want [3]int) int64 {
	return 8*int64(want[1])*int64(want[2]) + 16*int64(want[1]) + 1<<20
}

// fillCHW writes img (already of the right size) as C (1 or 3) planes of bytes.
func fillCHW(img image.Image, c int, dst []uint8) {
	r := img.Bounds()
	w, h := r.Dx(), r.Dy()
	hw := w * h
	put := func(i int, red, green, blue uint8) {
		if c == 1 {
			dst[i] = luminance(red, green, blue)
			return
		}
		dst[i], dst[hw+i], dst[2*hw+i] = red, green, blue
	}
	switch m := img.(type) {
	case *image.Gray:
		for y := range h {
			row := m.Pix[m.PixOffset(r.Min.X, r.Min.Y+y):][:w]
			for x, g := range row {
				i := y*w + x
				dst[i] = g
				if c == 3 {
					dst[hw+i], dst[2*hw+i] = g, g
				}
			}
		}
	case *image.YCbCr:
		for y := range h {
			for x := range w {
				px, py := r.Min.X+x, r.Min.Y+y
				yi, ci := m.YOffset(px, py), m.COffset(px, py)
				red, green, blue := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				put(y*w+x, red, green, blue)
			}
		}
	case *image.RGBA:
		for y := range h {
			row := m.Pix[m.PixOffset(r.Min.X, r.Min.Y+y):][:4*w]
			for x := range w {
				put(y*w+x, row[4*x], row[4*x+1], row[4*x+2])
			}
		}
	case *image.NRGBA:
		for y := range h {
			row := m.Pix[m.PixOffset(r.Min.X, r.Min.Y+y):][:4*w]
			for x := range w {
				red, green, blue, _ := color.NRGBA{row[4*x], row[4*x+1], row[4*x+2], row[4*x+3]}.RGBA()
				put(y*w+x, uint8(red>>8), uint8(green>>8), uint8(blue>>8))
			}
		}
	default:
		for y := range h {
			for x := range w {
				red, green, blue, _ := img.At(r.Min.X+x, r.Min.Y+y).RGBA()
				put(y*w+x, uint8(red>>8), uint8(green>>8), uint8(blue>>8))
			}
		}
	}
}

// luminance is color.GrayModel's conversion of an 8-bit RGB colour
// (ITU-R BT.601 weights 0.299, 0.587, 0.114).
func luminance(r, g, b uint8) uint8 {
	r16, g16, b16 := uint32(r)*0x101, uint32(g)*0x101, uint32(b)*0x101
	return uint8((19595*r16 + 38470*g16 + 7471*b16 + 1<<15) >> 24)
}
