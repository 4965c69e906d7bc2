package data

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// FuzzFolder checks the image folder reader on a fixed tree of two classes, a and b,
// with one image each in train and test, where train/b/x.png holds the fuzzed bytes
// (PNG, JPEG or anything), read for a grey or a colour network of 4x5 images. A
// refusal names that file; an accepted tree has classes [a b], 2 training and 2 test
// images of exactly C*H*W bytes each with labels [0 1], the other images as they were
// written, the fuzzed one as decodeImageBytes decodes it, and a note about colour
// images turned grey exactly when the fuzzed image was in colour and the network grey.
func FuzzFolder(f *testing.F) {
	for _, b := range imageSeeds(f) {
		f.Add(b, false)
		f.Add(b, true)
	}
	const h, w = 4, 5
	rng := rand.New(rand.NewPCG(9, 9))
	dir := f.TempDir()
	others := map[string][]uint8{} // the fixed images, grey
	for _, p := range []string{"train/a/1.png", "test/a/1.png", "test/b/1.png"} {
		pix := make([]uint8, h*w)
		for i := range pix {
			pix[i] = uint8(rng.IntN(256))
		}
		others[p] = pix
		writeFile(f, filepath.Join(dir, p), encodeImage(f, pix, 1, h, w, "png"))
	}
	fuzzed := filepath.Join(dir, "train", "b", "x.png")
	if err := os.MkdirAll(filepath.Dir(fuzzed), 0o755); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte, grey bool) {
		if err := os.WriteFile(fuzzed, b, 0o644); err != nil {
			t.Fatal(err)
		}
		want := [3]int{3, h, w}
		if grey {
			want[0] = 1
		}
		ds, err := Load(dir, want, 2, 0)
		if err != nil {
			if !strings.Contains(err.Error(), fuzzed) {
				t.Fatalf("error %q does not name %s", err, fuzzed)
			}
			return
		}
		n := want[0] * h * w
		if ds.Format != FormatFolder || !slices.Equal(ds.Classes, []string{"a", "b"}) {
			t.Fatalf("format %q, classes %v", ds.Format, ds.Classes)
		}
		for _, s := range []*Set{ds.Train, ds.Test} {
			if s.N != 2 || s.C != want[0] || s.H != h || s.W != w || len(s.Pixels) != 2*n || !slices.Equal(s.Labels, []int32{0, 1}) {
				t.Fatalf("a split of %d images of %dx%dx%d, %d pixel bytes, labels %v", s.N, s.C, s.H, s.W, len(s.Pixels), s.Labels)
			}
		}
		for p, img := range map[string][]uint8{"train/a/1.png": ds.Train.Image(0), "test/a/1.png": ds.Test.Image(0), "test/b/1.png": ds.Test.Image(1)} {
			for c := range want[0] {
				if !bytes.Equal(img[c*h*w:(c+1)*h*w], others[p]) {
					t.Fatalf("%s channel %d changed", p, c)
				}
			}
		}
		dst := make([]uint8, n)
		greyed, err := decodeImageBytes(fuzzed, b, want, dst)
		if err != nil || !bytes.Equal(dst, ds.Train.Image(1)) {
			t.Fatalf("the fuzzed image differs from what decodeImageBytes gives (%v)", err)
		}
		if notes := len(ds.Notes) > 0; notes != greyed {
			t.Fatalf("notes %q for an image greyed %v", ds.Notes, greyed)
		}
	})
}
