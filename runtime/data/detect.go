package data

import (
	"fmt"
	"os"
	"path/filepath"
)

// expectedLayouts describes the layouts Load accepts, for messages.
const expectedLayouts = "expected CIFAR-10 binary batches (data_batch_1.bin .. data_batch_5.bin, test_batch.bin), " +
	"CIFAR-100 binary (train.bin, test.bin), MNIST-style IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte, " +
	"t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, plain or .gz), SVHN MATLAB files (train_32x32.mat, test_32x32.mat, " +
	"optionally extra_32x32.mat), or an image folder tree (train/CLASS/*.png|jpg, test/CLASS/*)"

// Load detects the format of dir by its contents and reads both splits.
//
// want is the network's input shape [C,H,W] and classes its class count: a
// mismatch (wrong image size or channels, more label values or class folders
// than classes) is an error naming a file and what was expected. limit > 0
// keeps only the first limit training examples (the test split is whole; for
// an image folder tree see loadFolder: the examples are taken from each class
// in turn). CIFAR files may also sit in the folder their archive unpacks to
// (dir/cifar-10-batches-bin, dir/cifar-100-binary). SVHN's extra_32x32.mat,
// when present, joins the training split after train_32x32.mat.
func Load(dir string, want [3]int, classes int, limit int) (*Dataset, error) {
	if limit < 0 {
		return nil, fmt.Errorf("data.Load: negative limit %d", limit)
	}
	return load(dir, want, classes, limit)
}

// LoadTest is Load of the test split alone: the training split's files are neither read
// nor needed (Train is empty), so that evaluating needs only what it measures.
func LoadTest(dir string, want [3]int, classes int) (*Dataset, error) {
	return load(dir, want, classes, testOnly)
}

// testOnly, as a loader's limit, reads the test split alone.
const testOnly = -1

func load(dir string, want [3]int, classes int, limit int) (*Dataset, error) {
	if err := checkWant(want, classes); err != nil {
		return nil, err
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %v (the data directory)", dir, unwrapPath(err))
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s: not a directory; %s", dir, expectedLayouts)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	if len(ents) == 0 {
		return nil, fmt.Errorf("%s: empty directory; %s", dir, expectedLayouts)
	}
	switch layout, at := detectLayout(dir); layout {
	case FormatCIFAR10:
		return loadCIFAR(at, cifar10Spec(), want, classes, limit)
	case FormatCIFAR100:
		return loadCIFAR(at, cifar100Spec(), want, classes, limit)
	case FormatIDX:
		return loadIDX(dir, want, classes, limit)
	case FormatSVHN:
		return loadSVHN(dir, want, classes, limit)
	case FormatFolder:
		return loadFolder(dir, want, classes, limit)
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() {
			n += "/"
		}
		names = append(names, n)
	}
	return nil, fmt.Errorf("%s: unknown data layout (it holds %s); %s", dir, listNames(names), expectedLayouts)
}

// detectLayout names the layout of the files in dir (a Format* name, "" for none) and the
// folder that holds them (CIFAR's may sit in the folder their archive unpacks to). An
// image folder tree has a train or test folder (an image folder read at any size, by
// OpenStream, may have val instead of test).
func detectLayout(dir string) (format, at string) {
	c10, c100 := cifar10Spec(), cifar100Spec()
	for _, d := range []string{dir, filepath.Join(dir, c10.sub)} {
		if hasAny(d, append(append([]string(nil), c10.train...), c10.test)) {
			return FormatCIFAR10, d
		}
	}
	for _, d := range []string{dir, filepath.Join(dir, c100.sub)} {
		if hasAny(d, []string{"train.bin", "test.bin"}) {
			return FormatCIFAR100, d
		}
	}
	switch {
	case hasIDX(dir):
		return FormatIDX, dir
	case hasSVHN(dir):
		return FormatSVHN, dir
	case isDir(filepath.Join(dir, "train")) || isDir(filepath.Join(dir, "test")):
		return FormatFolder, dir
	}
	return "", dir
}

// hasAny reports whether dir holds a regular file of one of the names.
func hasAny(dir string, names []string) bool {
	for _, n := range names {
		if st, err := os.Stat(filepath.Join(dir, n)); err == nil && st.Mode().IsRegular() {
			return true
		}
	}
	return false
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
