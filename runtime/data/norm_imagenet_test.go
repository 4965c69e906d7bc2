package data

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestNormImageNet checks `normalize imagenet`: torchvision's constants, x/255 then
// (x - mean) / std per channel against float64, the same through the streaming path's
// affine map, its metadata round trip, and its refusals.
func TestNormImageNet(t *testing.T) {
	if ImageNetMean != [3]float32{0.485, 0.456, 0.406} || ImageNetStd != [3]float32{0.229, 0.224, 0.225} {
		t.Fatalf("constants %v %v differ from torchvision's", ImageNetMean, ImageNetStd)
	}
	s := randomSet(rand.New(rand.NewPCG(2, 3)), 3, 3, 4, 5, 2)
	n, err := FitNorm(NormImageNet, s)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ImageNetNorm(), n); diff != "" {
		t.Errorf("FitNorm(imagenet) (-want +got):\n%s", diff)
	}
	mean, std := []float64{0.485, 0.456, 0.406}, []float64{0.229, 0.224, 0.225}
	aff, err := n.affine(3)
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]float32, s.ImageSize())
	for i := range s.N {
		img := s.Image(i)
		if err := n.Apply(img, dst); err != nil {
			t.Fatal(err)
		}
		for p, v := range img {
			c := p / 20
			want := (float64(v)/255 - mean[c]) / std[c]
			if !closeTo(dst[p], want) {
				t.Fatalf("image %d value %d (channel %d, byte %d): %v, want %v", i, p, c, v, dst[p], want)
			}
			if got := float64(v)*aff.a[c] + aff.b[c]; math.Abs(got-want) > 1e-6 {
				t.Fatalf("affine of byte %d, channel %d: %v, want %v", v, c, got, want)
			}
		}
	}
	back, err := NormFromMetadata(n.Metadata(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(n, back); diff != "" {
		t.Errorf("metadata round trip (-want +got):\n%s", diff)
	}
	if _, err := NormFromMetadata(map[string]string{MetaNormKind: NormImageNet}, nil); err != nil {
		t.Errorf("imagenet metadata without statistics: %v", err)
	}
	meta := n.Metadata()
	meta[MetaNormStd] = "[0.2,0.2,0.2]"
	_, err = NormFromMetadata(meta, nil)
	checkErr(t, err, MetaNormStd, "normalize imagenet has")
	_, err = FitNorm(NormImageNet, randomSet(rand.New(rand.NewPCG(1, 1)), 2, 1, 2, 2, 2))
	checkErr(t, err, "3-channel")
	if err := n.Check(1, 4); err == nil {
		t.Error("imagenet normalization accepted 1-channel images")
	}
}

// TestFixedNorm checks the normalizations a streamed data set can use.
func TestFixedNorm(t *testing.T) {
	if n, err := FixedNorm(NormScale, 1); err != nil || n.Kind != NormScale {
		t.Errorf("FixedNorm(scale) = %+v, %v", n, err)
	}
	for _, kind := range []string{NormMeanStd, NormZCA} {
		_, err := FixedNorm(kind, 3)
		checkErr(t, err, kind, "use normalize imagenet or scale")
	}
	_, err := FixedNorm("pca", 3)
	checkErr(t, err, "pca")
}
