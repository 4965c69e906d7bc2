package data

import (
	"fmt"
	"path/filepath"
)

// Source is a split whose images are read one at a time, at whatever size they have: the
// files of an image folder, decoded as a StreamLoader needs them (augment resized_crop),
// or a split already in memory. Labels[i] is the class of image i.
type Source struct {
	Labels []int32
	paths  []string // image files, or nil
	set    *Set     // images in memory when paths is nil
	first  int      // the set's image that is image 0 here
	c      int      // channels every image is read as
}

// Len is the number of images.
func (s *Source) Len() int { return len(s.Labels) }

// Channels is the number of channels every image is read as.
func (s *Source) Channels() int { return s.c }

// Name is what messages call image i: its file, or its index in the split.
func (s *Source) Name(i int) string {
	if s.paths != nil {
		return s.paths[i]
	}
	return fmt.Sprintf("image %d", s.first+i)
}

// Slice is the images lo..hi-1 of s (0 <= lo <= hi <= Len), sharing its storage.
func (s *Source) Slice(lo, hi int) *Source {
	out := *s
	out.Labels = s.Labels[lo:hi:hi]
	if s.paths != nil {
		out.paths = s.paths[lo:hi:hi]
	} else {
		out.first = s.first + lo
	}
	return &out
}

// SourceOf is a Source over a split in memory (its images all have its size).
func SourceOf(set *Set) *Source {
	return &Source{Labels: set.Labels[:set.N:set.N], set: set, c: set.C}
}

// read gives image i, windowed as choose says (see decodePicture): a file is decoded into
// p and the window is all of it; an image in memory is returned as it is, with the window.
func (s *Source) read(i int, choose func(h, w int) Rect, p *picture) (*picture, Rect, error) {
	if s.paths == nil {
		set := s.set
		img := &picture{c: set.C, h: set.H, w: set.W, pix: set.Image(s.first + i)}
		return img, choose(set.H, set.W), nil
	}
	path := s.paths[i]
	b, err := readBounded(path, maxPictureBytes, "an image file")
	if err != nil {
		return nil, Rect{}, err
	}
	if err := decodePicture(path, b, s.c, maxPicturePixels, choose, p); err != nil {
		return nil, Rect{}, err
	}
	return p, Rect{H: p.h, W: p.w}, nil
}

// Streamed is a data set read one image at a time (for augment resized_crop): the train
// and test splits, class names (nil if the format has none), the format detected and
// notes, as in Dataset.
type Streamed struct {
	Train, Test *Source
	Classes     []string
	Format      string
	Notes       []string
}

// OpenStream is Load for a recipe with augment resized_crop: an image folder tree
// DIR/train/CLASS/*.{png,jpg,jpeg} with DIR/test/CLASS/* (or DIR/val/CLASS/*) is listed,
// not decoded, and its images may have any size and colour model (grey ones give 3
// channels, colour ones their luminance to a 1-channel network); a bad image is reported
// by the StreamLoader that reads it. Any other layout that Load accepts is read into
// memory as Load reads it and streamed from there. want and classes are the network's
// input shape and class count; limit > 0 keeps limit training images, taken from each
// class in turn.
func OpenStream(dir string, want [3]int, classes, limit int) (*Streamed, error) {
	if limit < 0 {
		return nil, fmt.Errorf("data.OpenStream: negative limit %d", limit)
	}
	return openStream(dir, want, classes, limit)
}

// OpenStreamTest is OpenStream of the test split alone (Train is empty).
func OpenStreamTest(dir string, want [3]int, classes int) (*Streamed, error) {
	return openStream(dir, want, classes, testOnly)
}

func openStream(dir string, want [3]int, classes, limit int) (*Streamed, error) {
	if err := checkWant(want, classes); err != nil {
		return nil, err
	}
	if !hasImageSplits(dir) {
		ds, err := load(dir, want, classes, limit)
		if err != nil {
			return nil, err
		}
		train := ds.Train
		if train == nil {
			train = &Set{C: want[0], H: want[1], W: want[2]}
		}
		return &Streamed{Train: SourceOf(train), Test: SourceOf(ds.Test), Classes: ds.Classes, Format: ds.Format, Notes: ds.Notes}, nil
	}
	if err := checkImageShape(want); err != nil {
		return nil, fmt.Errorf("%s: %v", dir, err)
	}
	trainDir, testDir := filepath.Join(dir, "train"), testSplitDir(dir)
	if limit == testOnly {
		trainDir = testDir // the test split alone: its class folders name the classes
	}
	names, err := splitClasses(trainDir, testDir, classes)
	if err != nil {
		return nil, err
	}
	s := &Streamed{Train: filesSource(nil, want[0]), Classes: names, Format: FormatFolder}
	if limit != testOnly {
		files, err := listClassImages(trainDir, names, true)
		if err != nil {
			return nil, err
		}
		if limit > 0 {
			files = takeInTurn(files, limit)
		}
		s.Train = filesSource(files, want[0])
	}
	files, err := listClassImages(testDir, names, false)
	if err != nil {
		return nil, err
	}
	s.Test = filesSource(files, want[0])
	return s, nil
}

// hasImageSplits reports whether dir is an image folder tree: a train, test or val
// folder and none of the files of the other layouts.
func hasImageSplits(dir string) bool {
	switch layout, _ := detectLayout(dir); layout {
	case FormatFolder:
		return true
	case "":
		return isDir(filepath.Join(dir, "val"))
	}
	return false
}

// testSplitDir is DIR/test, or DIR/val when only that exists (ImageNet's layout).
func testSplitDir(dir string) string {
	test, val := filepath.Join(dir, "test"), filepath.Join(dir, "val")
	if !isDir(test) && isDir(val) {
		return val
	}
	return test
}

// filesSource is the Source of the files of every class, labelled by class.
func filesSource(files [][]string, c int) *Source {
	s := &Source{c: c, paths: []string{}, Labels: []int32{}}
	for label, fs := range files {
		for _, f := range fs {
			s.paths = append(s.paths, f)
			s.Labels = append(s.Labels, int32(label))
		}
	}
	return s
}

// EvalImage reads one PNG or JPEG file of any size and writes to dst (C*H*W floats of the
// input shape) what evaluation makes of it under augment resized_crop: its shorter side
// resized to EvalResizeSide, the centre window of the input size, normalized by norm
// (scale, meanstd or imagenet). Every problem is an error naming the file.
func EvalImage(path string, input [3]int, norm *Norm, dst []float32) error {
	if err := checkImageShape(input); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	c, h, w := input[0], input[1], input[2]
	if len(dst) < c*h*w {
		return fmt.Errorf("data.EvalImage: %d floats for an input of %s", len(dst), shapeString(input))
	}
	aff, err := norm.affine(c)
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	src := &Source{Labels: []int32{0}, paths: []string{path}, c: c}
	var p picture
	pic, crop, err := src.read(0, func(ih, iw int) Rect { return Rect{H: ih, W: iw} }, &p)
	if err != nil {
		return err
	}
	rh, rw, win := EvalGeometry(crop.H, crop.W, h, w)
	var r resizer
	r.resize(pic, crop, rh, rw, win, false, aff, dst[:c*h*w])
	return nil
}
