package data

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var digitNames = strings.Fields("0 1 2 3 4 5 6 7 8 9")

func TestLoadSVHN(t *testing.T) {
	for _, tc := range []struct {
		name  string
		train pyFile
		test  pyFile
		extra *pyFile
		limit int
	}{
		{"y uint8, plain", pyFile{N: 5, Seed: 1}, pyFile{N: 4, Seed: 2}, nil, 0},
		{"y double, compressed", pyFile{N: 5, Seed: 3, YType: "float64", Compress: true},
			pyFile{N: 3, Seed: 4, YType: "float64", Compress: true}, nil, 0},
		{"with extra", pyFile{N: 5, Seed: 5, YType: "float64"}, pyFile{N: 2, Seed: 6},
			&pyFile{N: 4, Seed: 7, YType: "float64", Compress: true}, 0},
		{"limit inside extra", pyFile{N: 5, Seed: 8}, pyFile{N: 2, Seed: 9},
			&pyFile{N: 4, Seed: 10}, 7},
		{"limit inside train", pyFile{N: 5, Seed: 11, Compress: true}, pyFile{N: 2, Seed: 12},
			&pyFile{N: 4, Seed: 13}, 3},
		{"limit above the size", pyFile{N: 5, Seed: 14}, pyFile{N: 2, Seed: 15},
			&pyFile{N: 1, Seed: 16}, 100},
		{"other types, one image, row labels", pyFile{N: 1, Seed: 17, YType: "float32", XType: "float64"},
			pyFile{N: 3, Seed: 18, YType: "int64", XType: "int16", Row: true, Compress: true}, nil, 0},
		{"more integer types, other variables", pyFile{N: 2, Seed: 19, YType: "uint64", Extra: "meta"},
			pyFile{N: 2, Seed: 20, YType: "int8", XType: "uint16", Extra: "aaaaaaaaaa", Compress: true}, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.train.Name, tc.test.Name = "train_32x32", "test_32x32"
			files := []pyFile{tc.train, tc.test}
			if tc.extra != nil {
				tc.extra.Name = "extra_32x32"
				files = append(files, *tc.extra)
			}
			sets := writePy(t, dir, files...)
			train := sets["train_32x32"]
			if tc.extra != nil {
				train = concat(train, sets["extra_32x32"])
			}
			train.truncate(tc.limit)
			ds, err := Load(dir, [3]int{3, 32, 32}, 10, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			checkSplit(t, "train", train, ds.Train)
			checkSplit(t, "test", sets["test_32x32"], ds.Test)
			if ds.Format != FormatSVHN {
				t.Errorf("format %q, want %q", ds.Format, FormatSVHN)
			}
			if diff := cmp.Diff(digitNames, ds.Classes); diff != "" {
				t.Errorf("classes (-want +got):\n%s", diff)
			}
			if ds.Train.Labels[0] != 0 && tc.limit == 0 {
				t.Errorf("label 10 of the file became class %d, want 0", ds.Train.Labels[0])
			}
		})
	}
}

// TestSVHNPixelOrder checks one pixel's place by hand: MATLAB's X(h,w,c,n)
// (1-based) of a 32x32x3xN array is at (h-1) + 32(w-1) + 1024(c-1) + 3072(n-1).
func TestSVHNPixelOrder(t *testing.T) {
	s := &Set{N: 2, C: 3, H: 32, W: 32, Pixels: make([]uint8, 2*3072), Labels: []int32{1, 0}}
	b := goSVHNFile(binary.LittleEndian, s, miDOUBLE, false)
	x := b[128:]
	// Find X's data: the first 6144-byte run after its tag.
	i := strings.Index(string(x), string(binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, miUINT8), 6144)))
	if i < 0 {
		t.Fatal("no X data in the file")
	}
	data := x[i+8 : i+8+6144]
	data[4+32*9+1024*2+3072*1] = 200 // X(5,10,3,2): row 4, column 9, blue, image 1 (0-based)
	mf, err := readMat("o.mat", bytes.NewReader(b), int64(len(b)), "X", "y")
	if err != nil {
		t.Fatal(err)
	}
	got, err := svhnSet(mf, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range got.Pixels {
		want := uint8(0)
		if k == 1*3072+2*1024+4*32+9 {
			want = 200
		}
		if v != want {
			t.Fatalf("pixel %d is %d, want %d", k, v, want)
		}
	}
}

func TestLoadSVHNErrors(t *testing.T) {
	needScipy(t)
	base := t.TempDir()
	writePy(t, base,
		pyFile{Name: "train_32x32", N: 5, Seed: 1},
		pyFile{Name: "test_32x32", N: 5, Seed: 2, YType: "float64", Compress: true},
		pyFile{Name: "extra_32x32", N: 2, Seed: 3},
		pyFile{Name: "grid28", N: 5, Seed: 4, HW: 28},
		pyFile{Name: "label0", N: 5, Seed: 5, BadLabel: new(int)},
		pyFile{Name: "label11", N: 5, Seed: 6, YType: "float64", BadLabel: ptr(11), Compress: true},
		pyFile{Name: "noy", N: 5, Seed: 7, NoY: true},
		pyFile{Name: "shorty", N: 5, Seed: 8, YLen: ptr(4)},
	)
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(base, name+".mat"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// setup copies train, test and extra, then edits the copy.
	setup := func(t *testing.T) string {
		dir := t.TempDir()
		for _, n := range []string{"train_32x32", "test_32x32", "extra_32x32"} {
			writeFile(t, filepath.Join(dir, n+".mat"), read(n))
		}
		return dir
	}
	type tcase struct {
		name    string
		edit    func(t *testing.T, dir string)
		want    [3]int
		classes int
		errs    []string
	}
	put := func(file, from string) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, file), read(from)) }
	}
	cases := []tcase{
		{"grey network", nil, [3]int{1, 32, 32}, 10, []string{"train_32x32.mat", "3x32x32", "1x32x32"}},
		{"fewer classes", nil, [3]int{3, 32, 32}, 5, []string{"train_32x32.mat", "5 classes", "labels 0..4"}},
		{"missing test", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "test_32x32.mat")) },
			[3]int{3, 32, 32}, 10, []string{"test_32x32.mat", "missing", "train_32x32.mat and test_32x32.mat"}},
		{"missing train", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "train_32x32.mat")) },
			[3]int{3, 32, 32}, 10, []string{"train_32x32.mat", "missing"}},
		{"train is a directory", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "train_32x32.mat")
			os.Remove(p)
			os.Mkdir(p, 0o755)
		}, [3]int{3, 32, 32}, 10, []string{"train_32x32.mat", "is a directory"}},
		{"X of 28x28", put("train_32x32.mat", "grid28"), [3]int{3, 32, 32}, 10,
			[]string{"train_32x32.mat", "28x28x3x5", "expected 32x32x3xN"}},
		{"label 0", put("extra_32x32.mat", "label0"), [3]int{3, 32, 32}, 10,
			[]string{"extra_32x32.mat", "example 4", "label 0", "1..10"}},
		{"label 11", put("test_32x32.mat", "label11"), [3]int{3, 32, 32}, 10,
			[]string{"test_32x32.mat", "example 4", "label 11", "1..10"}},
		{"no y", put("train_32x32.mat", "noy"), [3]int{3, 32, 32}, 10,
			[]string{"train_32x32.mat", "no variable y", "X (32x32x3x5 uint8)"}},
		{"y too short", put("train_32x32.mat", "shorty"), [3]int{3, 32, 32}, 10,
			[]string{"train_32x32.mat", "y is 4x1", "expected 5x1"}},
		{"v7.3", func(t *testing.T, dir string) {
			h := matHeaderBytes(binary.LittleEndian, "MATLAB 7.3 MAT-file, Platform: GLNXA64, HDF5 schema 1.00 .")
			writeFile(t, filepath.Join(dir, "test_32x32.mat"), append(h, hdf5Signature...))
		}, [3]int{3, 32, 32}, 10, []string{"test_32x32.mat", "v7.3", "HDF5", "-v7"}},
		{"flipped endian byte", func(t *testing.T, dir string) {
			b := read("train_32x32")
			b[127] ^= 1
			writeFile(t, filepath.Join(dir, "train_32x32.mat"), b)
		}, [3]int{3, 32, 32}, 10, []string{"train_32x32.mat", "endian indicator"}},
	}
	for _, name := range []string{"train_32x32", "test_32x32"} {
		n := len(read(name))
		for _, cut := range []int{0, 60, 127, 128, 131, 136, 150, 200, n / 2, n - 20, n - 1} {
			cases = append(cases, tcase{name: name + " cut at " + itoa(cut), edit: func(t *testing.T, dir string) {
				writeFile(t, filepath.Join(dir, name+".mat"), read(name)[:cut])
			}, want: [3]int{3, 32, 32}, classes: 10, errs: []string{name + ".mat"}})
		}
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := setup(t)
			if tc.edit != nil {
				tc.edit(t, dir)
			}
			_, err := Load(dir, tc.want, tc.classes, 0)
			t.Log(err)
			checkErr(t, err, tc.errs...)
		})
	}
}

// TestLoadSVHNDetect: a directory named like an SVHN file is still taken
// for SVHN, and the layout text names the files.
func TestLoadSVHNDetect(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "test_32x32.mat"), 0o755)
	_, err := Load(dir, [3]int{3, 32, 32}, 10, 0)
	checkErr(t, err, "train_32x32.mat", "missing")
	_, err = Load(t.TempDir(), [3]int{3, 32, 32}, 10, 0)
	checkErr(t, err, "train_32x32.mat, test_32x32.mat")
}

func ptr(v int) *int { return &v }

func itoa(v int) string { return strconv.Itoa(v) }
