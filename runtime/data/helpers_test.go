package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// randomSet returns n random images of c x h x w with labels in [0, classes).
func randomSet(rng *rand.Rand, n, c, h, w, classes int) *Set {
	s := &Set{N: n, C: c, H: h, W: w, Pixels: make([]uint8, n*c*h*w), Labels: make([]int32, n)}
	for i := range s.Pixels {
		s.Pixels[i] = uint8(rng.IntN(256))
	}
	for i := range s.Labels {
		s.Labels[i] = int32(rng.IntN(classes))
	}
	return s
}

// concat joins sets of one shape.
func concat(sets ...*Set) *Set {
	out := &Set{C: sets[0].C, H: sets[0].H, W: sets[0].W}
	for _, s := range sets {
		out.N += s.N
		out.Pixels = append(out.Pixels, s.Pixels...)
		out.Labels = append(out.Labels, s.Labels...)
	}
	return out
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// cifarBytes encodes s as CIFAR records; with coarse, a coarse label byte
// (label/5) precedes the fine one.
func cifarBytes(s *Set, coarse bool) []byte {
	var b []byte
	for i := range s.N {
		if coarse {
			b = append(b, byte(s.Labels[i]/5))
		}
		b = append(b, byte(s.Labels[i]))
		b = append(b, s.Image(i)...)
	}
	return b
}

// writeCIFAR10 writes the five training batches (per images each) and the
// test batch to dir and returns the expected splits.
func writeCIFAR10(t *testing.T, rng *rand.Rand, dir string, per int) (train, test *Set) {
	var parts []*Set
	for k := 1; k <= 5; k++ {
		s := randomSet(rng, per, 3, 32, 32, 10)
		parts = append(parts, s)
		writeFile(t, filepath.Join(dir, "data_batch_"+string(rune('0'+k))+".bin"), cifarBytes(s, false))
	}
	test = randomSet(rng, per, 3, 32, 32, 10)
	writeFile(t, filepath.Join(dir, "test_batch.bin"), cifarBytes(test, false))
	return concat(parts...), test
}

// writeCIFAR100 writes train.bin and test.bin.
func writeCIFAR100(t *testing.T, rng *rand.Rand, dir string, n int) (train, test *Set) {
	train, test = randomSet(rng, n, 3, 32, 32, 100), randomSet(rng, n, 3, 32, 32, 100)
	writeFile(t, filepath.Join(dir, "train.bin"), cifarBytes(train, true))
	writeFile(t, filepath.Join(dir, "test.bin"), cifarBytes(test, true))
	return train, test
}

// idxImages and idxLabels encode IDX files.
func idxImages(s *Set) []byte {
	b := binary.BigEndian.AppendUint32(nil, idxImagesMagic)
	for _, v := range []int{s.N, s.H, s.W} {
		b = binary.BigEndian.AppendUint32(b, uint32(v))
	}
	return append(b, s.Pixels...)
}

func idxLabels(s *Set) []byte {
	b := binary.BigEndian.AppendUint32(nil, idxLabelsMagic)
	b = binary.BigEndian.AppendUint32(b, uint32(s.N))
	for _, l := range s.Labels {
		b = append(b, byte(l))
	}
	return b
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// writeIDX writes the four IDX files (gzipped with gz) of 1 x h x w images.
func writeIDX(t *testing.T, rng *rand.Rand, dir string, nTrain, nTest, h, w int, gz bool) (train, test *Set) {
	train, test = randomSet(rng, nTrain, 1, h, w, 10), randomSet(rng, nTest, 1, h, w, 10)
	files := map[string][]byte{
		idxTrainImages: idxImages(train), idxTrainLabels: idxLabels(train),
		idxTestImages: idxImages(test), idxTestLabels: idxLabels(test),
	}
	for name, b := range files {
		if gz {
			name, b = name+".gz", gzipBytes(t, b)
		}
		writeFile(t, filepath.Join(dir, name), b)
	}
	return train, test
}

// encodeImage encodes c x h x w bytes (c 1 or 3) as PNG or JPEG.
func encodeImage(t testing.TB, pix []uint8, c, h, w int, format string) []byte {
	t.Helper()
	var img image.Image
	if c == 1 {
		g := image.NewGray(image.Rect(0, 0, w, h))
		copy(g.Pix, pix)
		img = g
	} else {
		m := image.NewNRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				i := y*w + x
				m.SetNRGBA(x, y, color.NRGBA{pix[i], pix[h*w+i], pix[2*h*w+i], 255})
			}
		}
		img = m
	}
	var buf bytes.Buffer
	var err error
	if format == "png" {
		err = png.Encode(&buf, img)
	} else {
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95})
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// writeFolderSplit writes per images per class as dir/split/CLASS/NNN.ext
// and returns them in Load's order (class, then file name).
func writeFolderSplit(t *testing.T, rng *rand.Rand, dir, split string, classes []string, per, c, h, w int, ext string) *Set {
	s := &Set{C: c, H: h, W: w}
	format := "png"
	if ext != "png" {
		format = "jpeg"
	}
	for ci, name := range classes {
		for k := range per {
			pix := make([]uint8, c*h*w)
			for i := range pix {
				pix[i] = uint8(rng.IntN(256))
			}
			file := filepath.Join(dir, split, name, string(rune('a'+k))+"."+ext)
			writeFile(t, file, encodeImage(t, pix, c, h, w, format))
			s.N++
			s.Pixels = append(s.Pixels, pix...)
			s.Labels = append(s.Labels, int32(ci))
		}
	}
	return s
}
