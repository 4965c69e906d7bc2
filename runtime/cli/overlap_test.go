package cli

import (
	"slices"
	"testing"
)

// fakeBucket is a dist.Bucket of a world of 3 identical ranks: the sum is 3 times the data.
type fakeBucket struct {
	data    []float32
	started *[]int // the lo of every bucket started, in order
	lo      int
	pending bool
}

func (b *fakeBucket) Data() []float32 { return b.data }
func (b *fakeBucket) Start() error {
	*b.started = append(*b.started, b.lo)
	b.pending = true
	return nil
}
func (b *fakeBucket) Test() (bool, error) { return !b.pending, nil }
func (b *fakeBucket) Wait() error {
	if b.pending {
		for i := range b.data {
			b.data[i] *= 3
		}
		b.pending = false
	}
	return nil
}
func (b *fakeBucket) Free() {}

// TestOverlapBuckets checks the order in which the gradient buckets start as the
// backward pass announces final suffixes, and the averages they put back.
func TestOverlapBuckets(t *testing.T) {
	var started []int
	o := &overlap{scale: 1.0 / 3, tr: &traffic{}}
	for hi := 10; hi > 0; hi -= 4 { // [6,10) [2,6) [0,2)
		lo := max(hi-4, 0)
		o.buckets = append(o.buckets, bucket{lo: lo, hi: hi, b: &fakeBucket{data: make([]float32, hi-lo), started: &started, lo: lo}})
	}
	g := []float32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	o.ready(g, 8) // nothing whole yet
	if len(started) != 0 {
		t.Fatalf("started %v before any bucket was final", started)
	}
	o.ready(g, 5) // [6,10) is final
	if !slices.Equal(started, []int{6}) {
		t.Fatalf("after Grads[5:] is final: started %v, want [6]", started)
	}
	g[9] = 99 // a bucket copies its gradients when it starts: later writes of the backward pass to Grads[:lo] only
	o.ready(g, 0)
	if !slices.Equal(started, []int{6, 2, 0}) {
		t.Fatalf("started %v, want [6 2 0]", started)
	}
	if err := o.reduce(g); err != nil {
		t.Fatal(err)
	}
	for i, v := range g {
		if v != float32(i) {
			t.Fatalf("the average of 3 equal ranks changed g: %v", g)
		}
	}
	if o.tr.step.bytes != 40 {
		t.Errorf("%d bytes counted, want 40", o.tr.step.bytes)
	}
	// A backward pass that announces nothing: reduce does it all.
	started = started[:0]
	if err := o.reduce(g); err != nil || !slices.Equal(started, []int{6, 2, 0}) {
		t.Fatalf("reduce without announcements: started %v, %v", started, err)
	}
}
