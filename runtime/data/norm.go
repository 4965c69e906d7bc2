package data

import (
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strconv"
)

// Normalization kinds, as the .wrn `normalize` statement names them.
const (
	NormMeanStd = "meanstd"
	NormScale   = "scale"
	NormZCA     = "zca"
	// NormImageNet is x/255 normalized with the fixed ImageNet statistics
	// (ImageNetMean, ImageNetStd), torchvision's transforms.Normalize of its reference
	// recipe; nothing is fitted.
	NormImageNet = "imagenet"
)

// The ImageNet per-channel (RGB) mean and standard deviation of pixels over 255, as
// torchvision's reference recipe normalizes with them.
var (
	ImageNetMean = [3]float32{0.485, 0.456, 0.406}
	ImageNetStd  = [3]float32{0.229, 0.224, 0.225}
)

// ImageNetNorm is the `normalize imagenet` normalization.
func ImageNetNorm() *Norm {
	return &Norm{Kind: NormImageNet, Mean: ImageNetMean[:], Std: ImageNetStd[:]}
}

// Metadata keys written by Norm.Metadata (for example into the string
// metadata of a safetensors checkpoint). The ZCA matrix is too big for
// metadata and travels as a tensor; ZCATensorName is a suggested name for it.
const (
	MetaNormKind  = "normalize"
	MetaNormMean  = "normalize.mean"
	MetaNormStd   = "normalize.std"
	MetaNormEps   = "normalize.zca_eps"
	ZCATensorName = "normalize.zca"
)

// Norm turns image bytes into the float32 values the network sees.
//
//   - meanstd: x/255, then (x - Mean[c]) / Std[c] with the per-channel mean
//     and population standard deviation of the training pixels (over 255).
//   - scale: x/255.
//   - imagenet: as meanstd, with the fixed ImageNetMean and ImageNetStd (3 channels).
//   - zca: x/255, minus the per-pixel mean Mean (C*H*W values), times the
//     symmetric D x D whitening matrix ZCA, D = C*H*W (see FitNorm).
type Norm struct {
	Kind      string    // "meanstd", "scale", "zca", "imagenet"
	Mean, Std []float32 // per channel (meanstd, imagenet); for zca, Mean is per pixel (C*H*W)
	ZCA       []float32 // zca only: D x D row-major whitening matrix, D = C*H*W
	Eps       float64   // zca only: the eigenvalue regularizer the matrix was fitted with
}

// FitNorm computes the statistics of kind ("meanstd", "scale", "zca" or "imagenet") from
// the training split (imagenet and scale fit nothing). A channel whose pixels are all
// equal gets Std 1.
//
// zca follows the WRN paper (Table 4) and pylearn2: the covariance of the
// training images scaled to [0, 1] and centred per pixel, fitted on at most
// ZCAMaxImages images spread evenly over the split, is decomposed as
// U diag(lambda) U^T and the whitening matrix is U diag(1/sqrt(lambda + eps))
// U^T with eps = ZCAEpsilon. It uses all cores; for CIFAR-sized images it
// takes a few seconds to a minute or two depending on the machine.
func FitNorm(kind string, train *Set) (*Norm, error) {
	if err := checkSet(train); err != nil {
		return nil, err
	}
	switch kind {
	case NormScale, NormImageNet:
		return FixedNorm(kind, train.C)
	case NormMeanStd:
		return fitMeanStd(train), nil
	case NormZCA:
		return fitZCA(train, ZCAEpsilon, ZCAMaxImages, runtime.GOMAXPROCS(0))
	}
	return nil, fmt.Errorf("data: unknown normalization %q; expected meanstd, scale, zca or imagenet", kind)
}

// FixedNorm is a normalization that fits nothing, scale or imagenet, for images of c
// channels; meanstd and zca, which need statistics of a training split held in memory
// at the input size, are an error.
func FixedNorm(kind string, c int) (*Norm, error) {
	switch kind {
	case NormScale:
		return &Norm{Kind: NormScale}, nil
	case NormImageNet:
		if c != 3 {
			return nil, fmt.Errorf("data: normalize imagenet needs 3-channel (RGB) images, not %d-channel ones", c)
		}
		return ImageNetNorm(), nil
	case NormMeanStd, NormZCA:
		return nil, fmt.Errorf("data: normalize %s fits statistics on a training split at the input size, which images streamed at any size (augment resized_crop) do not give; use normalize imagenet or scale", kind)
	}
	return nil, fmt.Errorf("data: unknown normalization %q; expected meanstd, scale, zca or imagenet", kind)
}

// checkSet validates the shape of a split before statistics are taken.
func checkSet(s *Set) error {
	if s == nil || s.N <= 0 {
		return fmt.Errorf("data: cannot fit a normalization on an empty training split")
	}
	if s.C <= 0 || s.H <= 0 || s.W <= 0 || len(s.Pixels) != s.N*s.ImageSize() {
		return fmt.Errorf("data: training split of %d images of %dx%dx%d holds %d bytes, expected %d",
			s.N, s.C, s.H, s.W, len(s.Pixels), s.N*s.ImageSize())
	}
	return nil
}

// fitMeanStd computes per-channel statistics with exact integer sums.
func fitMeanStd(s *Set) *Norm {
	hw := s.H * s.W
	sum := make([]uint64, s.C)
	sq := make([]uint64, s.C)
	for i := range s.N {
		img := s.Image(i)
		for c := range s.C {
			var a, b uint64
			for _, v := range img[c*hw : (c+1)*hw] {
				a += uint64(v)
				b += uint64(v) * uint64(v)
			}
			sum[c] += a
			sq[c] += b
		}
	}
	n := &Norm{Kind: NormMeanStd, Mean: make([]float32, s.C), Std: make([]float32, s.C)}
	count := float64(s.N) * float64(hw)
	for c := range s.C {
		m := float64(sum[c]) / count
		v := math.Max(float64(sq[c])/count-m*m, 0)
		std := math.Sqrt(v) / 255
		if std < 1e-6 {
			std = 1
		}
		n.Mean[c], n.Std[c] = float32(m/255), float32(std)
	}
	return n
}

// Check reports whether n can normalize images of c channels and d bytes: a known kind,
// and statistics of those channels (meanstd) or values (zca). Normalizations come from
// checkpoint metadata too, so a mismatch is an error for the user, not a panic.
func (n *Norm) Check(c, d int) error {
	switch n.Kind {
	case NormScale:
		return nil
	case NormMeanStd, NormImageNet:
		if c < 1 || len(n.Mean) != c || len(n.Std) != c || d%c != 0 {
			return fmt.Errorf("the %s normalization has %d means and %d deviations, which do not fit images of %d channels and %d values", n.Kind, len(n.Mean), len(n.Std), c, d)
		}
		return nil
	case NormZCA:
		if len(n.Mean) != d || len(n.ZCA) != d*d {
			return fmt.Errorf("the zca normalization is for images of %d values (a %d-entry matrix), not %d", len(n.Mean), len(n.ZCA), d)
		}
		return nil
	}
	return fmt.Errorf("unknown normalization %q (want scale, meanstd, zca or imagenet)", n.Kind)
}

// Apply normalizes one CHW image of bytes into dst (at least len(img) floats), or returns
// Check's error for images of its size and as many channels as n has statistics of.
func (n *Norm) Apply(img []uint8, dst []float32) error {
	if err := n.Check(max(len(n.Mean), 1), len(img)); err != nil {
		return err
	}
	if len(dst) < len(img) {
		return fmt.Errorf("data: Norm.Apply: %d floats for an image of %d values", len(dst), len(img))
	}
	var scratch []float32
	if n.Kind == NormZCA {
		scratch = make([]float32, len(img))
	}
	n.apply(img, dst, scratch)
	return nil
}

// apply is Apply with caller-provided scratch space (len(img) floats, zca only), for
// a normalization that Check accepted for images of len(img) bytes.
func (n *Norm) apply(img []uint8, dst, scratch []float32) {
	dst = dst[:len(img)]
	switch n.Kind {
	case NormScale:
		for i, v := range img {
			dst[i] = float32(v) / 255
		}
	case NormMeanStd, NormImageNet:
		c := len(n.Mean)
		hw := len(img) / c
		for ch := range c {
			std := float64(n.Std[ch])
			a, b := 1/(255*std), -float64(n.Mean[ch])/std
			plane := dst[ch*hw : (ch+1)*hw]
			for i, v := range img[ch*hw : (ch+1)*hw] {
				plane[i] = float32(float64(v)*a + b)
			}
		}
	case NormZCA:
		d := len(img)
		x := scratch[:d]
		for p, v := range img {
			x[p] = float32(v)/255 - n.Mean[p]
		}
		zcaMatVec(n.ZCA, x, dst)
	}
}

// Metadata returns the small fields as strings: the kind, and mean and std
// as JSON arrays (mean only for zca, with eps).
func (n *Norm) Metadata() map[string]string {
	m := map[string]string{MetaNormKind: n.Kind}
	switch n.Kind {
	case NormMeanStd, NormImageNet:
		m[MetaNormMean] = jsonFloats(n.Mean)
		m[MetaNormStd] = jsonFloats(n.Std)
	case NormZCA:
		m[MetaNormMean] = jsonFloats(n.Mean)
		m[MetaNormEps] = strconv.FormatFloat(n.Eps, 'g', -1, 64)
	}
	return m
}

func jsonFloats(v []float32) string {
	b, err := json.Marshal(v)
	if err != nil { // only for NaN or Inf, which fitted statistics never hold
		return "[]"
	}
	return string(b)
}

// NormFromMetadata rebuilds a Norm from Metadata's strings and, for zca, the
// D x D whitening matrix (kept, not copied).
func NormFromMetadata(meta map[string]string, zca []float32) (*Norm, error) {
	kind, ok := meta[MetaNormKind]
	if !ok {
		return nil, fmt.Errorf("data: metadata has no %q entry (meanstd, scale, zca or imagenet)", MetaNormKind)
	}
	switch kind {
	case NormScale:
		return &Norm{Kind: NormScale}, nil
	case NormImageNet:
		// The statistics are fixed; any written with them must be those.
		n := ImageNetNorm()
		for _, f := range []struct {
			key  string
			want []float32
		}{{MetaNormMean, n.Mean}, {MetaNormStd, n.Std}} {
			if _, ok := meta[f.key]; !ok {
				continue
			}
			v, err := metaFloats(meta, f.key)
			if err != nil {
				return nil, err
			}
			if !slices.Equal(v, f.want) {
				return nil, fmt.Errorf("data: metadata %q is %v, but normalize imagenet has %v", f.key, v, f.want)
			}
		}
		return n, nil
	case NormMeanStd:
		mean, err := metaFloats(meta, MetaNormMean)
		if err != nil {
			return nil, err
		}
		std, err := metaFloats(meta, MetaNormStd)
		if err != nil {
			return nil, err
		}
		if len(mean) == 0 || len(std) != len(mean) {
			return nil, fmt.Errorf("data: metadata %q has %d values and %q %d; expected one per channel, the same number",
				MetaNormMean, len(mean), MetaNormStd, len(std))
		}
		for c, s := range std {
			if !(s > 0) || math.IsInf(float64(s), 0) {
				return nil, fmt.Errorf("data: metadata %q: channel %d has std %g, expected a positive number", MetaNormStd, c, s)
			}
		}
		return &Norm{Kind: NormMeanStd, Mean: mean, Std: std}, nil
	case NormZCA:
		mean, err := metaFloats(meta, MetaNormMean)
		if err != nil {
			return nil, err
		}
		d := len(mean)
		if d == 0 || len(zca) != d*d {
			return nil, fmt.Errorf("data: zca whitening matrix has %d values, expected %d x %d for the %d-value mean in %q",
				len(zca), d, d, d, MetaNormMean)
		}
		n := &Norm{Kind: NormZCA, Mean: mean, ZCA: zca}
		if s, ok := meta[MetaNormEps]; ok {
			if n.Eps, err = strconv.ParseFloat(s, 64); err != nil {
				return nil, fmt.Errorf("data: metadata %q: %v", MetaNormEps, err)
			}
		}
		return n, nil
	}
	return nil, fmt.Errorf("data: metadata %q is %q; expected meanstd, scale, zca or imagenet", MetaNormKind, kind)
}

// metaFloats parses one JSON array of numbers.
func metaFloats(meta map[string]string, key string) ([]float32, error) {
	s, ok := meta[key]
	if !ok {
		return nil, fmt.Errorf("data: metadata has no %q entry", key)
	}
	var v []float32
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, fmt.Errorf("data: metadata %q is not a JSON array of numbers: %v", key, err)
	}
	return v, nil
}

// affine is n as a per-channel map of pixel values in [0, 255], for images of c channels
// streamed at any size: scale, meanstd and imagenet are one; zca, which whitens images of
// the input size as a whole, is not.
func (n *Norm) affine(c int) (affine, error) {
	m := affine{a: make([]float64, c), b: make([]float64, c)}
	switch n.Kind {
	case NormScale:
		for ch := range c {
			m.a[ch] = 1.0 / 255
		}
		return m, nil
	case NormMeanStd, NormImageNet:
		if err := n.Check(c, c); err != nil {
			return affine{}, err
		}
		for ch := range c {
			std := float64(n.Std[ch])
			m.a[ch], m.b[ch] = 1/(255*std), -float64(n.Mean[ch])/std
		}
		return m, nil
	case NormZCA:
		return affine{}, fmt.Errorf("the zca normalization whitens whole images of the input size; it cannot normalize images streamed at any size (augment resized_crop)")
	}
	return affine{}, n.Check(c, c)
}
