package data

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLoadFolderPNG(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    int
	}{{"rgb", 3}, {"grey", 1}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			rng := rand.New(rand.NewPCG(7, 7))
			classes := []string{"ant", "bee", "cat"}
			train := writeFolderSplit(t, rng, dir, "train", classes, 4, tc.c, 6, 5, "png")
			test := writeFolderSplit(t, rng, dir, "test", classes, 2, tc.c, 6, 5, "png")
			// Files that are not images, and hidden ones, are skipped.
			writeFile(t, filepath.Join(dir, "train", "ant", "notes.txt"), []byte("x"))
			writeFile(t, filepath.Join(dir, "train", ".cache", "x.png"), []byte("x"))
			// A linked class folder counts: move cat's test images elsewhere.
			if err := os.Rename(filepath.Join(dir, "test", "cat"), filepath.Join(dir, "cat-test")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Join(dir, "cat-test"), filepath.Join(dir, "test", "cat")); err != nil {
				t.Fatal(err)
			}
			ds, err := Load(dir, [3]int{tc.c, 6, 5}, 3, 0)
			if err != nil {
				t.Fatal(err)
			}
			checkSplit(t, "train", train, ds.Train)
			checkSplit(t, "test", test, ds.Test)
			if diff := cmp.Diff(classes, ds.Classes); diff != "" {
				t.Errorf("classes (-want +got):\n%s", diff)
			}
			if ds.Format != FormatFolder {
				t.Errorf("format %q, want %q", ds.Format, FormatFolder)
			}
		})
	}
}

func TestLoadFolderJPEG(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(8, 8))
	classes := []string{"b", "a"} // written out of order: classes are sorted
	train := writeFolderSplit(t, rng, dir, "train", classes, 3, 3, 8, 8, "jpg")
	writeFolderSplit(t, rng, dir, "test", classes, 1, 3, 8, 8, "jpeg")
	ds, err := Load(dir, [3]int{3, 8, 8}, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a", "b"}, ds.Classes); diff != "" {
		t.Errorf("classes (-want +got):\n%s", diff)
	}
	// Folder "a" (label 0) was written second, with label 1 in train.Labels.
	want := []int32{0, 0, 0, 1, 1, 1}
	if diff := cmp.Diff(want, ds.Train.Labels); diff != "" {
		t.Errorf("train labels (-want +got):\n%s", diff)
	}
	if ds.Train.N != train.N || len(ds.Train.Pixels) != train.N*3*8*8 || ds.Test.N != 2 {
		t.Errorf("train N=%d (%d bytes), test N=%d; want %d, %d, 2", ds.Train.N, len(ds.Train.Pixels), ds.Test.N, train.N, train.N*3*8*8)
	}
}

func TestLoadFolderLimitTakesEveryClass(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(9, 9))
	classes := []string{"x", "y", "z"}
	train := writeFolderSplit(t, rng, dir, "train", classes, 4, 1, 3, 3, "png")
	writeFolderSplit(t, rng, dir, "test", classes, 1, 1, 3, 3, "png")
	ds, err := Load(dir, [3]int{1, 3, 3}, 3, 5)
	if err != nil {
		t.Fatal(err)
	}
	// Two of x, two of y, one of z: the first files of each, in order.
	keep := []int{0, 1, 4, 5, 8}
	want := &Set{C: 1, H: 3, W: 3}
	for _, i := range keep {
		want.N++
		want.Pixels = append(want.Pixels, train.Image(i)...)
		want.Labels = append(want.Labels, train.Labels[i])
	}
	checkSplit(t, "train", want, ds.Train)
}

// TestLoadFolderGreyNote checks that colour images read for a grey network are counted
// in a note, and that grey ones leave none.
func TestLoadFolderGreyNote(t *testing.T) {
	for _, tc := range []struct {
		name  string
		c     int
		notes []string
	}{{"colour", 3, []string{"10 colour images were turned into grey ones"}}, {"grey", 1, nil}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			rng := rand.New(rand.NewPCG(8, 8))
			writeFolderSplit(t, rng, dir, "train", []string{"a", "b"}, 3, tc.c, 4, 4, "png")
			writeFolderSplit(t, rng, dir, "test", []string{"a", "b"}, 2, tc.c, 4, 4, "png")
			ds, err := Load(dir, [3]int{1, 4, 4}, 2, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(ds.Notes) != len(tc.notes) {
				t.Fatalf("notes %q, want %d", ds.Notes, len(tc.notes))
			}
			for i, n := range tc.notes {
				if !strings.Contains(ds.Notes[i], n) {
					t.Errorf("note %q does not say %q", ds.Notes[i], n)
				}
			}
		})
	}
}

func TestLoadFolderErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		edit    func(t *testing.T, dir string)
		want    [3]int
		classes int
		errs    []string
	}{
		{"wrong image size", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "train", "cat", "big.png"), encodeImage(t, make([]uint8, 3*9*8), 3, 9, 8, "png"))
		}, [3]int{3, 6, 6}, 2, []string{filepath.Join("train", "cat", "big.png"), "9x8", "expects 6x6"}},
		{"corrupt image", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "test", "dog", "bad.jpg"), []byte{0xff, 0xd8, 0xff, 0, 1})
		}, [3]int{3, 6, 6}, 2, []string{filepath.Join("test", "dog", "bad.jpg"), "cannot decode"}},
		{"not an image", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "train", "dog", "x.png"), []byte("hello"))
		}, [3]int{3, 6, 6}, 2, []string{filepath.Join("train", "dog", "x.png"), "not a PNG or JPEG"}},
		{"test lacks a class", func(t *testing.T, dir string) {
			os.RemoveAll(filepath.Join(dir, "test", "dog"))
		}, [3]int{3, 6, 6}, 2, []string{"test", "[cat]", "missing [dog]"}},
		{"test has another class", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "test", "eel", "a.png"), encodeImage(t, make([]uint8, 3*6*6), 3, 6, 6, "png"))
		}, [3]int{3, 6, 6}, 2, []string{"test", "not in train [eel]"}},
		{"more class folders than classes", nil, [3]int{3, 6, 6}, 1, []string{"train", "2 class folders", "1 classes"}},
		{"fewer class folders than classes", func(t *testing.T, dir string) {
			os.RemoveAll(filepath.Join(dir, "train", "dog"))
			os.RemoveAll(filepath.Join(dir, "test", "dog"))
		}, [3]int{3, 6, 6}, 10, []string{"train", "1 class folders ([cat])", "10 classes", "one folder of images per class"}},
		{"empty class folder", func(t *testing.T, dir string) {
			os.MkdirAll(filepath.Join(dir, "train", "emu"), 0o755)
			os.MkdirAll(filepath.Join(dir, "test", "emu"), 0o755)
		}, [3]int{3, 6, 6}, 3, []string{filepath.Join("train", "emu"), "no .png"}},
		{"missing test", func(t *testing.T, dir string) {
			os.RemoveAll(filepath.Join(dir, "test"))
		}, [3]int{3, 6, 6}, 2, []string{"test", "no such file"}},
		{"two channels", nil, [3]int{2, 6, 6}, 2, []string{"2 channels"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			rng := rand.New(rand.NewPCG(10, 10))
			writeFolderSplit(t, rng, dir, "train", []string{"cat", "dog"}, 2, 3, 6, 6, "png")
			writeFolderSplit(t, rng, dir, "test", []string{"cat", "dog"}, 1, 3, 6, 6, "png")
			if tc.edit != nil {
				tc.edit(t, dir)
			}
			_, err := Load(dir, tc.want, tc.classes, 0)
			checkErr(t, err, tc.errs...)
		})
	}
}
