package data

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
)

// The files of an SVHN directory (the "cropped digits" format 2 of
// http://ufldl.stanford.edu/housenumbers/): MATLAB v5 MAT-files, each with X,
// 32x32x3xN uint8 pixels (height, width, channel, image; column-major), and
// y, Nx1 labels 1..10 where 10 stands for the digit 0.
const (
	svhnTrain = "train_32x32.mat"
	svhnTest  = "test_32x32.mat"
	svhnExtra = "extra_32x32.mat" // optional; joins the training split
)

const svhnLayout = "an SVHN directory holds " + svhnTrain + " and " + svhnTest +
	" (and optionally " + svhnExtra + "), MATLAB v5 files with X (32x32x3xN uint8) and y (Nx1 labels 1..10)"

// hasSVHN reports whether dir holds (something named like) an SVHN file.
func hasSVHN(dir string) bool {
	for _, f := range []string{svhnTrain, svhnTest} {
		if _, err := os.Lstat(filepath.Join(dir, f)); err == nil {
			return true
		}
	}
	return false
}

// loadSVHN reads an SVHN directory: train_32x32.mat then extra_32x32.mat (if
// present) as the training split, test_32x32.mat as the test split. Labels
// are the digits: label 10 of the files becomes class 0.
func loadSVHN(dir string, want [3]int, classes, limit int) (*Dataset, error) {
	trainPath, testPath, extraPath := filepath.Join(dir, svhnTrain), filepath.Join(dir, svhnTest), filepath.Join(dir, svhnExtra)
	if want != [3]int{3, 32, 32} {
		return nil, fmt.Errorf("%s: SVHN images are 3x32x32 (colour), but the network expects %s", trainPath, shapeString(want))
	}
	need := []string{trainPath, testPath}
	if limit == testOnly {
		need = need[1:]
	}
	for _, p := range need {
		if _, err := os.Stat(p); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("%s: missing; %s", p, svhnLayout)
			}
			return nil, err
		}
	}
	train := &Set{C: 3, H: 32, W: 32}
	if limit != testOnly {
		var err error
		if train, err = readSVHNFile(trainPath, classes, limit); err != nil {
			return nil, err
		}
	}
	if _, err := os.Stat(extraPath); limit == testOnly {
		// no training split
	} else if err == nil && (limit <= 0 || train.N < limit) {
		rest := 0
		if limit > 0 {
			rest = limit - train.N
		}
		extra, err := readSVHNFile(extraPath, classes, rest)
		if err != nil {
			return nil, err
		}
		train = joinSets(train, extra)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	test, err := readSVHNFile(testPath, classes, 0)
	if err != nil {
		return nil, err
	}
	names := make([]string, 10)
	for i := range names {
		names[i] = fmt.Sprint(i)
	}
	return &Dataset{Train: train, Test: test, Classes: names, Format: FormatSVHN}, nil
}

// readSVHNFile reads one SVHN MAT-file; limit > 0 keeps its first limit images.
func readSVHNFile(path string, classes, limit int) (*Set, error) {
	mf, err := readMatFile(path, "X", "y")
	if err != nil {
		return nil, err
	}
	return svhnSet(mf, classes, limit)
}

// svhnSet turns the X and y of an SVHN file into a Set of CHW images. It
// reuses X's bytes when they are uint8.
func svhnSet(mf *matFile, classes, limit int) (*Set, error) {
	path := mf.Path
	x, y := mf.Var("X"), mf.Var("y")
	for _, v := range []struct {
		v    *matVar
		name string
	}{{x, "X"}, {y, "y"}} {
		if v.v == nil {
			return nil, fmt.Errorf("%s: no variable %s (it holds %s); %s", path, v.name, mf.Names(), svhnLayout)
		}
	}
	d := x.Dims
	if len(d) == 3 { // MATLAB drops a trailing singleton: one image
		d = append(d[:3:3], 1)
	}
	if len(d) != 4 || d[0] != 32 || d[1] != 32 || d[2] != 3 {
		return nil, fmt.Errorf("%s: X is %s, expected 32x32x3xN (height x width x channel x image)", path, dimString(x.Dims))
	}
	n := d[3]
	if n == 0 {
		return nil, fmt.Errorf("%s: X holds no images", path)
	}
	if yn := y.Len(); len(y.Dims) != 2 || (y.Dims[0] != 1 && y.Dims[1] != 1) || yn != n {
		return nil, fmt.Errorf("%s: y is %s, expected %dx1 (one label per image of X)", path, dimString(y.Dims), n)
	}
	if limit > 0 && limit < n {
		n = limit
	}
	const plane, img = 32 * 32, 3 * 32 * 32
	s := &Set{N: n, C: 3, H: 32, W: 32, Labels: make([]int32, n)}
	for i := range n {
		l := y.At(i)
		if l != math.Trunc(l) || l < 1 || l > 10 {
			return nil, fmt.Errorf("%s: example %d has label %v in y, expected 1..10 (10 stands for the digit 0); the file is corrupt", path, i, l)
		}
		c := int(l) % 10
		if err := checkLabel(path, i, c, classes); err != nil {
			return nil, err
		}
		s.Labels[i] = int32(c)
	}
	switch {
	case x.Type == miUINT8 && n == d[3]:
		s.Pixels = x.Data
	case x.Type == miUINT8: // a copy, so that the rest of the file's pixels can be freed
		s.Pixels = append([]uint8(nil), x.Data[:n*img]...)
	default:
		s.Pixels = make([]uint8, n*img)
		for i := range s.Pixels {
			p := x.At(i)
			if p != math.Trunc(p) || p < 0 || p > 255 {
				return nil, fmt.Errorf("%s: X element %d is %v, expected a pixel value 0..255", path, i+1, p)
			}
			s.Pixels[i] = uint8(p)
		}
	}
	// MATLAB's (h, w, c, n) is at h + 32w + 1024c + 3072n, CHW wants
	// w + 32h + 1024c + 3072n: transpose each 32x32 plane in place.
	for p := 0; p < len(s.Pixels); p += plane {
		q := s.Pixels[p : p+plane]
		for h := range 32 {
			for w := h + 1; w < 32; w++ {
				q[h*32+w], q[w*32+h] = q[w*32+h], q[h*32+w]
			}
		}
	}
	return s, nil
}

// joinSets appends b's examples to a's (both 3x32x32), in a new slice so the
// two files' buffers can be freed.
func joinSets(a, b *Set) *Set {
	out := &Set{N: a.N + b.N, C: a.C, H: a.H, W: a.W}
	out.Pixels = append(make([]uint8, 0, len(a.Pixels)+len(b.Pixels)), a.Pixels...)
	out.Pixels = append(out.Pixels, b.Pixels...)
	out.Labels = append(append(make([]int32, 0, out.N), a.Labels...), b.Labels...)
	return out
}
