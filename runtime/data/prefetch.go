package data

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
)

// DefaultAhead is how many batches a StreamLoader prepares ahead of the one in use.
const DefaultAhead = 2

// StreamConfig says how a StreamLoader turns the images of a Source into batches.
type StreamConfig struct {
	Input [3]int // the network's C, H, W
	// Norm maps pixel values to the network's input: scale, meanstd or imagenet (nil is
	// scale). zca, which needs images of the input size, is an error.
	Norm *Norm
	// Train selects the training transform: torchvision's RandomResizedCrop to the input
	// size (CropParams, then a bilinear resize), and with Flip a horizontal flip with
	// probability 1/2. Otherwise evaluation's: resize the shorter side to
	// EvalResizeSide and take the centre crop (EvalGeometry).
	Train, Flip bool
	Batch       int    // images per batch (< 1 is taken as 1); the last may be short
	Shuffle     bool   // a new order every epoch, from Seed and the epoch
	Seed        uint64 // of the order and of the augmentation
	Workers     int    // goroutines that decode and transform images; < 1 is GOMAXPROCS
	Ahead       int    // batches prepared ahead of the one in use; < 1 is DefaultAhead
}

// StreamLoader yields batches of images read from a Source as they are needed: while the
// caller works on one batch, Workers goroutines decode and transform the images of the
// next Ahead batches. It has the methods of Loader and the same guarantees: batches come
// in order, and everything random depends only on the seed, the epoch and the position in
// the epoch (the order of epoch e, and the crop and flip of the k-th example of epoch e),
// never on the thread count or the timing. An image that cannot be read (a corrupt or
// truncated file) ends the epoch: Next returns false and Err names the file, the first
// bad one in epoch order. A StreamLoader is not safe for concurrent use; Close stops its
// goroutines.
type StreamLoader struct {
	src  *Source
	cfg  StreamConfig
	norm affine
	dim  int
	bufs [][]float32 // Ahead batch buffers, reused from epoch to epoch

	rank, ranks int
	err         error

	running bool
	ordered chan *streamBatch // the batches of the epoch in order, as they are started
	free    chan []float32
	stop    chan struct{}
	wg      sync.WaitGroup // the dispatcher and the workers of the epoch
}

// streamBatch is one batch in preparation: pending counts the images not yet written.
type streamBatch struct {
	x       []float32
	y       []int32
	errs    []error // per image of the batch
	pending sync.WaitGroup
}

// streamTask is one image to prepare: image idx of the source, at position pos of the
// epoch, into slot k of batch b.
type streamTask struct {
	b           *streamBatch
	k, idx, pos int
}

// NewStreamLoader returns a loader over src. The configuration is checked here: a
// normalization that cannot map pixels one channel at a time, or a source whose channels
// are not the input's, is an error.
func NewStreamLoader(src *Source, cfg StreamConfig) (*StreamLoader, error) {
	c, h, w := cfg.Input[0], cfg.Input[1], cfg.Input[2]
	if c < 1 || h < 1 || w < 1 {
		return nil, fmt.Errorf("data: input shape %s must be positive", shapeString(cfg.Input))
	}
	if src.Channels() != c && src.Len() > 0 {
		return nil, fmt.Errorf("data: the images are read as %d channels, the network takes %d", src.Channels(), c)
	}
	norm := cfg.Norm
	if norm == nil {
		norm = &Norm{Kind: NormScale}
	}
	aff, err := norm.affine(c)
	if err != nil {
		return nil, err
	}
	cfg.Batch = max(cfg.Batch, 1)
	if cfg.Workers < 1 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.Ahead < 1 {
		cfg.Ahead = DefaultAhead
	}
	l := &StreamLoader{src: src, cfg: cfg, norm: aff, dim: c * h * w, ranks: 1}
	for range cfg.Ahead {
		l.bufs = append(l.bufs, make([]float32, cfg.Batch*l.dim))
	}
	return l, nil
}

// Shard makes the loader yield the part of rank (0 <= rank < ranks) of every global
// batch, as Loader.Shard does. Call it before the first Epoch.
func (l *StreamLoader) Shard(rank, ranks int) {
	l.halt()
	l.rank, l.ranks = rank, max(ranks, 1)
}

// Batches returns the number of batches in an epoch.
func (l *StreamLoader) Batches() int {
	return len(shardBatches(l.src.Len(), l.cfg.Batch, l.rank, l.ranks))
}

// Err reports why Next ended an epoch early: an image that could not be read, or buffers
// too small for a batch; nil at a normal end.
func (l *StreamLoader) Err() error { return l.err }

// Close stops the goroutines of the current epoch and waits for them.
func (l *StreamLoader) Close() { l.halt() }

// Epoch starts epoch e, abandoning what is left of the current one.
func (l *StreamLoader) Epoch(e int) {
	l.halt()
	order := make([]int32, l.src.Len())
	for i := range order {
		order[i] = int32(i)
	}
	if l.cfg.Shuffle {
		shuffle(order, l.cfg.Seed, uint64(e))
	}
	l.ordered = make(chan *streamBatch, len(l.bufs))
	l.free = make(chan []float32, len(l.bufs))
	for _, b := range l.bufs {
		l.free <- b
	}
	l.stop = make(chan struct{})
	tasks := make(chan streamTask, l.cfg.Workers)
	l.running = true
	l.wg.Add(1 + l.cfg.Workers)
	go l.dispatch(order, e, tasks)
	for range l.cfg.Workers {
		go l.work(uint64(e), tasks)
	}
}

// Next fills x (at least batch*C*H*W floats) and y (at least batch labels) with the next
// batch and returns its size; ok is false at the end of the epoch, or early when Err says
// why. Without a prior Epoch call it starts epoch 0.
func (l *StreamLoader) Next(x []float32, y []int32) (n int, ok bool) {
	if l.err != nil {
		return 0, false
	}
	if !l.running {
		l.Epoch(0)
	}
	b, ok := <-l.ordered
	if !ok {
		return 0, false
	}
	b.pending.Wait()
	defer func() { l.free <- b.x }()
	for _, err := range b.errs {
		if err != nil {
			l.err = err
			l.halt()
			return 0, false
		}
	}
	n = len(b.y)
	if len(x) < n*l.dim || len(y) < n {
		l.err = fmt.Errorf("data: StreamLoader.Next: a batch of %d needs %d floats and %d labels, got %d and %d",
			n, n*l.dim, n, len(x), len(y))
		l.halt()
		return 0, false
	}
	copy(x, b.x[:n*l.dim])
	copy(y, b.y)
	return n, true
}

// halt stops the goroutines of the current epoch and waits for them.
func (l *StreamLoader) halt() {
	if !l.running {
		return
	}
	close(l.stop)
	l.wg.Wait()
	l.running = false
}

// dispatch starts the batches of one epoch in order: each takes a free buffer, goes to
// the consumer's queue, and hands its images to the workers.
func (l *StreamLoader) dispatch(order []int32, epoch int, tasks chan<- streamTask) {
	defer l.wg.Done()
	defer close(tasks)
	defer close(l.ordered)
	for _, part := range shardBatches(len(order), l.cfg.Batch, l.rank, l.ranks) {
		lo, per := part[0], part[1]
		var x []float32
		select {
		case x = <-l.free:
		case <-l.stop:
			return
		}
		b := &streamBatch{x: x, y: make([]int32, per), errs: make([]error, per)}
		for k := range per {
			b.y[k] = l.src.Labels[order[lo+k]]
		}
		b.pending.Add(per)
		l.ordered <- b // it has room for every buffer
		for k := range per {
			select {
			case tasks <- streamTask{b: b, k: k, idx: int(order[lo+k]), pos: lo + k}:
			case <-l.stop:
				return
			}
		}
	}
}

// work prepares images until the epoch's tasks run out or it is stopped.
func (l *StreamLoader) work(epoch uint64, tasks <-chan streamTask) {
	defer l.wg.Done()
	w := &streamWorker{pcg: rand.NewPCG(0, 0)}
	w.rng = rand.New(w.pcg)
	for {
		select {
		case <-l.stop:
			return
		case t, ok := <-tasks:
			if !ok {
				return
			}
			t.b.errs[t.k] = l.prepare(w, epoch, t)
			t.b.pending.Done()
		}
	}
}

// streamWorker is the scratch space of one worker.
type streamWorker struct {
	pic picture
	rs  resizer
	pcg *rand.PCG
	rng *rand.Rand
}

// prepare reads and transforms one image into its slot. A panic of a decoder becomes the
// image's error: one bad file must not take the program down.
func (l *StreamLoader) prepare(w *streamWorker, epoch uint64, t streamTask) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: cannot decode: %v", l.src.Name(t.idx), r)
		}
	}()
	_, h, wd := l.cfg.Input[0], l.cfg.Input[1], l.cfg.Input[2]
	choose := func(ih, iw int) Rect { return Rect{H: ih, W: iw} }
	if l.cfg.Train {
		w.pcg.Seed(augmentSeed(l.cfg.Seed, epoch, t.pos))
		choose = func(ih, iw int) Rect { return CropParams(w.rng, ih, iw) }
	}
	pic, crop, err := l.src.read(t.idx, choose, &w.pic)
	if err != nil {
		return err
	}
	rh, rw, win := h, wd, Rect{H: h, W: wd}
	flip := false
	if l.cfg.Train {
		flip = l.cfg.Flip && w.rng.Float64() < 0.5
	} else {
		rh, rw, win = EvalGeometry(crop.H, crop.W, h, wd)
	}
	w.rs.resize(pic, crop, rh, rw, win, flip, l.norm, t.b.x[t.k*l.dim:(t.k+1)*l.dim])
	return nil
}

// shardBatches lists rank's part of every global batch of ranks*batch examples of an
// epoch of n, as (first position in the epoch, count), with Loader.Shard's rules.
func shardBatches(n, batch, rank, ranks int) [][2]int {
	var out [][2]int
	global := batch * ranks
	for start := 0; start < n; start += global {
		per := batch
		if r := n - start; r < global {
			per = r / ranks
		}
		if per == 0 {
			break
		}
		out = append(out, [2]int{start + rank*per, per})
	}
	return out
}
