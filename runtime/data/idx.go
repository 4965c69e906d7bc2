package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// IDX magic numbers: two zero bytes, the element type (0x08 unsigned byte),
// and the number of dimensions.
const (
	idxImagesMagic = 0x00000803
	idxLabelsMagic = 0x00000801
)

// The four files of an MNIST-style directory (Fashion-MNIST uses the same names).
const (
	idxTrainImages = "train-images-idx3-ubyte"
	idxTrainLabels = "train-labels-idx1-ubyte"
	idxTestImages  = "t10k-images-idx3-ubyte"
	idxTestLabels  = "t10k-labels-idx1-ubyte"
)

// idxCandidates are the names one IDX file may have: plain or gzipped, and the
// "train-images.idx3-ubyte" spelling some mirrors use.
func idxCandidates(base string) []string {
	dotted := strings.Replace(base, "-idx", ".idx", 1)
	return []string{base, base + ".gz", dotted, dotted + ".gz"}
}

// findIDX returns the path of the first candidate name present in dir, or "".
func findIDX(dir, base string) string {
	for _, n := range idxCandidates(base) {
		p := filepath.Join(dir, n)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// loadIDX reads an MNIST-style directory.
func loadIDX(dir string, want [3]int, classes, limit int) (*Dataset, error) {
	train, err := readIDXPair(dir, idxTrainImages, idxTrainLabels, want, classes, limit)
	if err != nil {
		return nil, err
	}
	test, err := readIDXPair(dir, idxTestImages, idxTestLabels, want, classes, 0)
	if err != nil {
		return nil, err
	}
	return &Dataset{Train: train, Test: test, Format: FormatIDX}, nil
}

// readIDXPair reads one split: an images file and its labels file.
func readIDXPair(dir, images, labels string, want [3]int, classes, limit int) (*Set, error) {
	ip, lp := findIDX(dir, images), findIDX(dir, labels)
	for _, f := range []struct{ path, base string }{{ip, images}, {lp, labels}} {
		if f.path == "" {
			return nil, fmt.Errorf("%s: missing (also looked for %s.gz); an IDX directory holds %s, %s, %s and %s, plain or gzipped",
				filepath.Join(dir, f.base), f.base, idxTrainImages, idxTrainLabels, idxTestImages, idxTestLabels)
		}
	}
	s, err := readIDXImages(ip, want)
	if err != nil {
		return nil, err
	}
	lab, err := readIDXLabels(lp)
	if err != nil {
		return nil, err
	}
	if len(lab) != s.N {
		return nil, fmt.Errorf("%s: %d labels, but %s holds %d images", lp, len(lab), filepath.Base(ip), s.N)
	}
	s.Labels = lab
	s.truncate(limit)
	for i, l := range s.Labels {
		if err := checkLabel(lp, i, int(l), classes); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// readIDXFile returns the contents of path, decompressed when it is gzipped
// (recognised by its first bytes, whatever the name says).
func readIDXFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		return b, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: bad gzip stream: %v", path, err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("%s: bad gzip stream (truncated or corrupt): %v", path, err)
	}
	return out, nil
}

// readIDXImages reads an idx3-ubyte file (magic, count, rows, cols, pixels).
func readIDXImages(path string, want [3]int) (*Set, error) {
	b, err := readIDXFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < 16 {
		return nil, fmt.Errorf("%s: %d bytes, too short for an IDX image header (16 bytes)", path, len(b))
	}
	if m := binary.BigEndian.Uint32(b); m != idxImagesMagic {
		return nil, fmt.Errorf("%s: magic number 0x%08x, expected 0x%08x (IDX unsigned-byte images, 3 dimensions)",
			path, m, idxImagesMagic)
	}
	n := int64(binary.BigEndian.Uint32(b[4:]))
	rows := int64(binary.BigEndian.Uint32(b[8:]))
	cols := int64(binary.BigEndian.Uint32(b[12:]))
	if size := 16 + n*rows*cols; int64(len(b)) != size {
		return nil, fmt.Errorf("%s: header says %d images of %dx%d (%d bytes in all), but the file holds %d bytes; it is truncated or corrupt",
			path, n, rows, cols, size, len(b))
	}
	if want[0] != 1 || int64(want[1]) != rows || int64(want[2]) != cols {
		return nil, fmt.Errorf("%s: images are 1x%dx%d (grey), but the network expects %s",
			path, rows, cols, shapeString(want))
	}
	if n == 0 {
		return nil, fmt.Errorf("%s: holds no images", path)
	}
	return &Set{N: int(n), C: 1, H: int(rows), W: int(cols), Pixels: b[16:]}, nil
}

// readIDXLabels reads an idx1-ubyte file (magic, count, labels).
func readIDXLabels(path string) ([]int32, error) {
	b, err := readIDXFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < 8 {
		return nil, fmt.Errorf("%s: %d bytes, too short for an IDX label header (8 bytes)", path, len(b))
	}
	if m := binary.BigEndian.Uint32(b); m != idxLabelsMagic {
		return nil, fmt.Errorf("%s: magic number 0x%08x, expected 0x%08x (IDX unsigned-byte labels, 1 dimension)",
			path, m, idxLabelsMagic)
	}
	n := int64(binary.BigEndian.Uint32(b[4:]))
	if int64(len(b)) != 8+n {
		return nil, fmt.Errorf("%s: header says %d labels (%d bytes in all), but the file holds %d bytes; it is truncated or corrupt",
			path, n, 8+n, len(b))
	}
	lab := make([]int32, n)
	for i, v := range b[8:] {
		lab[i] = int32(v)
	}
	return lab, nil
}

// hasIDX reports whether dir holds any of the four IDX files.
func hasIDX(dir string) bool {
	for _, f := range []string{idxTrainImages, idxTrainLabels, idxTestImages, idxTestLabels} {
		if findIDX(dir, f) != "" {
			return true
		}
	}
	return false
}
