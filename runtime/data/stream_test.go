package data

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// tinyFolder writes a small image folder of mixed sizes and formats and returns its path.
func tinyFolder(t testing.TB, classes, train, test int) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := WriteImageFolder(dir, FolderSpec{Classes: classes, Train: train, Test: test,
		MinSize: [2]int{12, 10}, MaxSize: [2]int{40, 48}, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// streamEpoch runs epoch e of l and returns the labels and images in order.
func streamEpoch(t *testing.T, l *StreamLoader, e int) ([]int32, []float32) {
	t.Helper()
	l.Epoch(e)
	x := make([]float32, l.cfg.Batch*l.dim)
	y := make([]int32, l.cfg.Batch)
	var ys []int32
	var xs []float32
	batches := 0
	for {
		n, ok := l.Next(x, y)
		if !ok {
			break
		}
		batches++
		ys = append(ys, y[:n]...)
		xs = append(xs, x[:n*l.dim]...)
	}
	if err := l.Err(); err != nil {
		t.Fatal(err)
	}
	if batches != l.Batches() {
		t.Errorf("%d batches, Batches() says %d", batches, l.Batches())
	}
	return ys, xs
}

func newStream(t *testing.T, src *Source, cfg StreamConfig) *StreamLoader {
	t.Helper()
	l, err := NewStreamLoader(src, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	return l
}

func TestOpenStreamFolder(t *testing.T) {
	dir := tinyFolder(t, 3, 5, 2)
	// Files that are not images, and hidden ones, are skipped.
	writeFile(t, filepath.Join(dir, "train", "class00", "notes.txt"), []byte("x"))
	writeFile(t, filepath.Join(dir, "train", ".cache", "x.png"), []byte("x"))
	s, err := OpenStream(dir, [3]int{3, 16, 16}, 3, 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"class00", "class01", "class02"}, s.Classes); diff != "" {
		t.Errorf("classes (-want +got):\n%s", diff)
	}
	want := []int32{0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2}
	if diff := cmp.Diff(want, s.Train.Labels); diff != "" {
		t.Errorf("train labels (-want +got):\n%s", diff)
	}
	if s.Test.Len() != 6 || s.Format != FormatFolder {
		t.Errorf("test split of %d, format %q; want 6, %q", s.Test.Len(), s.Format, FormatFolder)
	}
	if got := s.Train.Name(5); got != filepath.Join(dir, "train", "class01", "000.jpg") {
		t.Errorf("Name(5) = %s", got)
	}
	// Every image decodes, in training and in evaluation, shuffled or not.
	for _, train := range []bool{true, false} {
		l := newStream(t, s.Train, StreamConfig{Input: [3]int{3, 16, 16}, Norm: ImageNetNorm(), Train: train, Flip: true, Batch: 4, Shuffle: train, Seed: 3})
		ys, xs := streamEpoch(t, l, 0)
		if len(xs) != 15*3*16*16 {
			t.Fatalf("train=%v: %d floats, want %d", train, len(xs), 15*3*16*16)
		}
		sorted := slices.Clone(ys)
		slices.Sort(sorted)
		if diff := cmp.Diff(want, sorted); diff != "" {
			t.Errorf("train=%v: labels of an epoch (-want +got):\n%s", train, diff)
		}
		if !train && !slices.Equal(ys, want) {
			t.Errorf("unshuffled labels %v, want %v", ys, want)
		}
	}
	// --limit takes from every class in turn.
	s, err = OpenStream(dir, [3]int{3, 16, 16}, 3, 4)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int32{0, 0, 1, 2}, s.Train.Labels); diff != "" {
		t.Errorf("limited labels (-want +got):\n%s", diff)
	}
}

func TestOpenStreamVal(t *testing.T) {
	dir := tinyFolder(t, 2, 2, 1)
	if err := os.Rename(filepath.Join(dir, "test"), filepath.Join(dir, "val")); err != nil {
		t.Fatal(err)
	}
	s, err := OpenStream(dir, [3]int{3, 8, 8}, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	if s.Test.Len() != 2 || s.Train.Len() != 4 {
		t.Errorf("train %d, test %d; want 4 and 2 (from val/)", s.Train.Len(), s.Test.Len())
	}
	// The test split alone needs no train/.
	if err := os.RemoveAll(filepath.Join(dir, "train")); err != nil {
		t.Fatal(err)
	}
	s, err = OpenStreamTest(dir, [3]int{3, 8, 8}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if s.Test.Len() != 2 || s.Train.Len() != 0 {
		t.Errorf("test only: train %d, test %d; want 0 and 2", s.Train.Len(), s.Test.Len())
	}
}

func TestOpenStreamErrors(t *testing.T) {
	want := [3]int{3, 8, 8}
	t.Run("no test split", func(t *testing.T) {
		dir := tinyFolder(t, 2, 1, 0)
		_, err := OpenStream(dir, want, 2, 0)
		checkErr(t, err, filepath.Join(dir, "test"), "train/CLASS")
	})
	t.Run("empty class", func(t *testing.T) {
		dir := tinyFolder(t, 2, 1, 1)
		if err := os.MkdirAll(filepath.Join(dir, "train", "empty"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, "test", "empty"), 0o755); err != nil {
			t.Fatal(err)
		}
		_, err := OpenStream(dir, want, 3, 0)
		checkErr(t, err, filepath.Join(dir, "train", "empty"), "no .png, .jpg or .jpeg images")
	})
	t.Run("class count", func(t *testing.T) {
		_, err := OpenStream(tinyFolder(t, 2, 1, 1), want, 5, 0)
		checkErr(t, err, "2 class folders", "the network has 5 classes")
	})
	t.Run("test classes differ", func(t *testing.T) {
		dir := tinyFolder(t, 2, 1, 1)
		if err := os.Rename(filepath.Join(dir, "test", "class01"), filepath.Join(dir, "test", "other")); err != nil {
			t.Fatal(err)
		}
		_, err := OpenStream(dir, want, 2, 0)
		checkErr(t, err, "differ", "missing [class01]")
	})
	t.Run("channels", func(t *testing.T) {
		_, err := OpenStream(tinyFolder(t, 2, 1, 1), [3]int{2, 8, 8}, 2, 0)
		checkErr(t, err, "2 channels")
	})
}

// TestStreamBadImages checks that a corrupt, truncated or foreign file ends the epoch
// with an error naming it (the first bad one in epoch order, whatever the thread count),
// without a panic.
func TestStreamBadImages(t *testing.T) {
	good, err := os.ReadFile(filepath.Join(tinyFolder(t, 1, 1, 0), "train", "class00", "000.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	corrupt := slices.Clone(good)
	for i := len(corrupt) / 3; i < len(corrupt)-2; i++ {
		corrupt[i] = 0xff
	}
	for _, tc := range []struct {
		name string
		data []byte
		msg  string
	}{
		{"truncated", good[:len(good)/2], "cannot decode"},
		{"corrupt", corrupt, "cannot decode"},
		{"not an image", []byte("hello, world"), "not a PNG or JPEG file"},
		{"empty", nil, "not a PNG or JPEG file"},
		{"header only", good[:20], "cannot decode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tinyFolder(t, 2, 6, 1)
			bad := filepath.Join(dir, "train", "class01", "002.jpg") // image 8
			later := filepath.Join(dir, "train", "class01", "004.jpg")
			writeFile(t, bad, tc.data)
			writeFile(t, later, tc.data)
			s, err := OpenStream(dir, [3]int{3, 8, 8}, 2, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, workers := range []int{1, 4} {
				l := newStream(t, s.Train, StreamConfig{Input: [3]int{3, 8, 8}, Train: true, Batch: 3, Workers: workers})
				x, y := make([]float32, 3*3*64), make([]int32, 3)
				batches := 0
				for {
					if _, ok := l.Next(x, y); !ok {
						break
					}
					batches++
				}
				checkErr(t, l.Err(), bad, tc.msg)
				if batches != 2 { // images 0..5 are good, 8 (class01/002) is in the third batch
					t.Errorf("workers %d: %d good batches before the error, want 2", workers, batches)
				}
				if _, ok := l.Next(x, y); ok {
					t.Error("Next goes on after an error")
				}
			}
		})
	}
}

// TestStreamDeterministic checks that the batches depend on the seed and the epoch only:
// not on the workers, the queue's depth, an epoch abandoned half way, or a new loader.
func TestStreamDeterministic(t *testing.T) {
	dir := tinyFolder(t, 3, 7, 1)
	s, err := OpenStream(dir, [3]int{3, 12, 10}, 3, 0)
	if err != nil {
		t.Fatal(err)
	}
	cfg := StreamConfig{Input: [3]int{3, 12, 10}, Norm: ImageNetNorm(), Train: true, Flip: true, Batch: 4, Shuffle: true, Seed: 9}
	run := func(workers, ahead int, abandon bool) [2][]float32 {
		c := cfg
		c.Workers, c.Ahead = workers, ahead
		l := newStream(t, s.Train, c)
		var out [2][]float32
		for e := range 2 {
			if abandon {
				l.Epoch(e)
				x, y := make([]float32, 4*l.dim), make([]int32, 4)
				l.Next(x, y)
			}
			_, out[e] = streamEpoch(t, l, e)
		}
		return out
	}
	want := run(1, 1, false)
	if slices.Equal(want[0], want[1]) {
		t.Error("epochs 0 and 1 gave the same batches")
	}
	for _, tc := range []struct {
		workers, ahead int
		abandon        bool
	}{{4, 2, false}, {3, 5, true}, {16, 1, true}} {
		got := run(tc.workers, tc.ahead, tc.abandon)
		for e := range 2 {
			if !slices.Equal(want[e], got[e]) {
				t.Errorf("workers %d, ahead %d, abandon %v: epoch %d differs from one worker's", tc.workers, tc.ahead, tc.abandon, e)
			}
		}
	}
	other := cfg
	other.Seed = 10
	_, x := streamEpoch(t, newStream(t, s.Train, other), 0)
	if slices.Equal(x, want[0]) {
		t.Error("seeds 9 and 10 gave the same epoch")
	}
}

// TestStreamValues recomputes every image of an epoch from its definition: the shuffled
// order, then for training the crop and flip drawn from the example's own seed, resized by
// the float64 formula, normalized; for evaluation the resize and centre window.
func TestStreamValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	set := randomSet(rng, 11, 3, 30, 21, 4)
	src := SourceOf(set)
	in := [3]int{3, 14, 17}
	norm := ImageNetNorm()
	for _, train := range []bool{true, false} {
		const seed, epoch = 21, 3
		l := newStream(t, src, StreamConfig{Input: in, Norm: norm, Train: train, Flip: true, Batch: 4, Shuffle: true, Seed: seed, Workers: 3})
		ys, xs := streamEpoch(t, l, epoch)
		order := make([]int32, set.N)
		for i := range order {
			order[i] = int32(i)
		}
		shuffle(order, seed, epoch)
		d := 3 * in[1] * in[2]
		flips := 0
		for pos, i := range order {
			if ys[pos] != set.Labels[i] {
				t.Fatalf("train=%v position %d: label %d, want %d", train, pos, ys[pos], set.Labels[i])
			}
			pic := &picture{c: 3, h: set.H, w: set.W, pix: set.Image(int(i))}
			crop, rh, rw, win, flip := Rect{H: set.H, W: set.W}, in[1], in[2], Rect{H: in[1], W: in[2]}, false
			if train {
				pcg := rand.NewPCG(augmentSeed(seed, epoch, pos))
				r := rand.New(pcg)
				crop = CropParams(r, set.H, set.W)
				flip = r.Float64() < 0.5
			} else {
				rh, rw, win = EvalGeometry(set.H, set.W, in[1], in[2])
			}
			if flip {
				flips++
			}
			ref := resizeRef(pic, crop, rh, rw, win)
			for ch := range 3 {
				for y := range in[1] {
					for x := range in[2] {
						sx := x
						if flip {
							sx = in[2] - 1 - x
						}
						v := ref[(ch*in[1]+y)*in[2]+sx]
						want := (v/255 - float64(norm.Mean[ch])) / float64(norm.Std[ch])
						if got := xs[pos*d+(ch*in[1]+y)*in[2]+x]; !closeTo(got, want) {
							t.Fatalf("train=%v position %d (image %d, crop %+v, flip %v) channel %d (%d, %d): %v, want %v",
								train, pos, i, crop, flip, ch, y, x, got, want)
						}
					}
				}
			}
		}
		if train && (flips == 0 || flips == set.N) {
			t.Errorf("%d of %d images flipped", flips, set.N)
		}
	}
}

// TestStreamFileValues checks the file path: a random crop of a JPEG converted after
// cropping equals the same crop of the whole decoded image.
func TestStreamFileValues(t *testing.T) {
	dir := tinyFolder(t, 2, 4, 1)
	s, err := OpenStream(dir, [3]int{3, 9, 11}, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	in := [3]int{3, 9, 11}
	l := newStream(t, s.Train, StreamConfig{Input: in, Train: true, Batch: 8, Seed: 2})
	_, xs := streamEpoch(t, l, 0)
	d := 3 * 9 * 11
	for i := range s.Train.Len() {
		path := s.Train.Name(i)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var whole picture
		if err := decodePicture(path, b, 3, maxPicturePixels, func(h, w int) Rect { return Rect{H: h, W: w} }, &whole); err != nil {
			t.Fatal(err)
		}
		crop := CropParams(rand.New(rand.NewPCG(augmentSeed(2, 0, i))), whole.h, whole.w)
		ref := resizeRef(&whole, crop, 9, 11, Rect{H: 9, W: 11})
		for k, v := range ref {
			if got := xs[i*d+k]; !closeTo(got, v/255) {
				t.Fatalf("%s, crop %+v: value %d = %v, want %v", path, crop, k, got, v/255)
			}
		}
	}
}

// TestStreamShard checks that the ranks of a data-parallel run share every global batch
// as Loader.Shard does, each image as the single loader makes it at that position.
func TestStreamShard(t *testing.T) {
	set := randomSet(rand.New(rand.NewPCG(6, 6)), 23, 3, 12, 12, 5)
	cfg := StreamConfig{Input: [3]int{3, 8, 8}, Train: true, Flip: true, Batch: 6, Shuffle: true, Seed: 4}
	ys, xs := streamEpoch(t, newStream(t, SourceOf(set), cfg), 1)
	d := 3 * 8 * 8
	const ranks = 2
	cfg.Batch = 3
	parts := make([][]int32, ranks)
	for r := range ranks {
		l := newStream(t, SourceOf(set), cfg)
		l.Shard(r, ranks)
		ry, rx := streamEpoch(t, l, 1)
		parts[r] = ry
		for k, b := range shardBatches(set.N, 3, r, ranks) {
			lo, per := b[0], b[1]
			if !slices.Equal(ry[k*3:k*3+per], ys[lo:lo+per]) || !slices.Equal(rx[k*3*d:(k*3+per)*d], xs[lo*d:(lo+per)*d]) {
				t.Errorf("rank %d batch %d differs from positions %d..%d of the single loader", r, k, lo, lo+per-1)
			}
		}
	}
	// 23 = 3 global batches of 6 and 5 left: 2 each, 1 unused.
	if len(parts[0]) != 11 || len(parts[1]) != 11 {
		t.Errorf("ranks took %d and %d images, want 11 each", len(parts[0]), len(parts[1]))
	}
}

// TestStreamClose checks that closing (or abandoning) an epoch stops every goroutine.
func TestStreamClose(t *testing.T) {
	dir := tinyFolder(t, 2, 10, 1)
	s, err := OpenStream(dir, [3]int{3, 16, 16}, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	l, err := NewStreamLoader(s.Train, StreamConfig{Input: [3]int{3, 16, 16}, Train: true, Batch: 2, Workers: 6})
	if err != nil {
		t.Fatal(err)
	}
	x, y := make([]float32, 2*3*16*16), make([]int32, 2)
	for e := range 3 {
		l.Epoch(e)
		l.Next(x, y)
	}
	l.Close()
	l.Close() // twice is fine
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after Close, %d before", n, before)
	}
}

func TestStreamConfigErrors(t *testing.T) {
	src := SourceOf(randomSet(rand.New(rand.NewPCG(1, 1)), 2, 3, 4, 4, 2))
	for _, tc := range []struct {
		cfg StreamConfig
		msg string
	}{
		{StreamConfig{Input: [3]int{3, 0, 4}}, "must be positive"},
		{StreamConfig{Input: [3]int{1, 4, 4}}, "read as 3 channels, the network takes 1"},
		{StreamConfig{Input: [3]int{3, 4, 4}, Norm: &Norm{Kind: NormZCA}}, "zca"},
		{StreamConfig{Input: [3]int{3, 4, 4}, Norm: &Norm{Kind: NormMeanStd, Mean: []float32{0.5}, Std: []float32{1}}}, "1 means"},
	} {
		_, err := NewStreamLoader(src, tc.cfg)
		checkErr(t, err, tc.msg)
	}
	// A buffer too small for the batch ends the epoch with an error.
	l := newStream(t, src, StreamConfig{Input: [3]int{3, 4, 4}, Batch: 2})
	if _, ok := l.Next(make([]float32, 10), make([]int32, 2)); ok {
		t.Fatal("Next filled a buffer too small")
	}
	checkErr(t, l.Err(), "needs 96 floats")
}

// TestWriteImageFolder checks the test helper: the counts, sizes and formats it promises,
// and the same files from the same spec.
func TestWriteImageFolder(t *testing.T) {
	spec := FolderSpec{Classes: 3, Train: 4, Test: 2, MinSize: [2]int{20, 30}, MaxSize: [2]int{25, 40}, Seed: 7}
	a, b := t.TempDir(), t.TempDir()
	n, err := WriteImageFolder(a, spec)
	if err != nil || n != 18 {
		t.Fatalf("wrote %d files (%v), want 18", n, err)
	}
	if _, err := WriteImageFolder(b, spec); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(a, "*", "*", "*"))
	exts := map[string]int{}
	for _, f := range files {
		exts[filepath.Ext(f)]++
		rel, _ := filepath.Rel(a, f)
		x, _ := os.ReadFile(f)
		y, _ := os.ReadFile(filepath.Join(b, rel))
		if !slices.Equal(x, y) {
			t.Errorf("%s differs between two writes of one spec", rel)
		}
		var p picture
		if err := decodePicture(f, x, 3, maxPicturePixels, func(h, w int) Rect {
			if h < 20 || h > 25 || w < 30 || w > 40 {
				t.Errorf("%s is %dx%d, outside [20, 25] x [30, 40]", rel, h, w)
			}
			return Rect{H: h, W: w}
		}, &p); err != nil {
			t.Error(err)
		}
	}
	if exts[".jpg"] != 9 || exts[".png"] != 9 { // per class: train jpg png jpg png, test jpg png
		t.Errorf("extensions %v, want 9 .jpg and 9 .png", exts)
	}
	for _, bad := range []FolderSpec{{Classes: 0, Train: 1, MinSize: [2]int{1, 1}, MaxSize: [2]int{1, 1}}, {Classes: 1, Train: 1, MinSize: [2]int{5, 5}, MaxSize: [2]int{4, 9}}} {
		if _, err := WriteImageFolder(t.TempDir(), bad); err == nil {
			t.Errorf("WriteImageFolder(%+v) accepted", bad)
		}
	}
}
