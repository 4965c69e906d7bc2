package data

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// script is a cropSampler that plays back fixed draws and records the bounds asked for.
type script struct {
	t      *testing.T
	floats []float64
	ints   []int
	bounds []int // the n of every IntN call
}

func (s *script) Float64() float64 {
	if len(s.floats) == 0 {
		s.t.Fatal("CropParams drew more reals than scripted")
	}
	v := s.floats[0]
	s.floats = s.floats[1:]
	return v
}

func (s *script) IntN(n int) int {
	s.bounds = append(s.bounds, n)
	if len(s.ints) == 0 {
		s.t.Fatal("CropParams drew more integers than scripted")
	}
	v := s.ints[0]
	s.ints = s.ints[1:]
	return v
}

// TestCropParamsScripted follows torchvision's get_params through scripted draws,
// worked out by hand from its code.
func TestCropParamsScripted(t *testing.T) {
	tests := []struct {
		name   string
		h, w   int
		floats []float64
		ints   []int
		want   Rect
		bounds []int
	}{
		{
			// Image 100 x 200, area 20000. Attempt 1: scale 1, ratio 4/3: w = round(sqrt(26666.7))
			// = 163, h = round(sqrt(15000)) = 122 > 100, a miss. Attempt 2: scale 0.54 (area
			// 10800), ratio 1: 104 x 104, a miss. Attempt 3: scale 0.08 (1600), ratio 1: 40 x 40
			// fits; top in [0, 61), left in [0, 161).
			name: "third attempt", h: 100, w: 200,
			floats: []float64{1, 1, 0.5, 0.5, 0, 0.5}, ints: []int{7, 150},
			want: Rect{Top: 7, Left: 150, H: 40, W: 40}, bounds: []int{61, 161},
		},
		{
			// Ratio 3/4 (u = 0) at scale 0.5 of 300 x 300 = 45000: w = round(sqrt(33750)) = 184,
			// h = round(sqrt(60000)) = 245.
			name: "first attempt, tall", h: 300, w: 300,
			floats: []float64{(0.5 - 0.08) / 0.92, 0}, ints: []int{0, 116},
			want: Rect{Top: 0, Left: 116, H: 245, W: 184}, bounds: []int{56, 117},
		},
		{
			// Ten misses (scale 1, ratio 4/3 never fits a square), then the whole image.
			name: "fallback, square", h: 10, w: 10,
			floats: repeat(20, 1),
			want:   Rect{Top: 0, Left: 0, H: 10, W: 10},
		},
		{
			// Ten misses on 30 x 100 (ratio 3.33 > 4/3): h = 30, w = round(40) = 40, centred:
			// left = (100 - 40) // 2 = 30.
			name: "fallback, wide", h: 30, w: 100,
			floats: repeat(20, 1),
			want:   Rect{Top: 0, Left: 30, H: 30, W: 40},
		},
		{
			// Ten misses on 101 x 30 (ratio 0.297 < 3/4): w = 30, h = round(30 / 0.75) = 40,
			// top = (101 - 40) // 2 = 30.
			name: "fallback, tall", h: 101, w: 30,
			floats: repeat(20, 1),
			want:   Rect{Top: 30, Left: 0, H: 40, W: 30},
		},
		{
			// Ten misses on 3 x 10: h = 3, w = round(3 * 4/3) = round(4.0) = 4, left = 3.
			name: "fallback, small wide", h: 3, w: 10,
			floats: repeat(20, 1),
			want:   Rect{Top: 0, Left: 3, H: 3, W: 4},
		},
		{
			// Half to even as Python's round: scale 0.08 of 1 x 1 with ratio 1 gives
			// sqrt(0.08) = 0.28 -> 0, a miss every time; the fallback is the whole pixel.
			name: "one pixel", h: 1, w: 1,
			floats: append(repeat(19, 0), 0.5),
			want:   Rect{H: 1, W: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &script{t: t, floats: tt.floats, ints: tt.ints}
			got := CropParams(s, tt.h, tt.w)
			if got != tt.want {
				t.Errorf("CropParams(%d x %d) = %+v, want %+v", tt.h, tt.w, got, tt.want)
			}
			if len(s.floats) != 0 || len(s.ints) != 0 {
				t.Errorf("%d reals and %d integers left undrawn", len(s.floats), len(s.ints))
			}
			if diff := cmp.Diff(tt.bounds, s.bounds); diff != "" {
				t.Errorf("IntN bounds (-want +got):\n%s", diff)
			}
		})
	}
}

func repeat(n int, v float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// TestCropParamsProperties draws many crops with a fixed seed and checks get_params'
// guarantees: inside the image; an area of 8% to 100% of it and a ratio of 3/4 to 4/3 up
// to the rounding of the sides; uniform positions; log-uniform ratios (symmetric around
// 1 on a square image); the central fallback for images no crop in range fits.
func TestCropParamsProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	sizes := [][2]int{{224, 224}, {375, 500}, {500, 333}, {64, 64}, {1000, 80}, {7, 9}, {1, 1}, {2, 300}}
	for _, sz := range sizes {
		h, w := sz[0], sz[1]
		var logRatio, pos float64
		var n, fallbacks int
		central := centralCrop(h, w)
		for range 4000 {
			r := CropParams(rng, h, w)
			if r.Top < 0 || r.Left < 0 || r.H < 1 || r.W < 1 || r.Top+r.H > h || r.Left+r.W > w {
				t.Fatalf("%d x %d: crop %+v outside the image", h, w, r)
			}
			// The sides are round(sqrt(A r)) and round(sqrt(A / r)) for A in [0.08, 1] x area,
			// r in [3/4, 4/3]: undo the rounding by half a pixel either way.
			hi := func(x int) float64 { return float64(x) + 0.5 }
			lo := func(x int) float64 { return math.Max(float64(x)-0.5, 1e-9) }
			okArea := hi(r.H)*hi(r.W) >= CropScaleMin*float64(h*w) && lo(r.H)*lo(r.W) <= CropScaleMax*float64(h*w)
			okRatio := hi(r.W)/lo(r.H) >= CropRatioMin && lo(r.W)/hi(r.H) <= CropRatioMax
			if !okArea || !okRatio {
				if r != central {
					t.Fatalf("%d x %d: crop %+v is neither in range nor the central fallback %+v", h, w, r, central)
				}
				fallbacks++
				continue
			}
			n++
			logRatio += math.Log(float64(r.W) / float64(r.H))
			if h > r.H {
				pos += float64(r.Top) / float64(h-r.H)
			} else {
				pos += 0.5
			}
		}
		if h >= 64 && w >= 64 && float64(h)/float64(w) < 2 && float64(w)/float64(h) < 2 {
			if fallbacks > 40 {
				t.Errorf("%d x %d: %d fallbacks in 4000", h, w, fallbacks)
			}
			// A non-square image accepts crops of its own shape more often; a square one
			// accepts both sides alike.
			if m := logRatio / float64(n); h == w && math.Abs(m) > 0.02 {
				t.Errorf("%d x %d: mean log ratio %.4f, want about 0 (log-uniform in [log 3/4, log 4/3])", h, w, m)
			}
			if m := pos / float64(n); math.Abs(m-0.5) > 0.03 {
				t.Errorf("%d x %d: mean relative top %.3f, want about 0.5", h, w, m)
			}
		}
	}
	// No crop of the ratio range fits these images: always the central crop.
	for _, sz := range [][2]int{{10, 1000}, {1000, 10}} {
		want := centralCrop(sz[0], sz[1])
		for range 100 {
			if got := CropParams(rng, sz[0], sz[1]); got != want {
				t.Fatalf("%v: crop %+v, want the fallback %+v", sz, got, want)
			}
		}
	}
	if got, want := centralCrop(10, 1000), (Rect{Top: 0, Left: 493, H: 10, W: 13}); got != want {
		t.Errorf("centralCrop(10, 1000) = %+v, want %+v", got, want)
	}
	if got, want := centralCrop(1000, 10), (Rect{Top: 493, Left: 0, H: 13, W: 10}); got != want {
		t.Errorf("centralCrop(1000, 10) = %+v, want %+v", got, want)
	}
}

// TestCropParamsSeeded checks that a seed gives the same crops.
func TestCropParamsSeeded(t *testing.T) {
	draw := func() []Rect {
		rng := rand.New(rand.NewPCG(5, 6))
		var out []Rect
		for range 50 {
			out = append(out, CropParams(rng, 333, 500))
		}
		return out
	}
	if diff := cmp.Diff(draw(), draw()); diff != "" {
		t.Errorf("two draws with one seed differ:\n%s", diff)
	}
}

// TestEvalGeometry checks Resize(round(input*256/224)) then CenterCrop(input), worked out
// from torchvision's _compute_resized_output_size and center_crop (offsets rounded half
// to even, as Python's round).
func TestEvalGeometry(t *testing.T) {
	tests := []struct {
		ih, iw, h, w int
		rh, rw       int
		win          Rect
	}{
		{375, 500, 224, 224, 256, 341, Rect{16, 58, 224, 224}}, // left (341-224)/2 = 58.5 -> 58
		{500, 375, 224, 224, 341, 256, Rect{58, 16, 224, 224}},
		{224, 224, 224, 224, 256, 256, Rect{16, 16, 224, 224}},
		{256, 256, 224, 224, 256, 256, Rect{16, 16, 224, 224}},
		{200, 300, 64, 64, 73, 109, Rect{4, 22, 64, 64}},  // 73 = round(73.14); 109 = int(109.5); 4.5 -> 4, 22.5 -> 22
		{32, 32, 32, 32, 37, 37, Rect{2, 2, 32, 32}},      // 37 = round(36.57); 2.5 -> 2
		{100, 100, 64, 96, 110, 110, Rect{23, 7, 64, 96}}, // the longer input side sets the resize
		{1, 1, 8, 8, 9, 9, Rect{0, 0, 8, 8}},              // 9 = round(9.14); 0.5 -> 0
		{3, 1000, 16, 16, 18, 6000, Rect{1, 2992, 16, 16}},
	}
	for _, tt := range tests {
		rh, rw, win := EvalGeometry(tt.ih, tt.iw, tt.h, tt.w)
		if rh != tt.rh || rw != tt.rw || win != tt.win {
			t.Errorf("EvalGeometry(%d, %d, %d, %d) = %d, %d, %+v; want %d, %d, %+v", tt.ih, tt.iw, tt.h, tt.w, rh, rw, win, tt.rh, tt.rw, tt.win)
		}
	}
	if got := EvalResizeSide(224, 224); got != 256 {
		t.Errorf("EvalResizeSide(224, 224) = %d, want 256", got)
	}
}
