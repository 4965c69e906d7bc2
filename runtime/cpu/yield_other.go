//go:build !linux

package cpu

import "runtime"

// osYield gives the processor to another goroutine, if any (no portable thread yield).
func osYield() { runtime.Gosched() }
