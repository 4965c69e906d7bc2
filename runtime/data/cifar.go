package data

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// cifarSpec describes one of the two CIFAR binary layouts.
type cifarSpec struct {
	format     string
	name       string   // for messages
	sub        string   // the folder the official archive unpacks to
	train      []string // training batches, in order
	test       string
	labelBytes int    // bytes before the pixels; the label used is the last of them
	record     string // the record layout, for messages
	names      string // class-name file, optional
	labels     int    // label values the format defines
}

const cifarPixels = 3 * 32 * 32

func cifar10Spec() cifarSpec {
	return cifarSpec{
		format: FormatCIFAR10, name: "CIFAR-10", sub: "cifar-10-batches-bin",
		train: []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
			"data_batch_4.bin", "data_batch_5.bin"},
		test: "test_batch.bin", labelBytes: 1, record: "1 label byte + 3072 pixel bytes",
		names: "batches.meta.txt", labels: 10,
	}
}

func cifar100Spec() cifarSpec {
	return cifarSpec{
		format: FormatCIFAR100, name: "CIFAR-100", sub: "cifar-100-binary",
		train: []string{"train.bin"}, test: "test.bin", labelBytes: 2,
		record: "coarse label byte + fine label byte + 3072 pixel bytes",
		names:  "fine_label_names.txt", labels: 100,
	}
}

func (sp cifarSpec) recordSize() int { return sp.labelBytes + cifarPixels }

// files lists every file the layout needs, for messages.
func (sp cifarSpec) files() string {
	return strings.Join(append(append([]string(nil), sp.train...), sp.test), ", ")
}

// loadCIFAR reads a CIFAR-10 or CIFAR-100 binary directory.
func loadCIFAR(dir string, sp cifarSpec, want [3]int, classes, limit int) (*Dataset, error) {
	if want != [3]int{3, 32, 32} {
		return nil, fmt.Errorf("%s: %s images are 3x32x32, but the network expects %s",
			filepath.Join(dir, sp.train[0]), sp.name, shapeString(want))
	}
	files := append(append([]string(nil), sp.train...), sp.test)
	if limit == testOnly {
		files = []string{sp.test}
	}
	for _, f := range files {
		p := filepath.Join(dir, f)
		if _, err := os.Stat(p); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("%s: missing; a %s directory holds %s", p, sp.name, sp.files())
			}
			return nil, err
		}
	}
	train := &Set{C: 3, H: 32, W: 32}
	for _, f := range sp.train {
		if limit == testOnly || limit > 0 && train.N >= limit {
			break
		}
		if err := readCIFARFile(filepath.Join(dir, f), sp, classes, train); err != nil {
			return nil, err
		}
	}
	train.truncate(limit)
	test := &Set{C: 3, H: 32, W: 32}
	if err := readCIFARFile(filepath.Join(dir, sp.test), sp, classes, test); err != nil {
		return nil, err
	}
	names, err := readClassNames(filepath.Join(dir, sp.names), sp.labels)
	if err != nil {
		return nil, err
	}
	return &Dataset{Train: train, Test: test, Classes: names, Format: sp.format}, nil
}

// maxCIFARBytes bounds a CIFAR batch file (CIFAR-100's train.bin is 154 MB): a larger
// regular file is refused unread, and a pipe or device (a batch linked to /dev/zero) is
// read no further. (A variable so that a test can lower it.)
var maxCIFARBytes int64 = 2 << 30

// readCIFARFile appends the records of one batch file to s.
func readCIFARFile(path string, sp cifarSpec, classes int, s *Set) error {
	b, err := readBounded(path, maxCIFARBytes, "a "+sp.name+" batch file")
	if err != nil {
		return err
	}
	return decodeCIFAR(path, b, sp, classes, s)
}

// decodeCIFAR appends the records b of the batch file path to s, which is left as it
// was when b is not a whole number of records or a label is out of range.
func decodeCIFAR(path string, b []byte, sp cifarSpec, classes int, s *Set) error {
	rec := sp.recordSize()
	if len(b) == 0 || len(b)%rec != 0 {
		return fmt.Errorf("%s: %d bytes is not a whole number of %d-byte records (%s); the file is truncated or not a %s batch",
			path, len(b), rec, sp.record, sp.name)
	}
	n := len(b) / rec
	for i := range n {
		l := int(b[i*rec+sp.labelBytes-1])
		if l >= sp.labels {
			return fmt.Errorf("%s: record %d has label %d, which is not a %s class (0..%d); the file is corrupt",
				path, i, l, sp.name, sp.labels-1)
		}
		if err := checkLabel(path, i, l, classes); err != nil {
			return err
		}
	}
	s.Pixels = slices.Grow(s.Pixels, n*cifarPixels)
	s.Labels = slices.Grow(s.Labels, n)
	for i := range n {
		r := b[i*rec : (i+1)*rec]
		s.Labels = append(s.Labels, int32(r[sp.labelBytes-1]))
		s.Pixels = append(s.Pixels, r[sp.labelBytes:]...)
	}
	s.N += n
	return nil
}

// readClassNames reads one class name per non-empty line; a missing file gives
// nil names. A file with another number of names than the format has is an error.
func readClassNames(path string, want int) ([]string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for line := range strings.SplitSeq(string(b), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			names = append(names, line)
		}
	}
	if len(names) != want {
		return nil, fmt.Errorf("%s: %d class names, expected %d (one per line)", path, len(names), want)
	}
	return names, nil
}
