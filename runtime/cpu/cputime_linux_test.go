package cpu

import (
	"syscall"
	"time"
)

// threadCPU returns the CPU time the calling OS thread has used (user + system,
// getrusage RUSAGE_THREAD), or 0 where that is not available. Benchmarks divide
// their flops by it besides wall time: on a machine shared with other jobs the
// CPU time of a single-threaded benchmark does not count the time slices it lost.
func threadCPU() time.Duration {
	const rusageThread = 1 // RUSAGE_THREAD
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
