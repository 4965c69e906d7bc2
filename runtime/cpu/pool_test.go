package cpu

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestPoolFor checks that For and ForChunk cover every index exactly once,
// in at most Threads() contiguous chunks with distinct chunk indices.
func TestPoolFor(t *testing.T) {
	for _, threads := range []int{1, 2, 3, 5} {
		p := NewPool(threads)
		for _, n := range []int{0, 1, 2, 3, 4, 7, 100, 1001} {
			t.Run(fmt.Sprintf("threads=%d/n=%d", threads, n), func(t *testing.T) {
				hits := make([]int, n)
				var mu sync.Mutex
				var chunks []int
				p.ForChunk(n, func(chunk, lo, hi int) {
					mu.Lock()
					chunks = append(chunks, chunk)
					mu.Unlock()
					if lo >= hi {
						t.Errorf("empty chunk [%d, %d)", lo, hi)
					}
					for i := lo; i < hi; i++ {
						hits[i]++ // chunks are disjoint, so no race unless For is wrong
					}
				})
				want := make([]int, n)
				for i := range want {
					want[i] = 1
				}
				if diff := cmp.Diff(want, hits); diff != "" {
					t.Errorf("ForChunk hits per index (-want +got):\n%s", diff)
				}
				seen := make(map[int]bool)
				for _, c := range chunks {
					if c < 0 || c >= p.Threads() || seen[c] {
						t.Errorf("chunk index %d repeated or outside [0, %d)", c, p.Threads())
					}
					seen[c] = true
				}
				if len(chunks) > threads {
					t.Errorf("%d chunks, want at most %d", len(chunks), threads)
				}

				plain := make([]int, n)
				p.For(n, func(lo, hi int) {
					for i := lo; i < hi; i++ {
						plain[i]++
					}
				})
				if diff := cmp.Diff(want, plain); diff != "" {
					t.Errorf("For hits per index (-want +got):\n%s", diff)
				}
			})
		}
		p.Close()
	}
}

func TestPoolThreads(t *testing.T) {
	tests := []struct{ in, want int }{{1, 1}, {3, 3}, {0, runtime.NumCPU()}, {-2, runtime.NumCPU()}}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.in), func(t *testing.T) {
			p := NewPool(tt.in)
			defer p.Close()
			if got := p.Threads(); got != tt.want {
				t.Errorf("NewPool(%d).Threads() = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

// TestPoolNested checks that a loop inside a loop body, and loops from
// several goroutines at once, complete and cover their ranges.
func TestPoolNested(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	var mu sync.Mutex
	total := 0
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				p.For(10, func(lo, hi int) {
					p.For(hi-lo, func(lo2, hi2 int) {
						mu.Lock()
						total += hi2 - lo2
						mu.Unlock()
					})
				})
			}
		}()
	}
	wg.Wait()
	if want := 4 * 50 * 10; total != want {
		t.Errorf("nested loops covered %d indices, want %d", total, want)
	}
}

func TestPoolClose(t *testing.T) {
	p := NewPool(3)
	p.Close()
	p.Close() // idempotent
	sum := 0
	p.For(10, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			sum += i
		}
	})
	if sum != 45 {
		t.Errorf("For after Close summed %d, want 45", sum)
	}
}

func BenchmarkPoolFor(b *testing.B) {
	p := NewPool(2)
	defer p.Close()
	var sink [2]int
	body := func(chunk, lo, hi int) { sink[chunk] += hi - lo }
	for b.Loop() {
		p.ForChunk(2, body)
	}
}

// TestPoolRecoveredPanic checks that a panic in the caller's chunk, once
// recovered, leaves the pool usable.
func TestPoolRecoveredPanic(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the body's panic did not reach the caller")
			}
		}()
		p.For(2, func(lo, hi int) {
			if lo == 0 {
				panic("boom")
			}
		})
	}()
	hits := make([]int, 4)
	p.For(4, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			hits[i]++
		}
	})
	if diff := cmp.Diff([]int{1, 1, 1, 1}, hits); diff != "" {
		t.Errorf("For after a recovered panic (-want +got):\n%s", diff)
	}
}

// TestPoolParkAndWake runs loops separated by idle gaps shorter and longer than spinTime,
// so that the workers are found spinning and parked (and the caller waits on a slow
// worker chunk past its own spin budget): every loop must still cover its range exactly once.
func TestPoolParkAndWake(t *testing.T) {
	p := NewPool(3)
	defer p.Close()
	for i, gap := range []time.Duration{0, spinTime / 4, 2 * spinTime, 0, 3 * spinTime} {
		time.Sleep(gap)
		hits := make([]int32, 30)
		p.ForChunk(len(hits), func(chunk, lo, hi int) {
			if chunk == 2 && i%2 == 1 {
				time.Sleep(2 * spinTime) // the caller outwaits its spin and parks
			}
			for j := lo; j < hi; j++ {
				hits[j]++
			}
		})
		for j, h := range hits {
			if h != 1 {
				t.Fatalf("gap %v: element %d covered %d times", gap, j, h)
			}
		}
	}
}

// TestSpinnerBudget checks that a wait spins for about spinTime, not longer, then parks.
func TestSpinnerBudget(t *testing.T) {
	var s spinner
	t0 := time.Now()
	for s.spinning() {
	}
	if d := time.Since(t0); d < spinTime || d > 50*spinTime {
		t.Errorf("spun %v, want about %v", d, spinTime)
	}
}
