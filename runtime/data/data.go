// Package data reads the data sets a generated training binary learns from,
// normalizes and augments their images, and feeds them in mini-batches.
//
// Five layouts are recognised by their contents (see Load): CIFAR-10 and
// CIFAR-100 binary batches, MNIST-style IDX files (plain or gzipped), SVHN's
// MATLAB v5 files (train_32x32.mat, test_32x32.mat, extra_32x32.mat), and an
// image folder tree DIR/{train,test}/CLASS/*.{png,jpg,jpeg}. Images are kept as
// bytes in CHW order; Norm turns one into float32 (meanstd, scale, zca or imagenet,
// as the .wrn `normalize` statement says), Augment applies the random crop and flip of
// `augment`, and Loader produces the batches.
//
// The imagenet family's `augment resized_crop` reads an image folder as a stream
// instead (OpenStream, StreamLoader): the files are listed, not decoded, may have any
// size, and are decoded, cropped (CropParams, torchvision's RandomResizedCrop), resized
// (bilinear, as F.interpolate) and normalized on background goroutines, a few batches
// ahead of the caller; evaluation resizes and centre-crops (EvalGeometry).
// WriteImageFolder writes a small folder of mixed sizes and formats for tests.
package data

import "fmt"

// Set is one split: N images of C x H x W bytes in CHW order, and their labels.
type Set struct {
	N, C, H, W int
	Pixels     []uint8 // N*C*H*W, image i at i*C*H*W, channel-major (CHW)
	Labels     []int32 // N, in [0, classes)
}

// Dataset is a train and test split, with class names (nil if the format has
// none) and the format detected.
type Dataset struct {
	Train, Test *Set
	Classes     []string // may be nil
	Format      string   // "cifar10", "cifar100", "idx", "svhn", "folder"
	// Notes are things a user should know about how the data was read
	// (colour images converted to grey, for one); commands print them.
	Notes []string
}

// Format names reported in Dataset.Format.
const (
	FormatCIFAR10  = "cifar10"
	FormatCIFAR100 = "cifar100"
	FormatIDX      = "idx"
	FormatSVHN     = "svhn"
	FormatFolder   = "folder"
)

// ImageSize is the number of bytes of one image, C*H*W.
func (s *Set) ImageSize() int { return s.C * s.H * s.W }

// Image returns the bytes of image i (a sub-slice of Pixels, not a copy).
func (s *Set) Image(i int) []uint8 {
	d := s.ImageSize()
	return s.Pixels[i*d : (i+1)*d : (i+1)*d]
}

// truncate keeps the first n examples when 0 < n < s.N.
func (s *Set) truncate(n int) {
	if n <= 0 || n >= s.N {
		return
	}
	s.N = n
	s.Pixels = s.Pixels[:n*s.ImageSize()]
	s.Labels = s.Labels[:n]
}

// shapeString prints a [C,H,W] shape as CxHxW.
func shapeString(s [3]int) string { return fmt.Sprintf("%dx%dx%d", s[0], s[1], s[2]) }

// checkWant validates the network's input shape and class count.
func checkWant(want [3]int, classes int) error {
	if want[0] <= 0 || want[1] <= 0 || want[2] <= 0 {
		return fmt.Errorf("data: input shape %s must be positive", shapeString(want))
	}
	if classes < 1 {
		return fmt.Errorf("data: class count %d must be at least 1", classes)
	}
	return nil
}

// checkLabel reports a label outside [0, classes) of example i of file.
func checkLabel(file string, i int, label, classes int) error {
	if label >= classes {
		return fmt.Errorf("%s: example %d has label %d, but the network has %d classes (labels 0..%d)",
			file, i, label, classes, classes-1)
	}
	return nil
}
