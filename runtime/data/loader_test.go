package data

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// indexSet returns n images of c x h x w whose label is their index and
// whose first pixel is the index mod 256.
func indexSet(n, c, h, w int) *Set {
	s := &Set{N: n, C: c, H: h, W: w, Pixels: make([]uint8, n*c*h*w), Labels: make([]int32, n)}
	rng := rand.New(rand.NewPCG(19, 19))
	for i := range n {
		img := s.Image(i)
		for p := range img {
			img[p] = uint8(rng.IntN(256))
		}
		img[0] = uint8(i)
		s.Labels[i] = int32(i)
	}
	return s
}

// epochOf runs one epoch and returns the labels and images in order.
func epochOf(t *testing.T, l *Loader, e int) ([]int32, []float32) {
	t.Helper()
	l.Epoch(e)
	var ys []int32
	var xs []float32
	d := l.dim
	x := make([]float32, l.batch*d)
	y := make([]int32, l.batch)
	batches := 0
	for {
		n, ok := l.Next(x, y)
		if !ok {
			break
		}
		batches++
		if n < 1 || n > l.batch || (n < l.batch && len(ys)+n != l.set.N) {
			t.Fatalf("batch %d has %d examples (batch %d, %d seen of %d)", batches, n, l.batch, len(ys), l.set.N)
		}
		ys = append(ys, y[:n]...)
		xs = append(xs, x[:n*d]...)
	}
	if batches != l.Batches() {
		t.Errorf("%d batches, Batches() says %d", batches, l.Batches())
	}
	return ys, xs
}

func TestLoaderEveryExampleOnce(t *testing.T) {
	s := indexSet(103, 1, 2, 3)
	norm := &Norm{Kind: NormScale}
	for _, tc := range []struct {
		batch   int
		shuffle bool
	}{{10, true}, {10, false}, {103, true}, {200, true}, {1, false}} {
		t.Run(fmt.Sprintf("batch %d shuffle %v", tc.batch, tc.shuffle), func(t *testing.T) {
			l := NewLoader(s, norm, nil, tc.batch, tc.shuffle, 7)
			defer l.Close()
			for e := range 3 {
				ys, xs := epochOf(t, l, e)
				sorted := slices.Clone(ys)
				slices.Sort(sorted)
				for i, v := range sorted {
					if v != int32(i) {
						t.Fatalf("epoch %d: example %d appears %s", e, i, "not exactly once")
					}
				}
				if !tc.shuffle && !slices.IsSorted(ys) {
					t.Errorf("epoch %d: unshuffled order %v", e, ys)
				}
				// Each image travels with its label, normalized.
				d := s.ImageSize()
				for k, i := range ys {
					for p, v := range s.Image(int(i)) {
						if xs[k*d+p] != float32(v)/255 {
							t.Fatalf("epoch %d position %d (example %d) value %d: %g, want %g", e, k, i, p, xs[k*d+p], float32(v)/255)
						}
					}
				}
			}
		})
	}
}

func TestLoaderOrderDependsOnSeedAndEpoch(t *testing.T) {
	s := indexSet(50, 1, 2, 2)
	a := NewLoader(s, nil, nil, 8, true, 42)
	b := NewLoader(s, nil, nil, 8, true, 42)
	c := NewLoader(s, nil, nil, 8, true, 43)
	defer a.Close()
	defer b.Close()
	defer c.Close()
	a3, _ := epochOf(t, a, 3)
	a4, _ := epochOf(t, a, 4)
	// b reaches epoch 3 directly, as a resumed run does.
	b3, _ := epochOf(t, b, 3)
	c3, _ := epochOf(t, c, 3)
	if diff := cmp.Diff(a3, b3); diff != "" {
		t.Errorf("same seed and epoch, different order (-want +got):\n%s", diff)
	}
	if cmp.Equal(a3, a4) {
		t.Error("epochs 3 and 4 have the same order")
	}
	if cmp.Equal(a3, c3) {
		t.Error("seeds 42 and 43 give the same order")
	}
}

func TestLoaderAugmentReproducible(t *testing.T) {
	// The augmented batches depend on seed and epoch only, not on the
	// number of goroutines or on what happened before.
	s := indexSet(37, 3, 6, 6)
	norm, err := FitNorm(NormMeanStd, s)
	if err != nil {
		t.Fatal(err)
	}
	aug := &Augment{Flip: true, Crop: 2, Reflect: true}
	run := func(workers int, epochs []int) [][]float32 {
		l := NewLoader(s, norm, aug, 5, true, 3)
		defer l.Close()
		l.workers = workers
		var out [][]float32
		for _, e := range epochs {
			_, xs := epochOf(t, l, e)
			out = append(out, xs)
		}
		return out
	}
	one := run(1, []int{0, 1})
	many := run(4, []int{1, 0})
	if !cmp.Equal(one[0], many[1]) || !cmp.Equal(one[1], many[0]) {
		t.Error("augmented epochs differ between 1 and 4 goroutines or with the epoch order")
	}
	if cmp.Equal(one[0], one[1]) {
		t.Error("epochs 0 and 1 are identical")
	}
	// Augmentation changes the images (compared with no augmentation).
	l := NewLoader(s, norm, nil, 5, true, 3)
	defer l.Close()
	_, plain := epochOf(t, l, 0)
	if cmp.Equal(plain, one[0]) {
		t.Error("augmentation changed nothing")
	}
}

func TestLoaderZCACache(t *testing.T) {
	s := correlatedSet(rand.New(rand.NewPCG(20, 20)), 40)
	norm, err := fitZCA(s, ZCAEpsilon, 100, 1)
	if err != nil {
		t.Fatal(err)
	}
	l := NewLoader(s, norm, nil, 6, false, 1)
	defer l.Close()
	_, first := epochOf(t, l, 0)
	_, second := epochOf(t, l, 1) // from the cache
	want := make([]float32, s.N*s.ImageSize())
	for i := range s.N {
		norm.Apply(s.Image(i), want[i*s.ImageSize():])
	}
	if !cmp.Equal(want, first) || !cmp.Equal(want, second) {
		t.Error("zca batches differ from Norm.Apply")
	}
}

func TestLoaderRestartAndClose(t *testing.T) {
	s := indexSet(30, 1, 1, 1)
	l := NewLoader(s, nil, nil, 4, true, 5)
	x, y := make([]float32, 4), make([]int32, 4)
	l.Next(x, y) // starts epoch 0
	l.Epoch(2)   // abandons it
	got, _ := epochOf(t, l, 2)
	l2 := NewLoader(s, nil, nil, 4, true, 5)
	want, _ := epochOf(t, l2, 2)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("restarted epoch differs (-want +got):\n%s", diff)
	}
	l.Epoch(3)
	l.Next(x, y)
	l.Close()
	l.Close()
	l2.Close()
}

func BenchmarkLoaderMeanStdAugment(b *testing.B) {
	s := randomSet(rand.New(rand.NewPCG(1, 4)), 1024, 3, 32, 32, 10)
	norm, _ := FitNorm(NormMeanStd, s)
	l := NewLoader(s, norm, &Augment{Flip: true, Crop: 4, Reflect: true}, 128, true, 1)
	defer l.Close()
	x, y := make([]float32, 128*s.ImageSize()), make([]int32, 128)
	e := 0
	for b.Loop() {
		l.Epoch(e)
		for {
			if _, ok := l.Next(x, y); !ok {
				break
			}
		}
		e++
	}
	b.ReportMetric(float64(len(s.Pixels))*float64(b.N)/b.Elapsed().Seconds()/1e6, "MB/s")
}

// TestNormAndLoaderRefuse checks that a normalization that does not fit the images (as a
// checkpoint's metadata can hold) and a batch buffer that is too small are errors: Apply
// returns them, and a Loader ends its epoch at once and says why in Err.
func TestNormAndLoaderRefuse(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	set := randomSet(rng, 10, 3, 4, 4, 2)
	bad := []struct {
		name string
		norm *Norm
		want string
	}{
		{"meanstd of 2 channels", &Norm{Kind: NormMeanStd, Mean: []float32{0, 0}, Std: []float32{1, 1}}, "2 means and 2 deviations"},
		{"std missing", &Norm{Kind: NormMeanStd, Mean: []float32{0, 0, 0}}, "3 means and 0 deviations"},
		{"zca of another size", &Norm{Kind: NormZCA, Mean: make([]float32, 4), ZCA: make([]float32, 16)}, "images of 4 values"},
		{"unknown kind", &Norm{Kind: "whiten"}, `unknown normalization "whiten"`},
	}
	for _, b := range bad {
		if err := b.norm.Check(3, 48); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: Check: %v, want %q", b.name, err, b.want)
		}
		l := NewLoader(set, b.norm, nil, 4, false, 0)
		x, y := make([]float32, 4*48), make([]int32, 4)
		if n, ok := l.Next(x, y); ok || n != 0 {
			t.Errorf("%s: Next gave a batch of %d", b.name, n)
		}
		if err := l.Err(); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: Loader.Err: %v, want %q", b.name, err, b.want)
		}
		l.Close()
	}
	l := NewLoader(set, &Norm{Kind: NormScale}, nil, 4, false, 0)
	defer l.Close()
	if _, ok := l.Next(make([]float32, 47), make([]int32, 4)); ok || l.Err() == nil {
		t.Errorf("a buffer too small for the batch: ok %t, Err %v", ok, l.Err())
	}
	if err := (&Norm{Kind: NormScale}).Apply(set.Image(0), make([]float32, 47)); err == nil {
		t.Error("Apply into a short destination: no error")
	}
	mean5 := &Norm{Kind: NormMeanStd, Mean: make([]float32, 5), Std: make([]float32, 5)}
	if err := mean5.Apply(set.Image(0), make([]float32, 48)); err == nil {
		t.Error("Apply of 5-channel statistics to a 48-value image: no error")
	}
}
