// Package dist is how the processes of one data-parallel training run talk to each
// other: a small interface of collective operations, implemented by a single process
// (the default build: Size 1, every collective a no-op) or, in a build with the mpi tag,
// by the MPI C library over MPI_COMM_WORLD (`wrnc compile --dist mpi`).
package dist

import "fmt"

// Comm is the group of processes of one run. Its collectives must be called by every
// process in the same order, with buffers of the same length; they block until all have
// joined. A Comm is not safe for concurrent use.
type Comm interface {
	// Rank is this process's number, 0 to Size()-1; rank 0 writes the run's files.
	Rank() int
	// Size is the number of processes.
	Size() int
	// Broadcast replaces buf on every process with root's.
	Broadcast(buf []float32, root int) error
	// Broadcast64 is Broadcast for float64s.
	Broadcast64(buf []float64, root int) error
	// AllreduceSum replaces buf on every process with the element-wise sum over all
	// processes (the same result on each).
	AllreduceSum(buf []float32) error
	// AllreduceSum64 is AllreduceSum for float64s (loss and error sums).
	AllreduceSum64(buf []float64) error
	// Abort ends every process of the run with the exit status code (MPI_Abort); it does
	// not return. Call it when this process fails while the others may be waiting in a
	// collective, so that none of them hangs.
	Abort(code int)
	// Close ends this process's part in the run (MPI_Finalize), after the last
	// collective.
	Close() error
}

// Async is a Comm that can also sum without blocking: data-parallel training starts
// the sums of the gradients of the last layers while the backward pass still computes
// those of the first (MPI_Iallreduce), and waits for them all before the update.
type Async interface {
	Comm
	// NewBucket returns a buffer of n floats whose sums over all processes run in the
	// background; every process must start its buckets in the same order.
	NewBucket(n int) (Bucket, error)
}

// Bucket is a buffer that is summed over all processes in the background: fill Data,
// Start, then Test (which also moves the sum on) until it says done, or Wait; Data then
// holds the sum. Data must not be touched between Start and the end. Free releases it.
type Bucket interface {
	Data() []float32
	Start() error
	Test() (done bool, err error)
	Wait() error
	Free()
}

// Single is the Comm of a run of one process: rank 0 of 1, every collective a no-op.
type Single struct{}

// Rank implements Comm: always 0.
func (Single) Rank() int { return 0 }

// Size implements Comm: always 1.
func (Single) Size() int { return 1 }

// Broadcast implements Comm: buf already holds root's values.
func (Single) Broadcast(buf []float32, root int) error { return checkRoot(root, 1) }

// Broadcast64 implements Comm.
func (Single) Broadcast64(buf []float64, root int) error { return checkRoot(root, 1) }

// AllreduceSum implements Comm: the sum over one process is its own buffer.
func (Single) AllreduceSum([]float32) error { return nil }

// AllreduceSum64 implements Comm.
func (Single) AllreduceSum64([]float64) error { return nil }

// Abort implements Comm; a single process has nothing to end but itself, which its
// caller does by returning the error, so Abort does nothing.
func (Single) Abort(int) {}

// Close implements Comm.
func (Single) Close() error { return nil }

// checkRoot refuses a root outside [0, size).
func checkRoot(root, size int) error {
	if root < 0 || root >= size {
		return fmt.Errorf("dist: broadcast from rank %d of %d", root, size)
	}
	return nil
}
