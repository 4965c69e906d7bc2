package cpu

import (
	"runtime"
	"sync"
)

// Pool runs parallel loops on a fixed set of worker goroutines, created once by
// NewPool. A loop is split into at most Threads() contiguous chunks; the caller
// runs the first chunk itself and the workers the others, so a loop costs two
// channel operations per worker and never starts a goroutine.
//
// A Pool may be shared: when a loop is already running (another goroutine's,
// or a body that calls the pool again), the new loop runs whole on its caller
// rather than waiting, so nested and concurrent use cannot deadlock. A panic in
// a body running on a worker ends the program, as in any goroutine.
type Pool struct {
	threads int
	busy    sync.Mutex
	start   []chan poolTask // one per worker, buffered
	done    chan struct{}
	closed  bool // guarded by busy
}

// poolTask is one chunk of a loop: exactly one of plain and chunked is set.
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
	p := &Pool{
		threads: threads,
		start:   make([]chan poolTask, threads-1),
		done:    make(chan struct{}, threads),
	}
	for i := range p.start {
		ch := make(chan poolTask, 1)
		p.start[i] = ch
		go func() {
			for t := range ch {
				t.run()
				p.done <- struct{}{}
			}
		}()
	}
	return p
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
	for _, ch := range p.start {
		close(ch)
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
		for i := 1; i < chunks; i++ {
			<-p.done
		}
		p.busy.Unlock()
	}()
	for i := 1; i < chunks; i++ {
		w := t
		w.chunk = i
		w.lo, w.hi = chunkBounds(i, chunks, n)
		p.start[i-1] <- w
	}
	t.chunk = 0
	t.lo, t.hi = chunkBounds(0, chunks, n)
	t.run()
}
