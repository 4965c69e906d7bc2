package data

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
)

// FolderSpec describes a synthetic image folder tree for WriteImageFolder.
type FolderSpec struct {
	Classes     int // class folders class00, class01, ... (at least 1, at most 100)
	Train, Test int // images per class in train/ and test/ (Test may be 0: no test/ folder)
	// Every image's height and width are drawn uniformly from [MinSize[0], MaxSize[0]]
	// and [MinSize[1], MaxSize[1]] (height, width; both at least 1 and at most 4096).
	MinSize, MaxSize [2]int
	// JPEGOnly writes every image as a colour JPEG. Otherwise the formats take turns:
	// colour JPEG, colour PNG, colour JPEG, greyscale PNG.
	JPEGOnly bool
	Seed     uint64 // of the sizes and the pixels
}

// WriteImageFolder writes the tree of spec under dir, dir/train/CLASS/NNN.{jpg,png} and
// dir/test/CLASS/NNN.{jpg,png}, for tests and examples that need an image folder of mixed
// sizes and formats, such as one an imagenet-family network (augment resized_crop) trains
// on end to end. The classes are easy to tell apart: every image of class c is a noisy
// field of the class's own colour, whose brightness also differs from class to class (so
// that greyscale images keep their class), with a lighter square somewhere in it. The
// same spec always gives the same files. It returns the number of files written.
func WriteImageFolder(dir string, spec FolderSpec) (int, error) {
	if spec.Classes < 1 || spec.Classes > 100 || spec.Train < 0 || spec.Test < 0 {
		return 0, fmt.Errorf("data.WriteImageFolder: %d classes, %d training and %d test images per class; want 1 to 100 classes and counts >= 0",
			spec.Classes, spec.Train, spec.Test)
	}
	for i := range 2 {
		if spec.MinSize[i] < 1 || spec.MaxSize[i] < spec.MinSize[i] || spec.MaxSize[i] > maxFolderSide {
			return 0, fmt.Errorf("data.WriteImageFolder: sizes from %v to %v (height, width); want 1 <= min <= max <= %d", spec.MinSize, spec.MaxSize, maxFolderSide)
		}
	}
	rng := rand.New(rand.NewPCG(spec.Seed, 0x464f4c44))
	n := 0
	for _, split := range []struct {
		name string
		per  int
	}{{"train", spec.Train}, {"test", spec.Test}} {
		if split.per == 0 {
			continue
		}
		for c := range spec.Classes {
			sub := filepath.Join(dir, split.name, fmt.Sprintf("class%02d", c))
			if err := os.MkdirAll(sub, 0o755); err != nil {
				return n, err
			}
			for k := range split.per {
				h := spec.MinSize[0] + rng.IntN(spec.MaxSize[0]-spec.MinSize[0]+1)
				w := spec.MinSize[1] + rng.IntN(spec.MaxSize[1]-spec.MinSize[1]+1)
				kind := k % 4
				if spec.JPEGOnly {
					kind = 0
				}
				img := classImage(rng, c, spec.Classes, h, w, kind == 3)
				var buf bytes.Buffer
				var err error
				ext := "jpg"
				if kind%2 == 1 {
					ext = "png"
					err = png.Encode(&buf, img)
				} else {
					err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90})
				}
				if err != nil {
					return n, err
				}
				if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("%03d.%s", k, ext)), buf.Bytes(), 0o644); err != nil {
					return n, err
				}
				n++
			}
		}
	}
	return n, nil
}

// maxFolderSide bounds the sides of WriteImageFolder's images.
const maxFolderSide = 4096

// classImage draws an image of class c of n: the class's colour with noise, and a lighter
// square of a random size and place; grey gives its luminance as a greyscale image.
func classImage(rng *rand.Rand, c, n, h, w int, grey bool) image.Image {
	// Hues around the colour wheel, brightness rising with the class.
	hue := float64(c) / float64(n)
	level := 60 + 140*float64(c)/float64(max(n-1, 1))
	base := [3]float64{}
	for i := range base {
		x := hue + float64(i)/3
		x -= float64(int(x))
		base[i] = level * (0.6 + 0.8*triangle(x))
	}
	side := 1 + rng.IntN(max(min(h, w)/2, 1))
	top, left := rng.IntN(h-side+1), rng.IntN(w-side+1)
	rgb := image.NewRGBA(image.Rect(0, 0, w, h))
	gray := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			lift := 0.0
			if y >= top && y < top+side && x >= left && x < left+side {
				lift = 50
			}
			var px [3]uint8
			for i := range px {
				v := base[i] + lift + float64(rng.IntN(41)-20)
				px[i] = uint8(min(max(v, 0), 255))
			}
			if grey {
				gray.SetGray(x, y, color.Gray{Y: luminance(px[0], px[1], px[2])})
			} else {
				rgb.SetRGBA(x, y, color.RGBA{px[0], px[1], px[2], 255})
			}
		}
	}
	if grey {
		return gray
	}
	return rgb
}

// triangle is a triangle wave of period 1 in [0, 1], 1 at 0.
func triangle(x float64) float64 {
	if x < 0.5 {
		return 1 - 2*x
	}
	return 2*x - 1
}
