package data

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/wrnc/wrnc/runtime/sysmem"
)

// isImageName reports whether a file name has a PNG or JPEG extension.
func isImageName(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".png", ".jpg", ".jpeg":
		return true
	}
	return false
}

// loadFolder reads DIR/train/CLASS/* and DIR/test/CLASS/*. Classes are the
// sorted folder names of train; examples are ordered by class, then file name.
//
// With limit > 0 the training split keeps limit examples taken in turn from
// each class (the first file of every class, then the second, ...), so that a
// quick run still sees every class; they stay ordered by class, then file name.
func loadFolder(dir string, want [3]int, classes, limit int) (*Dataset, error) {
	if err := checkImageShape(want); err != nil {
		return nil, fmt.Errorf("%s: %v", dir, err)
	}
	trainDir, testDir := filepath.Join(dir, "train"), filepath.Join(dir, "test")
	if limit == testOnly {
		// The test split alone: its class folders name the classes.
		trainDir = testDir
	}
	names, err := splitClasses(trainDir, testDir, classes)
	if err != nil {
		return nil, err
	}
	var trainFiles [][]string
	if limit != testOnly {
		if trainFiles, err = listClassImages(trainDir, names, true); err != nil {
			return nil, err
		}
	}
	testFiles, err := listClassImages(testDir, names, false)
	if err != nil {
		return nil, err
	}
	if limit > 0 {
		trainFiles = takeInTurn(trainFiles, limit)
	}
	train, greyTrain, err := decodeSet(trainFiles, want)
	if err != nil {
		return nil, err
	}
	test, greyTest, err := decodeSet(testFiles, want)
	if err != nil {
		return nil, err
	}
	ds := &Dataset{Train: train, Test: test, Classes: names, Format: FormatFolder}
	if g := greyTrain + greyTest; g > 0 {
		ds.Notes = append(ds.Notes, fmt.Sprintf("%s: %d colour images were turned into grey ones (their luminance), since the network takes 1 channel", dir, g))
	}
	return ds, nil
}

// splitClasses returns the class folders of trainDir, which must be classes of them and
// the same as testDir's.
func splitClasses(trainDir, testDir string, classes int) ([]string, error) {
	names, err := classFolders(trainDir)
	if err != nil {
		return nil, err
	}
	if len(names) != classes {
		return nil, fmt.Errorf("%s: %d class folders (%s), but the network has %d classes; give it one folder of images per class",
			trainDir, len(names), listNames(names), classes)
	}
	testNames, err := classFolders(testDir)
	if err != nil {
		return nil, err
	}
	if !slices.Equal(names, testNames) {
		return nil, fmt.Errorf("%s: class folders %s differ from those of %s (%s)%s",
			testDir, listNames(testNames), trainDir, listNames(names), folderDiff(names, testNames))
	}
	return names, nil
}

// classFolders returns the sorted names of the non-hidden sub-folders of dir.
func classFolders(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %v; an image folder tree holds train/CLASS/*.png|jpg and test/CLASS/*", dir, unwrapPath(err))
	}
	var names []string
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), ".") && entryMode(dir, e).IsDir() {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s: no class folders; expected one folder of images per class", dir)
	}
	slices.Sort(names)
	return names, nil
}

// listClassImages returns, per class, the sorted image paths of dir/CLASS.
// A class without images is an error in the training split.
func listClassImages(dir string, names []string, needEach bool) ([][]string, error) {
	files := make([][]string, len(names))
	total := 0
	for c, name := range names {
		sub := filepath.Join(dir, name)
		ents, err := os.ReadDir(sub)
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			if !strings.HasPrefix(e.Name(), ".") && isImageName(e.Name()) && entryMode(sub, e).IsRegular() {
				files[c] = append(files[c], filepath.Join(sub, e.Name()))
			}
		}
		slices.Sort(files[c])
		if needEach && len(files[c]) == 0 {
			return nil, fmt.Errorf("%s: no .png, .jpg or .jpeg images", sub)
		}
		total += len(files[c])
	}
	if total == 0 {
		return nil, fmt.Errorf("%s: no .png, .jpg or .jpeg images in its class folders", dir)
	}
	return files, nil
}

// takeInTurn keeps limit files, taking one per class in turn.
func takeInTurn(files [][]string, limit int) [][]string {
	keep := make([]int, len(files))
	for n, round := 0, 0; n < limit; round++ {
		took := false
		for c := range files {
			if n < limit && round < len(files[c]) {
				keep[c]++
				n++
				took = true
			}
		}
		if !took {
			break
		}
	}
	out := make([][]string, len(files))
	for c := range files {
		out[c] = files[c][:keep[c]]
	}
	return out
}

// decodeSet decodes the files of every class into one Set, in parallel over
// runtime.NumCPU() goroutines. The result does not depend on the decode order;
// when files are bad, the error is that of the first bad file in set order.
//
// greyed counts the colour images turned into grey ones for a 1-channel network.
func decodeSet(files [][]string, want [3]int) (s *Set, greyed int, err error) {
	var paths []string
	var labels []int32
	for c, fs := range files {
		for _, f := range fs {
			paths = append(paths, f)
			labels = append(labels, int32(c))
		}
	}
	n := len(paths)
	s = &Set{N: n, C: want[0], H: want[1], W: want[2], Labels: labels}
	if err := sysmem.Check(fmt.Sprintf("decoding %d images of %s", n, shapeString(want)), int64(n)*int64(s.ImageSize())); err != nil {
		return nil, 0, err
	}
	s.Pixels = make([]uint8, n*s.ImageSize())
	errs := make([]error, n)
	var next, grey atomic.Int64
	var failed atomic.Bool
	var wg sync.WaitGroup
	for range min(runtime.NumCPU(), n) {
		wg.Go(func() {
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				g, err := decodeInto(paths[i], want, s.Image(i))
				if err != nil {
					errs[i] = err
					failed.Store(true)
				}
				if g {
					grey.Add(1)
				}
			}
		})
	}
	wg.Wait()
	// Every index below a failing one was claimed before it and has finished,
	// so the first error in order is the same whatever the schedule.
	for _, err := range errs {
		if err != nil {
			return nil, 0, err
		}
	}
	return s, int(grey.Load()), nil
}

// listNames prints at most a few names.
func listNames(names []string) string {
	const show = 12
	if len(names) > show {
		return "[" + strings.Join(names[:show], " ") + fmt.Sprintf(" ... (%d more)]", len(names)-show)
	}
	return "[" + strings.Join(names, " ") + "]"
}

// folderDiff says which class folders one split lacks or adds.
func folderDiff(train, test []string) string {
	var missing, extra []string
	for _, n := range train {
		if !slices.Contains(test, n) {
			missing = append(missing, n)
		}
	}
	for _, n := range test {
		if !slices.Contains(train, n) {
			extra = append(extra, n)
		}
	}
	s := ""
	if len(missing) > 0 {
		s += "; missing " + listNames(missing)
	}
	if len(extra) > 0 {
		s += "; not in train " + listNames(extra)
	}
	return s
}

// entryMode returns the type of a directory entry, following a symbolic
// link (a link that leads nowhere has an irregular mode and is skipped).
func entryMode(dir string, e os.DirEntry) os.FileMode {
	if e.Type()&os.ModeSymlink == 0 {
		return e.Type()
	}
	st, err := os.Stat(filepath.Join(dir, e.Name()))
	if err != nil {
		return os.ModeIrregular
	}
	return st.Mode()
}

// unwrapPath drops the path an *os.PathError repeats.
func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
