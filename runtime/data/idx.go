package data

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/wrnc/wrnc/runtime/sysmem"
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
	train := &Set{C: want[0], H: want[1], W: want[2]}
	if limit != testOnly {
		var err error
		if train, err = readIDXPair(dir, idxTrainImages, idxTrainLabels, want, classes, limit); err != nil {
			return nil, err
		}
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
	lab, err := readIDXLabels(lp, s.N, filepath.Base(ip))
	if err != nil {
		return nil, err
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

// openIDX opens path, which must not be a directory, for reading an IDX file.
func openIDX(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err != nil {
		f.Close()
		return nil, err
	} else if st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%s: is a directory, not an IDX file", path)
	}
	return f, nil
}

// readIDXFile returns the contents of the IDX file path read from f, decompressed when
// it is gzipped (recognised by its first bytes, whatever the name says). It reads the
// header of hdr bytes first and then no more than size(header) bytes in all, so that a
// small compressed file cannot inflate past what its header declares, nor a pipe or
// device go on without end; size checks the header (its magic number, and what it
// declares against what the network takes) before anything more is read.
func readIDXFile(path string, f io.Reader, hdr int, size func(h []byte) (int64, error)) ([]byte, error) {
	br := bufio.NewReader(f)
	var r io.Reader = br
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: bad gzip stream: %v", path, err)
		}
		r = zr
	}
	h := make([]byte, hdr)
	if n, err := io.ReadFull(r, h); err != nil {
		if n == 0 && errors.Is(err, io.EOF) {
			return h[:0], nil
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return h[:n], nil // too short: the caller says so
		}
		return nil, fmt.Errorf("%s: bad gzip stream (truncated or corrupt): %v", path, err)
	}
	want, err := size(h)
	if err != nil {
		return nil, err
	}
	if want > maxIDXBytes {
		return nil, fmt.Errorf("%s: its header declares %d bytes, more than an IDX file may have here (%d)", path, want, int64(maxIDXBytes))
	}
	if err := sysmem.Check(path+": its header declares data that", want); err != nil {
		return nil, err
	}
	// One byte more than declared tells a longer file from an exact one.
	rest, err := io.ReadAll(io.LimitReader(r, want-int64(hdr)+1))
	if err != nil {
		return nil, fmt.Errorf("%s: bad gzip stream (truncated or corrupt): %v", path, err)
	}
	return append(h, rest...), nil
}

// heldBytes says how much a file read up to one byte past its declared size holds.
func heldBytes(got, declared int64) string {
	if got > declared {
		return "more"
	}
	return fmt.Sprintf("%d bytes", got)
}

// declaredSize is hdr plus the product of dims, saturated at maxIDXBytes+1 so that
// no header's product overflows.
func declaredSize(hdr int64, dims ...uint32) int64 {
	n := int64(1)
	for _, d := range dims {
		if d != 0 && n > (maxIDXBytes+1)/int64(d) {
			return maxIDXBytes + 1
		}
		n *= int64(d)
	}
	return min(hdr+n, maxIDXBytes+1)
}

// maxIDXBytes bounds what an IDX file's header may declare (MNIST's training images
// are 47 MB).
const maxIDXBytes = 8 << 30

// readIDXImages reads an idx3-ubyte file (magic, count, rows, cols, pixels).
func readIDXImages(path string, want [3]int) (*Set, error) {
	f, err := openIDX(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return decodeIDXImages(path, f, want)
}

// decodeIDXImages reads the idx3-ubyte file path from r. Its magic number and image size
// are checked before the pixels are read, so that a header declaring gigabytes of images
// of another size costs nothing.
func decodeIDXImages(path string, r io.Reader, want [3]int) (*Set, error) {
	b, err := readIDXFile(path, r, 16, func(h []byte) (int64, error) {
		if err := idxMagic(path, h, idxImagesMagic, "images, 3 dimensions"); err != nil {
			return 0, err
		}
		size := declaredSize(16, binary.BigEndian.Uint32(h[4:]), binary.BigEndian.Uint32(h[8:]), binary.BigEndian.Uint32(h[12:]))
		if size <= maxIDXBytes {
			if err := idxImageShape(path, h, want); err != nil {
				return 0, err
			}
		}
		return size, nil
	})
	if err != nil {
		return nil, err
	}
	if len(b) < 16 {
		return nil, fmt.Errorf("%s: %d bytes, too short for an IDX image header (16 bytes)", path, len(b))
	}
	n := int64(binary.BigEndian.Uint32(b[4:]))
	rows := int64(binary.BigEndian.Uint32(b[8:]))
	cols := int64(binary.BigEndian.Uint32(b[12:]))
	if size := 16 + n*rows*cols; int64(len(b)) != size {
		return nil, fmt.Errorf("%s: header says %d images of %dx%d (%d bytes in all), but the file holds %s; it is truncated or corrupt",
			path, n, rows, cols, size, heldBytes(int64(len(b)), size))
	}
	if n == 0 {
		return nil, fmt.Errorf("%s: holds no images", path)
	}
	return &Set{N: int(n), C: 1, H: int(rows), W: int(cols), Pixels: b[16:]}, nil
}

// idxMagic checks the magic number that starts header h of the IDX file path.
func idxMagic(path string, h []byte, want uint32, what string) error {
	if m := binary.BigEndian.Uint32(h); m != want {
		return fmt.Errorf("%s: magic number 0x%08x, expected 0x%08x (IDX unsigned-byte %s)", path, m, want, what)
	}
	return nil
}

// idxImageShape checks the image size of image header h against the network's input.
func idxImageShape(path string, h []byte, want [3]int) error {
	rows, cols := int64(binary.BigEndian.Uint32(h[8:])), int64(binary.BigEndian.Uint32(h[12:]))
	if want[0] != 1 || int64(want[1]) != rows || int64(want[2]) != cols {
		return fmt.Errorf("%s: images are 1x%dx%d (grey), but the network expects %s",
			path, rows, cols, shapeString(want))
	}
	return nil
}

// readIDXLabels reads an idx1-ubyte file (magic, count, labels) that must hold one label
// for each of the images images of the file called imagesName.
func readIDXLabels(path string, images int, imagesName string) ([]int32, error) {
	f, err := openIDX(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return decodeIDXLabels(path, f, images, imagesName)
}

// decodeIDXLabels reads the idx1-ubyte file path from r. Its magic number and label count
// (which must be images, the count of the file called imagesName) are checked before the
// labels are read, so that a header declaring billions of labels costs nothing.
func decodeIDXLabels(path string, r io.Reader, images int, imagesName string) ([]int32, error) {
	b, err := readIDXFile(path, r, 8, func(h []byte) (int64, error) {
		if err := idxMagic(path, h, idxLabelsMagic, "labels, 1 dimension"); err != nil {
			return 0, err
		}
		if n := int64(binary.BigEndian.Uint32(h[4:])); n != int64(images) {
			return 0, fmt.Errorf("%s: %d labels, but %s holds %d images", path, n, imagesName, images)
		}
		return 8 + int64(images), nil
	})
	if err != nil {
		return nil, err
	}
	if len(b) < 8 {
		return nil, fmt.Errorf("%s: %d bytes, too short for an IDX label header (8 bytes)", path, len(b))
	}
	n := int64(binary.BigEndian.Uint32(b[4:]))
	if int64(len(b)) != 8+n {
		return nil, fmt.Errorf("%s: header says %d labels (%d bytes in all), but the file holds %s; it is truncated or corrupt",
			path, n, 8+n, heldBytes(int64(len(b)), 8+n))
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
