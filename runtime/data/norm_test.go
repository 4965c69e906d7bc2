package data

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFitNormMeanStd(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 12))
	for _, tc := range []struct {
		name       string
		n, c, h, w int
	}{{"rgb", 37, 3, 5, 4}, {"grey", 9, 1, 7, 7}} {
		t.Run(tc.name, func(t *testing.T) {
			s := randomSet(rng, tc.n, tc.c, tc.h, tc.w, 3)
			n, err := FitNorm(NormMeanStd, s)
			if err != nil {
				t.Fatal(err)
			}
			hw := tc.h * tc.w
			for c := range tc.c {
				var vals []float64
				for i := range s.N {
					for _, v := range s.Image(i)[c*hw : (c+1)*hw] {
						vals = append(vals, float64(v)/255)
					}
				}
				mean := 0.0
				for _, v := range vals {
					mean += v
				}
				mean /= float64(len(vals))
				variance := 0.0
				for _, v := range vals {
					variance += (v - mean) * (v - mean)
				}
				std := math.Sqrt(variance / float64(len(vals)))
				if relErr(float64(n.Mean[c]), mean) > 1e-6 || relErr(float64(n.Std[c]), std) > 1e-6 {
					t.Errorf("channel %d: mean %g std %g, want %g %g", c, n.Mean[c], n.Std[c], mean, std)
				}
			}
			// Apply against the float64 formula with the fitted statistics.
			dst := make([]float32, s.ImageSize())
			for i := range s.N {
				n.Apply(s.Image(i), dst)
				for p, v := range s.Image(i) {
					c := p / hw
					want := (float64(v)/255 - float64(n.Mean[c])) / float64(n.Std[c])
					if math.Abs(float64(dst[p])-want) > 1e-6*math.Max(1, math.Abs(want)) {
						t.Fatalf("image %d value %d: %g, want %g", i, p, dst[p], want)
					}
				}
			}
		})
	}
}

func relErr(got, want float64) float64 {
	return math.Abs(got-want) / math.Max(math.Abs(want), 1e-30)
}

func TestNormScaleAndConstantChannel(t *testing.T) {
	s := &Set{N: 2, C: 2, H: 1, W: 2, Pixels: []uint8{0, 255, 7, 7, 51, 102, 7, 7}, Labels: []int32{0, 1}}
	sc, err := FitNorm(NormScale, s)
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]float32, 4)
	sc.Apply(s.Image(1), dst)
	if diff := cmp.Diff([]float32{0.2, 0.4, float32(7) / 255, float32(7) / 255}, dst); diff != "" {
		t.Errorf("scale (-want +got):\n%s", diff)
	}
	ms, err := FitNorm(NormMeanStd, s)
	if err != nil {
		t.Fatal(err)
	}
	// Channel 1 is constant: std 1, values centred to 0.
	ms.Apply(s.Image(0), dst)
	if ms.Std[1] != 1 || math.Abs(float64(dst[2])) > 1e-6 || math.Abs(float64(dst[3])) > 1e-6 {
		t.Errorf("constant channel: std %g, values %v; want std 1, about 0", ms.Std[1], dst[2:])
	}
}

func TestNormMetadataRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 13))
	s := randomSet(rng, 40, 1, 3, 3, 2)
	for _, kind := range []string{NormMeanStd, NormScale, NormZCA} {
		t.Run(kind, func(t *testing.T) {
			n, err := FitNorm(kind, s)
			if err != nil {
				t.Fatal(err)
			}
			meta := n.Metadata()
			if meta[MetaNormKind] != kind {
				t.Errorf("metadata kind %q, want %q", meta[MetaNormKind], kind)
			}
			back, err := NormFromMetadata(meta, n.ZCA)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(n, back); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNormErrors(t *testing.T) {
	if _, err := FitNorm("whiten", randomSet(rand.New(rand.NewPCG(1, 1)), 2, 1, 2, 2, 2)); err == nil {
		t.Error("FitNorm accepted an unknown kind")
	} else {
		checkErr(t, err, "whiten", "meanstd, scale, zca or imagenet")
	}
	if _, err := FitNorm(NormMeanStd, &Set{}); err == nil {
		t.Error("FitNorm accepted an empty split")
	}
	for _, tc := range []struct {
		name string
		meta map[string]string
		zca  []float32
		errs []string
	}{
		{"no kind", map[string]string{}, nil, []string{MetaNormKind}},
		{"unknown kind", map[string]string{MetaNormKind: "pca"}, nil, []string{"pca"}},
		{"no std", map[string]string{MetaNormKind: NormMeanStd, MetaNormMean: "[0.5]"}, nil, []string{MetaNormStd}},
		{"bad json", map[string]string{MetaNormKind: NormMeanStd, MetaNormMean: "[0.5,", MetaNormStd: "[1]"}, nil, []string{MetaNormMean, "JSON"}},
		{"lengths differ", map[string]string{MetaNormKind: NormMeanStd, MetaNormMean: "[0.5,0.4]", MetaNormStd: "[1]"}, nil, []string{"one per channel"}},
		{"zero std", map[string]string{MetaNormKind: NormMeanStd, MetaNormMean: "[0.5]", MetaNormStd: "[0]"}, nil, []string{"positive"}},
		{"zca size", map[string]string{MetaNormKind: NormZCA, MetaNormMean: "[0.5,0.5]"}, make([]float32, 3), []string{"3 values", "2 x 2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NormFromMetadata(tc.meta, tc.zca)
			checkErr(t, err, tc.errs...)
		})
	}
}

func BenchmarkNormApplyMeanStd(b *testing.B) {
	s := randomSet(rand.New(rand.NewPCG(1, 2)), 64, 3, 32, 32, 10)
	n, _ := FitNorm(NormMeanStd, s)
	dst := make([]float32, s.ImageSize())
	for b.Loop() {
		for i := range s.N {
			n.Apply(s.Image(i), dst)
		}
	}
	b.ReportMetric(float64(len(s.Pixels))*float64(b.N)/b.Elapsed().Seconds()/1e6, "MB/s")
}
