package data

import (
	"bytes"
	"fmt"
	"image"
)

// Limits of an image file read at any size (augment resized_crop): a header that declares
// more pixels is refused before anything is decoded, and a larger file before it is read.
const (
	maxPicturePixels = 1 << 26 // 64 megapixels, 8192 x 8192
	maxPictureBytes  = 1 << 28 // 256 MiB
)

// decodePicture decodes b, the contents of the PNG or JPEG file path, as c channels (1 or
// 3, as fillCHW converts) into p, reusing its buffer; an image of more than maxPixels
// pixels is refused from its header. choose is given the image's height
// and width as its header declares them and returns the window to keep (the whole image,
// or a random crop), which must lie inside the image; only that window is converted. The
// window becomes all of p. Every problem is an error that names path.
func decodePicture(path string, b []byte, c int, maxPixels int64, choose func(h, w int) Rect, p *picture) error {
	decode, config, err := codecOf(path, b)
	if err != nil {
		return err
	}
	cfg, err := config(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("%s: cannot decode: %v", path, err)
	}
	if cfg.Width < 1 || cfg.Height < 1 || int64(cfg.Width)*int64(cfg.Height) > maxPixels {
		return fmt.Errorf("%s: image is %dx%d (height x width); images of 1 to %d pixels are read", path, cfg.Height, cfg.Width, maxPixels)
	}
	img, err := decode(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("%s: cannot decode: %v", path, err)
	}
	r := img.Bounds()
	if r.Dy() != cfg.Height || r.Dx() != cfg.Width {
		return fmt.Errorf("%s: the header says %dx%d (height x width), the pixels are %dx%d", path, cfg.Height, cfg.Width, r.Dy(), r.Dx())
	}
	win := choose(r.Dy(), r.Dx())
	if win.Top < 0 || win.Left < 0 || win.H < 1 || win.W < 1 || win.Top+win.H > r.Dy() || win.Left+win.W > r.Dx() {
		return fmt.Errorf("%s: window %+v outside the image of %dx%d", path, win, r.Dy(), r.Dx())
	}
	if win.H != r.Dy() || win.W != r.Dx() {
		sub, ok := img.(interface {
			SubImage(image.Rectangle) image.Image
		})
		if !ok {
			return fmt.Errorf("%s: cannot crop a decoded %T", path, img)
		}
		at := r.Min.Add(image.Pt(win.Left, win.Top))
		img = sub.SubImage(image.Rectangle{Min: at, Max: at.Add(image.Pt(win.W, win.H))})
	}
	n := c * win.H * win.W
	if cap(p.pix) < n {
		p.pix = make([]uint8, n)
	}
	p.c, p.h, p.w, p.pix = c, win.H, win.W, p.pix[:n]
	fillCHW(img, c, p.pix)
	return nil
}
