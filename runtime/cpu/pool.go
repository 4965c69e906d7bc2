package cpu

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Pool runs parallel loops on a fixed set of worker goroutines, created once by
// NewPool. A loop is split into at most Threads() contiguous chunks; the caller
// runs the first chunk itself and the workers the others. A worker that finished
// a chunk spins up to spinTime (half a millisecond) for the next one before it parks (as
// OpenMP runtimes do), and the caller spins for the workers' chunks likewise, so
// that the short loops of batch-1 inference cost no thread wake-ups; a loop never
// starts a goroutine.
//
// A Pool may be shared: when a loop is already running (another goroutine's,
// or a body that calls the pool again), the new loop runs whole on its caller
// rather than waiting, so nested and concurrent use cannot deadlock. A panic in
// a body running on a worker ends the program, as in any goroutine.
type Pool struct {
	threads int
	busy    sync.Mutex
	workers []*poolWorker
	closed  bool // guarded by busy

	remaining atomic.Int32  // workers' chunks of the current loop not finished
	waiting   atomic.Int32  // 1 while the caller is parked on done
	done      chan struct{} // buffered: the last chunk's wake-up of a parked caller
}

// poolWorker is one worker goroutine's mailbox: a task is published by writing task
// and then incrementing gen; a parked worker (state 1) is woken through wake.
type poolWorker struct {
	task  poolTask
	gen   atomic.Uint64
	state atomic.Int32 // 0 running or spinning, 1 parked
	wake  chan struct{}
}

// A waiting worker or caller polls spinPolls times, then goes on polling, yielding its
// processor to any other runnable thread (osYield) every spinYieldEvery polls, until
// spinTime has passed since it began to wait, and then parks.
//
// The budget is one of time, not of polls: a count of polls and yields lasted some tens of
// microseconds on an idle machine (a yield returns at once there), less than the gaps
// of batch-1 inference on two threads (one thread's chunk starting late, the caller's
// serial work between loops), so that both threads parked on nearly every loop. A parked
// goroutine is woken onto its waker's processor, which then spins on in its own wait, so
// one park led to the next: one WRN-16-4 convolution of one image (16x32x32 -> 64, F(4x4))
// took 290 µs on two threads against 100 µs on one, the pool parking twice per call
// (AMD EPYC Zen 4, 2 cores). Spinning up to spinTime keeps the threads awake through
// such gaps; a pool idle for longer parks and costs no CPU.
const (
	spinPolls      = 1 << 11
	spinYieldEvery = 64
	spinTime       = 500 * time.Microsecond
)

// spinner is the state of one wait: how many times it polled, and since when it waits
// (read once it has polled spinPolls times).
type spinner struct {
	spins int
	start time.Time
}

// spinning reports whether a waiter should go on polling (it yields now and then); false
// means park.
func (s *spinner) spinning() bool {
	s.spins++
	if s.spins < spinPolls {
		return true
	}
	if s.spins == spinPolls {
		s.start = time.Now()
	}
	if (s.spins-spinPolls)%spinYieldEvery != 0 {
		return true
	}
	osYield()
	return time.Since(s.start) < spinTime
}

// poolTask is one chunk of a loop: exactly one of plain and chunked is set, or
// neither for the task that stops a worker.
type poolTask struct {
	plain         func(lo, hi int)
	chunked       func(chunk, lo, hi int)
	chunk, lo, hi int
}

func (t poolTask) run() {
	if t.plain != nil {
		t.plain(t.lo, t.hi)
		return
	}
	t.chunked(t.chunk, t.lo, t.hi)
}

// NewPool starts threads-1 worker goroutines (the caller of For is the other
// thread). threads <= 0 means runtime.NumCPU().
func NewPool(threads int) *Pool {
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	p := &Pool{threads: threads, done: make(chan struct{}, 1)}
	for range threads - 1 {
		w := &poolWorker{wake: make(chan struct{}, 1)}
		p.workers = append(p.workers, w)
		go p.work(w)
	}
	return p
}

// work is the loop of worker w: wait for a task, run it, report it done.
func (p *Pool) work(w *poolWorker) {
	var seen uint64
	for {
		w.await(seen)
		seen = w.gen.Load()
		t := w.task
		if t.plain == nil && t.chunked == nil {
			return
		}
		t.run()
		if p.remaining.Add(-1) == 0 && p.waiting.CompareAndSwap(1, 0) {
			p.done <- struct{}{}
		}
	}
}

// await returns once w.gen differs from seen: spinning first, then parked.
func (w *poolWorker) await(seen uint64) {
	var sp spinner
	for w.gen.Load() == seen {
		if sp.spinning() {
			continue
		}
		w.state.Store(1)
		if w.gen.Load() != seen {
			// Published meanwhile: unpark ourselves, or take the wake-up the
			// publisher is sending.
			if !w.state.CompareAndSwap(1, 0) {
				<-w.wake
			}
			return
		}
		<-w.wake
	}
}

// post publishes t to w and wakes w if it is parked.
func (w *poolWorker) post(t poolTask) {
	w.task = t
	w.gen.Add(1)
	if w.state.CompareAndSwap(1, 0) {
		w.wake <- struct{}{}
	}
}

// wait returns when the workers' chunks of the current loop are done: spinning
// first, then parked on p.done.
func (p *Pool) wait() {
	var sp spinner
	for p.remaining.Load() != 0 {
		if sp.spinning() {
			continue
		}
		p.waiting.Store(1)
		if p.remaining.Load() == 0 {
			if !p.waiting.CompareAndSwap(1, 0) {
				<-p.done
			}
			return
		}
		<-p.done
		return
	}
}

// Threads returns the number of threads a loop may use, the caller included.
func (p *Pool) Threads() int { return p.threads }

// For calls body on contiguous chunks [lo, hi) that together cover [0, n)
// exactly once, at most one chunk per thread, and returns when all are done.
// n <= 0 does nothing.
func (p *Pool) For(n int, body func(lo, hi int)) {
	p.run(n, poolTask{plain: body})
}

// ForChunk is For with the chunk's index passed to body: chunk is in
// [0, Threads()) and no two chunks of one loop share an index, so body may use
// per-thread scratch indexed by chunk.
func (p *Pool) ForChunk(n int, body func(chunk, lo, hi int)) {
	p.run(n, poolTask{chunked: body})
}

// Close stops the workers. Loops started after Close run on the caller alone.
// Close is idempotent.
func (p *Pool) Close() {
	p.busy.Lock()
	defer p.busy.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	for _, w := range p.workers {
		w.post(poolTask{})
	}
}

// chunkBounds returns the bounds of chunk i of n split into chunks parts.
func chunkBounds(i, chunks, n int) (lo, hi int) {
	return i * n / chunks, (i + 1) * n / chunks
}

func (p *Pool) run(n int, t poolTask) {
	if n <= 0 {
		return
	}
	chunks := min(p.threads, n)
	if chunks == 1 || !p.busy.TryLock() {
		t.chunk, t.lo, t.hi = 0, 0, n
		t.run()
		return
	}
	if p.closed {
		p.busy.Unlock()
		t.chunk, t.lo, t.hi = 0, 0, n
		t.run()
		return
	}
	// Wait for the workers even when the caller's chunk panics, so that a
	// recovered panic leaves the pool consistent.
	defer func() {
		p.wait()
		p.busy.Unlock()
	}()
	p.remaining.Store(int32(chunks - 1))
	for i := 1; i < chunks; i++ {
		w := t
		w.chunk = i
		w.lo, w.hi = chunkBounds(i, chunks, n)
		p.workers[i-1].post(w)
	}
	t.chunk = 0
	t.lo, t.hi = chunkBounds(0, chunks, n)
	t.run()
}
