package data

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"sync"
)

// zcaCacheLimit bounds the bytes a Loader spends keeping zca-normalized
// images from one epoch to the next (whitening costs D^2 per image).
const zcaCacheLimit = 2 << 30

// Loader yields shuffled (seeded, reproducible) or ordered mini-batches of
// normalized (and, with an Augment, augmented) float32 images [n, C, H, W]
// and their labels. A goroutine prepares the next batch while the current
// one is used, spreading the work of a batch over GOMAXPROCS goroutines.
// The last batch of an epoch may be short. A Loader is not safe for
// concurrent use; Close stops its goroutine.
//
// Everything random depends only on the seed, the epoch and the position in
// the epoch: the order of epoch e, and the augmentation of the k-th example
// of epoch e, are the same in a resumed run and whatever the thread count.
type Loader struct {
	set     *Set
	norm    *Norm
	aug     *Augment
	batch   int
	shuffle bool
	seed    uint64
	workers int
	dim     int

	rank, ranks int // the shard of every global batch this loader yields (Shard)

	cache  []float32 // zca only: normalized images, once computed
	cached []bool
	err    error // why the loader stopped early (Err)

	bufs    [2]*batchBuf
	running bool
	ready   chan *batchBuf
	free    chan *batchBuf
	stop    chan struct{}
	done    chan struct{}
}

type batchBuf struct {
	x []float32
	y []int32
	n int
}

// NewLoader returns a loader over s. norm nil means scale (x/255); aug nil
// (or an Augment that changes nothing) means no augmentation. batch < 1 is
// taken as 1.
func NewLoader(s *Set, norm *Norm, aug *Augment, batch int, shuffle bool, seed uint64) *Loader {
	if norm == nil {
		norm = &Norm{Kind: NormScale}
	}
	if aug != nil && aug.Identity() {
		aug = nil
	}
	l := &Loader{set: s, norm: norm, aug: aug, batch: max(batch, 1), shuffle: shuffle, seed: seed,
		workers: runtime.GOMAXPROCS(0), ranks: 1}
	if s != nil {
		l.dim = s.ImageSize()
		if err := norm.Check(s.C, l.dim); err != nil {
			l.err = err
			l.set = nil // an empty loader: Next ends at once, and Err says why
		}
	}
	if norm.Kind == NormZCA && s != nil && int64(s.N)*int64(l.dim)*4 <= zcaCacheLimit {
		l.cache = make([]float32, s.N*l.dim)
		l.cached = make([]bool, s.N)
	}
	for i := range l.bufs {
		l.bufs[i] = &batchBuf{x: make([]float32, l.batch*l.dim), y: make([]int32, l.batch)}
	}
	return l
}

// Batches returns the number of batches in an epoch.
func (l *Loader) Batches() int {
	if l.set == nil {
		return 0
	}
	if l.ranks > 1 {
		g := l.batch * l.ranks
		n := l.set.N / g
		if l.set.N%g >= l.ranks {
			n++
		}
		return n
	}
	return (l.set.N + l.batch - 1) / l.batch
}

// Shard makes the loader yield the part of rank (0 <= rank < ranks) of every global
// batch of ranks*batch examples, for data-parallel training: every rank shuffles the
// same order and takes examples [rank*batch, (rank+1)*batch) of each global batch, each
// augmented as it would be at its position in the epoch. The last, short global batch
// of r examples is split evenly: every rank takes r/ranks of them (the r mod ranks left
// over are not used, nor the batch when r < ranks), so that every rank's batch has the
// same size at every step. Call it before the first Epoch.
func (l *Loader) Shard(rank, ranks int) {
	l.halt()
	l.rank, l.ranks = rank, max(ranks, 1)
}

// Epoch starts epoch e, abandoning what is left of the current one. With
// shuffling, the order depends only on the seed and e.
func (l *Loader) Epoch(e int) {
	l.halt()
	n := 0
	if l.set != nil {
		n = l.set.N
	}
	order := make([]int32, n)
	for i := range order {
		order[i] = int32(i)
	}
	if l.shuffle {
		shuffle(order, l.seed, uint64(e))
	}
	l.ready = make(chan *batchBuf, 1)
	l.free = make(chan *batchBuf, len(l.bufs))
	for _, b := range l.bufs {
		l.free <- b
	}
	l.stop = make(chan struct{})
	l.done = make(chan struct{})
	l.running = true
	go l.produce(order, uint64(e), l.ready, l.free, l.stop, l.done)
}

// Err reports why Next ended an epoch early: a normalization that does not fit the
// images, or buffers too small for a batch; nil at a normal end.
func (l *Loader) Err() error { return l.err }

// Next fills x (at least batch*C*H*W floats) and y (at least batch labels)
// with the next batch and returns its size; ok is false at the end of the
// epoch, or early when Err says why. Without a prior Epoch call it starts epoch 0.
func (l *Loader) Next(x []float32, y []int32) (n int, ok bool) {
	if l.err != nil {
		return 0, false
	}
	if !l.running {
		l.Epoch(0)
	}
	b, ok := <-l.ready
	if !ok {
		return 0, false
	}
	if len(x) < b.n*l.dim || len(y) < b.n {
		l.err = fmt.Errorf("data: Loader.Next: a batch of %d needs %d floats and %d labels, got %d and %d",
			b.n, b.n*l.dim, b.n, len(x), len(y))
		l.free <- b
		return 0, false
	}
	copy(x, b.x[:b.n*l.dim])
	copy(y, b.y[:b.n])
	n = b.n
	l.free <- b
	return n, true
}

// Close stops the prefetching goroutine.
func (l *Loader) Close() { l.halt() }

// halt stops the producer of the current epoch and waits for it.
func (l *Loader) halt() {
	if !l.running {
		return
	}
	close(l.stop)
	<-l.done
	l.running = false
}

// produce prepares the batches of one epoch in order.
func (l *Loader) produce(order []int32, epoch uint64, ready chan<- *batchBuf, free <-chan *batchBuf, stop, done chan struct{}) {
	defer close(done)
	defer close(ready)
	global := l.batch * l.ranks
	for start := 0; start < len(order); start += global {
		// This rank's part of the global batch at start: per images from lo.
		per := l.batch
		if r := len(order) - start; r < global {
			per = r / l.ranks
		}
		if per == 0 {
			return
		}
		lo := start + l.rank*per
		var b *batchBuf
		select {
		case b = <-free:
		case <-stop:
			return
		}
		idx := order[lo : lo+per]
		l.fill(b, idx, epoch, lo)
		select {
		case ready <- b:
		case <-stop:
			return
		}
	}
}

// fill writes the examples idx (at positions start.. of the epoch) to b,
// over up to l.workers goroutines.
func (l *Loader) fill(b *batchBuf, idx []int32, epoch uint64, start int) {
	b.n = len(idx)
	for k, i := range idx {
		b.y[k] = l.set.Labels[i]
	}
	w := min(l.workers, (len(idx)+3)/4)
	if w <= 1 {
		l.fillRange(b, idx, epoch, start, 0, len(idx))
		return
	}
	per := (len(idx) + w - 1) / w
	var wg sync.WaitGroup
	for lo := 0; lo < len(idx); lo += per {
		wg.Go(func() { l.fillRange(b, idx, epoch, start, lo, min(lo+per, len(idx))) })
	}
	wg.Wait()
}

// fillRange writes examples lo..hi-1 of the batch.
func (l *Loader) fillRange(b *batchBuf, idx []int32, epoch uint64, start, lo, hi int) {
	d := l.dim
	var tmp []float32
	var pcg *rand.PCG
	var rng *rand.Rand
	if l.aug != nil {
		tmp = make([]float32, d)
		pcg = rand.NewPCG(0, 0)
		rng = rand.New(pcg)
	}
	var scratch []float32
	if l.norm.Kind == NormZCA {
		scratch = make([]float32, d)
	}
	for k := lo; k < hi; k++ {
		out := b.x[k*d : (k+1)*d]
		norm := out
		if l.aug != nil {
			norm = tmp
		}
		i := int(idx[k])
		if l.cache != nil && l.cached[i] {
			copy(norm, l.cache[i*d:(i+1)*d])
		} else {
			l.norm.apply(l.set.Image(i), norm, scratch)
			if l.cache != nil {
				copy(l.cache[i*d:(i+1)*d], norm)
				l.cached[i] = true
			}
		}
		if l.aug != nil {
			pcg.Seed(augmentSeed(l.seed, epoch, start+k))
			l.aug.Apply(rng, tmp, out, l.set.C, l.set.H, l.set.W)
		}
	}
}

// splitmix64 is a strong 64-bit mixing function (Vigna's SplitMix64 step).
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// shuffle permutes order (Fisher-Yates) from a PCG stream seeded by seed and
// epoch; the bounded draws are computed here so that the order does not
// depend on math/rand's helpers.
func shuffle(order []int32, seed, epoch uint64) {
	pcg := rand.NewPCG(splitmix64(seed), splitmix64(epoch^0x5348554646))
	for i := len(order) - 1; i > 0; i-- {
		j, _ := bits.Mul64(pcg.Uint64(), uint64(i+1))
		order[i], order[j] = order[j], order[i]
	}
}

// augmentSeed is the PCG seed of the augmentation of the example at
// position pos of epoch epoch.
func augmentSeed(seed, epoch uint64, pos int) (uint64, uint64) {
	return splitmix64(seed ^ 0x4155474d), splitmix64(splitmix64(epoch) ^ uint64(pos))
}
