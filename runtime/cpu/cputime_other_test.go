//go:build !linux

package cpu

import "time"

// threadCPU is not available here: the benchmarks report wall-clock rates only.
func threadCPU() time.Duration { return 0 }
