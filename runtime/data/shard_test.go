package data

import (
	"slices"
	"testing"
)

// TestLoaderShard checks that the shards of 3 ranks are disjoint parts of each global
// batch of the single loader with 3 times the batch, augmented alike, with the short
// last global batch split evenly.
func TestLoaderShard(t *testing.T) {
	const n, b, ranks = 47, 4, 3 // 3 global batches of 12, then 11: 3 each, 2 left over
	s := indexSet(n, 1, 6, 6)
	aug := &Augment{Flip: true, Crop: 2}
	whole := NewLoader(s, nil, aug, b*ranks, true, 5)
	defer whole.Close()
	wy, wx := epochOf(t, whole, 1)
	d := s.ImageSize()
	var got [ranks][]int32
	for r := range ranks {
		l := NewLoader(s, nil, aug, b, true, 5)
		l.Shard(r, ranks)
		l.Epoch(1)
		x, y := make([]float32, b*d), make([]int32, b)
		var sizes []int
		for {
			m, ok := l.Next(x, y)
			if !ok {
				break
			}
			sizes = append(sizes, m)
			start := 0
			for _, z := range sizes[:len(sizes)-1] {
				start += z * ranks
			}
			lo := start + r*m
			if !slices.Equal(y[:m], wy[lo:lo+m]) || !slices.Equal(x[:m*d], wx[lo*d:(lo+m)*d]) {
				t.Errorf("rank %d batch %d: not images [%d, %d) of the epoch", r, len(sizes), lo, lo+m)
			}
			got[r] = append(got[r], y[:m]...)
		}
		l.Close()
		if want := []int{4, 4, 4, 3}; !slices.Equal(sizes, want) {
			t.Errorf("rank %d: batches of %v, want %v", r, sizes, want)
		}
		if l.Batches() != 4 {
			t.Errorf("rank %d: Batches() = %d, want 4", r, l.Batches())
		}
	}
	seen := map[int32]bool{}
	for _, g := range got {
		for _, y := range g {
			if seen[y] {
				t.Errorf("image %d in two shards", y)
			}
			seen[y] = true
		}
	}
	if len(seen) != n-2 {
		t.Errorf("%d images used, want %d", len(seen), n-2)
	}
}
