package cpu

import (
	"fmt"
	"sync"
)

// fault keeps the first broken precondition a kernel met. Such a kernel does no work
// (it writes nothing, so no assembly loop reads or writes past a slice) and records why;
// the layer above reports it as an ordinary error after its call (Kernels.Err, Gemm.Err)
// instead of a panic crossing the package boundary. Callers validate their plan once, so
// this is the last line of defence, not a path that runs.
type fault struct {
	mu  sync.Mutex
	err error
}

// failf records an error unless one is already recorded.
func (f *fault) failf(format string, args ...any) {
	f.mu.Lock()
	if f.err == nil {
		f.err = fmt.Errorf(format, args...)
	}
	f.mu.Unlock()
}

func (f *fault) fail(err error) {
	f.mu.Lock()
	if f.err == nil {
		f.err = err
	}
	f.mu.Unlock()
}

func (f *fault) get() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}
