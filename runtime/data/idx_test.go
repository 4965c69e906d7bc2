package data

import (
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

func TestLoadIDX(t *testing.T) {
	for _, tc := range []struct {
		name  string
		gz    bool
		limit int
	}{
		{"plain", false, 0},
		{"gzipped", true, 0},
		{"gzipped with limit", true, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			train, test := writeIDX(t, rand.New(rand.NewPCG(4, 4)), dir, 13, 6, 28, 28, tc.gz)
			ds, err := Load(dir, [3]int{1, 28, 28}, 10, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			train.truncate(tc.limit)
			checkSplit(t, "train", train, ds.Train)
			checkSplit(t, "test", test, ds.Test)
			if ds.Format != FormatIDX || ds.Classes != nil {
				t.Errorf("format %q classes %v, want %q and none", ds.Format, ds.Classes, FormatIDX)
			}
		})
	}
}

func TestLoadIDXMixedAndDotted(t *testing.T) {
	// Some files gzipped, some not, and the "train-images.idx3-ubyte" spelling.
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(5, 5))
	train, test := randomSet(rng, 9, 1, 5, 7, 10), randomSet(rng, 4, 1, 5, 7, 10)
	writeFile(t, filepath.Join(dir, "train-images.idx3-ubyte"), idxImages(train))
	writeFile(t, filepath.Join(dir, idxTrainLabels+".gz"), gzipBytes(t, idxLabels(train)))
	writeFile(t, filepath.Join(dir, idxTestImages+".gz"), gzipBytes(t, idxImages(test)))
	writeFile(t, filepath.Join(dir, idxTestLabels), idxLabels(test))
	ds, err := Load(dir, [3]int{1, 5, 7}, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkSplit(t, "train", train, ds.Train)
	checkSplit(t, "test", test, ds.Test)
}

func TestLoadIDXErrors(t *testing.T) {
	rewrite := func(name string, f func(b []byte) []byte) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			p := filepath.Join(dir, name)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, p, f(b))
		}
	}
	for _, tc := range []struct {
		name    string
		edit    func(t *testing.T, dir string)
		want    [3]int
		classes int
		errs    []string
	}{
		{"bad image magic", rewrite(idxTrainImages, func(b []byte) []byte {
			binary.BigEndian.PutUint32(b, 0x00000801)
			return b
		}), [3]int{1, 28, 28}, 10, []string{idxTrainImages, "0x00000801", "expected 0x00000803"}},
		{"bad label magic", rewrite(idxTestLabels, func(b []byte) []byte {
			binary.BigEndian.PutUint32(b, 0x12345678)
			return b
		}), [3]int{1, 28, 28}, 10, []string{idxTestLabels, "0x12345678", "expected 0x00000801"}},
		{"truncated images", rewrite(idxTrainImages, func(b []byte) []byte { return b[:len(b)-3] }),
			[3]int{1, 28, 28}, 10, []string{idxTrainImages, "truncated"}},
		{"short header", rewrite(idxTestImages, func(b []byte) []byte { return b[:10] }),
			[3]int{1, 28, 28}, 10, []string{idxTestImages, "too short"}},
		{"label count differs", rewrite(idxTrainLabels, func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[4:], 12)
			return b[:8+12]
		}), [3]int{1, 28, 28}, 10, []string{idxTrainLabels, "12 labels", "13 images"}},
		{"wrong image size", nil, [3]int{1, 32, 32}, 10, []string{idxTrainImages, "1x28x28", "expects 1x32x32"}},
		{"wrong channels", nil, [3]int{3, 28, 28}, 10, []string{idxTrainImages, "expects 3x28x28"}},
		{"more label values than classes", func(t *testing.T, dir string) {
			mod4 := func(b []byte) []byte {
				for i := 8; i < len(b); i++ {
					b[i] %= 4
				}
				return b
			}
			rewrite(idxTrainLabels, mod4)(t, dir)
			rewrite(idxTestLabels, func(b []byte) []byte {
				b = mod4(b)
				b[8+2] = 9
				return b
			})(t, dir)
		}, [3]int{1, 28, 28}, 4, []string{idxTestLabels, "example 2", "label 9", "4 classes"}},
		{"missing labels file", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, idxTestLabels))
		}, [3]int{1, 28, 28}, 10, []string{idxTestLabels, "missing"}},
		{"corrupt gzip", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, idxTrainImages))
			writeFile(t, filepath.Join(dir, idxTrainImages+".gz"), []byte{0x1f, 0x8b, 8, 0, 1, 2, 3})
		}, [3]int{1, 28, 28}, 10, []string{idxTrainImages + ".gz", "gzip"}},
		{"gzip bomb", func(t *testing.T, dir string) {
			// 13 images of 28x28 declared, 64 MB of zeros behind them: the reader stops
			// one byte past what the header declares instead of inflating it all.
			os.Remove(filepath.Join(dir, idxTrainImages))
			b := make([]byte, 64<<20)
			copy(b, idxImages(&Set{N: 13, H: 28, W: 28}))
			writeFile(t, filepath.Join(dir, idxTrainImages+".gz"), gzipBytes(t, b))
		}, [3]int{1, 28, 28}, 10, []string{idxTrainImages + ".gz", "10208 bytes in all", "holds more", "truncated or corrupt"}},
		{"gzip bomb of images of another size", func(t *testing.T, dir string) {
			// 8000 images of 1000x1000 declared (8 GB), 64 MB of zeros behind them: refused
			// on the header, before any pixel is inflated.
			os.Remove(filepath.Join(dir, idxTrainImages))
			b := make([]byte, 64<<20)
			copy(b, idxImages(&Set{N: 8000, H: 1000, W: 1000}))
			writeFile(t, filepath.Join(dir, idxTrainImages+".gz"), gzipBytes(t, b))
		}, [3]int{1, 28, 28}, 10, []string{idxTrainImages + ".gz", "1x1000x1000", "expects 1x28x28"}},
		{"gzip bomb of labels", func(t *testing.T, dir string) {
			// 4 billion labels declared for 13 images: refused on the header.
			os.Remove(filepath.Join(dir, idxTrainLabels))
			b := make([]byte, 64<<20)
			copy(b, idxLabels(&Set{N: 4_000_000_000}))
			writeFile(t, filepath.Join(dir, idxTrainLabels+".gz"), gzipBytes(t, b))
		}, [3]int{1, 28, 28}, 10, []string{idxTrainLabels + ".gz", "4000000000 labels", "13 images"}},
		{"header declares terabytes", rewrite(idxTrainImages, func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[4:], 0xffffffff)
			binary.BigEndian.PutUint32(b[8:], 0xffffffff)
			return b
		}), [3]int{1, 28, 28}, 10, []string{idxTrainImages, "declares", "more than an IDX file may have"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeIDX(t, rand.New(rand.NewPCG(6, 6)), dir, 13, 6, 28, 28, false)
			if tc.edit != nil {
				tc.edit(t, dir)
			}
			_, err := Load(dir, tc.want, tc.classes, 0)
			checkErr(t, err, tc.errs...)
		})
	}
}
