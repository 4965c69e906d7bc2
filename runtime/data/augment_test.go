package data

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// windowAugment applies the crop window (oy, ox) and flip directly, the way
// Apply does after its draws, through a rand source scripted to return them.
func windowAugment(t *testing.T, a Augment, src []float32, c, h, w, oy, ox int, flip bool) []float32 {
	t.Helper()
	var want []int
	if a.Crop > 0 {
		want = append(want, oy, ox)
	}
	if a.Flip {
		f := 0
		if flip {
			f = 1
		}
		want = append(want, f)
	}
	// Find a seed whose draws are the wanted ones: cheap for tiny ranges.
	for seed := uint64(0); seed < 1<<20; seed++ {
		rng := rand.New(rand.NewPCG(seed, 99))
		ok := true
		for k, v := range want {
			n := 2*a.Crop + 1
			if a.Flip && k == len(want)-1 {
				n = 2
			}
			if rng.IntN(n) != v {
				ok = false
				break
			}
		}
		if ok {
			dst := make([]float32, len(src))
			a.Apply(rand.New(rand.NewPCG(seed, 99)), src, dst, c, h, w)
			return dst
		}
	}
	t.Fatalf("no seed gives draws %v", want)
	return nil
}

func TestAugmentTiny(t *testing.T) {
	src := []float32{
		1, 2, 3,
		4, 5, 6,
		7, 8, 9,
	}
	for _, tc := range []struct {
		name   string
		a      Augment
		oy, ox int
		flip   bool
		want   []float32
	}{
		{"zero padding, window (0, 2)", Augment{Crop: 1}, 0, 2, false, []float32{
			0, 0, 0,
			2, 3, 0,
			5, 6, 0,
		}},
		{"reflect padding, window (0, 2)", Augment{Crop: 1, Reflect: true}, 0, 2, false, []float32{
			5, 6, 5,
			2, 3, 2,
			5, 6, 5,
		}},
		{"reflect padding 2, window (0, 0)", Augment{Crop: 2, Reflect: true}, 0, 0, false, []float32{
			9, 8, 7,
			6, 5, 4,
			3, 2, 1,
		}},
		{"centre window and flip", Augment{Crop: 1, Flip: true}, 1, 1, true, []float32{
			3, 2, 1,
			6, 5, 4,
			9, 8, 7,
		}},
		{"zero padding, window (2, 1), flipped", Augment{Crop: 1, Flip: true}, 2, 1, true, []float32{
			6, 5, 4,
			9, 8, 7,
			0, 0, 0,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := windowAugment(t, tc.a, src, 1, 3, 3, tc.oy, tc.ox, tc.flip)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestAugmentIdentityAndFlipTwice(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 17))
	const c, h, w = 3, 5, 6
	src := make([]float32, c*h*w)
	for i := range src {
		src[i] = rng.Float32()
	}
	dst := make([]float32, len(src))
	Augment{}.Apply(rng, src, dst, c, h, w)
	if diff := cmp.Diff(src, dst); diff != "" {
		t.Errorf("no crop, no flip changed the image (-want +got):\n%s", diff)
	}
	once := windowAugment(t, Augment{Flip: true}, src, c, h, w, 0, 0, true)
	if cmp.Equal(src, once) {
		t.Error("flip left the image unchanged")
	}
	twice := windowAugment(t, Augment{Flip: true}, once, c, h, w, 0, 0, true)
	if diff := cmp.Diff(src, twice); diff != "" {
		t.Errorf("flip twice is not the identity (-want +got):\n%s", diff)
	}
}

func TestAugmentReflectMatchesMirror(t *testing.T) {
	// Build the padded image explicitly (numpy's / PyTorch's "reflect")
	// and compare every window with Apply's output.
	const c, h, w, p = 2, 4, 5, 3
	src := make([]float32, c*h*w)
	for i := range src {
		src[i] = float32(i + 1)
	}
	mirror := func(i, n int) int {
		for i < 0 || i >= n {
			if i < 0 {
				i = -i
			}
			if i >= n {
				i = 2*(n-1) - i
			}
		}
		return i
	}
	for oy := range 2*p + 1 {
		for ox := range 2*p + 1 {
			t.Run(fmt.Sprintf("window %d,%d", oy, ox), func(t *testing.T) {
				got := windowAugment(t, Augment{Crop: p, Reflect: true}, src, c, h, w, oy, ox, false)
				for ch := range c {
					for y := range h {
						for x := range w {
							want := src[ch*h*w+mirror(y+oy-p, h)*w+mirror(x+ox-p, w)]
							if g := got[ch*h*w+y*w+x]; g != want {
								t.Fatalf("(%d,%d,%d) = %g, want %g", ch, y, x, g, want)
							}
						}
					}
				}
			})
		}
	}
}

func TestAugmentDraws(t *testing.T) {
	// Every window offset and both flips occur; flips about half the time.
	rng := rand.New(rand.NewPCG(18, 18))
	const h, w, p = 4, 4, 2
	src := make([]float32, h*w)
	for i := range src {
		src[i] = float32(i)
	}
	seen := map[[2]float32]bool{}
	flips := 0
	const n = 4000
	dst := make([]float32, len(src))
	for range n {
		Augment{Crop: p, Flip: true}.Apply(rng, src, dst, 1, h, w)
		// Two pixels of the output tell the window and the flip apart.
		seen[[2]float32{dst[1*w+1], dst[2*w+2]}] = true
	}
	for range n {
		Augment{Flip: true}.Apply(rng, src, dst, 1, h, w)
		if dst[0] != src[0] {
			flips++
		}
	}
	if flips < n*45/100 || flips > n*55/100 {
		t.Errorf("%d flips of %d", flips, n)
	}
	if len(seen) < 25 {
		t.Errorf("%d distinct windows, want at least %d", len(seen), 25)
	}
}

func TestReflectIndex(t *testing.T) {
	for _, tc := range []struct{ i, n, want int }{
		{-1, 3, 1}, {-2, 3, 2}, {3, 3, 1}, {4, 3, 0}, {-3, 3, 1}, {5, 3, 1}, {0, 1, 0}, {-4, 1, 0}, {2, 2, 0},
	} {
		if got := reflectIndex(tc.i, tc.n); got != tc.want {
			t.Errorf("reflectIndex(%d, %d) = %d, want %d", tc.i, tc.n, got, tc.want)
		}
	}
}
