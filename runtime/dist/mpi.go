//go:build mpi

package dist

/*
#cgo LDFLAGS: -lmpi
#include <mpi.h>
#include <stdlib.h>

static int wrnc_init(int *provided) {
	int inited = 0;
	MPI_Initialized(&inited);
	if (inited) {
		return MPI_Query_thread(provided);
	}
	int rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, provided);
	if (rc != MPI_SUCCESS) return rc;
	return MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
}
static int wrnc_rank(int *r) { return MPI_Comm_rank(MPI_COMM_WORLD, r); }
static int wrnc_size(int *s) { return MPI_Comm_size(MPI_COMM_WORLD, s); }
static int wrnc_bcast_f32(float *buf, int n, int root) { return MPI_Bcast(buf, n, MPI_FLOAT, root, MPI_COMM_WORLD); }
static int wrnc_bcast_f64(double *buf, int n, int root) { return MPI_Bcast(buf, n, MPI_DOUBLE, root, MPI_COMM_WORLD); }
static int wrnc_allreduce_f32(float *buf, int n) { return MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD); }
static int wrnc_allreduce_f64(double *buf, int n) { return MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD); }
static int wrnc_iallreduce_f32(float *buf, int n, MPI_Request *req) { return MPI_Iallreduce(MPI_IN_PLACE, buf, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, req); }
static int wrnc_test(MPI_Request *req, int *flag) { return MPI_Test(req, flag, MPI_STATUS_IGNORE); }
static int wrnc_wait(MPI_Request *req) { return MPI_Wait(req, MPI_STATUS_IGNORE); }
static MPI_Request *wrnc_new_request(void) { MPI_Request *r = malloc(sizeof(MPI_Request)); if (r) *r = MPI_REQUEST_NULL; return r; }
static void wrnc_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }
static int wrnc_finalize(void) { return MPI_Finalize(); }
static void wrnc_error_string(int code, char *buf, int cap) {
	int len = 0;
	if (MPI_Error_string(code, buf, &len) != MPI_SUCCESS) len = 0;
	if (len >= cap) len = cap - 1;
	buf[len] = 0;
}
static int wrnc_thread_serialized(void) { return MPI_THREAD_SERIALIZED; }
*/
import "C"

import (
	"fmt"
	"os"
	"runtime"
	"unsafe"
)

// Built reports whether this binary was built with MPI (`wrnc compile --dist mpi`).
const Built = true

// chunk bounds the elements of one MPI call (MPI counts are C ints).
const chunk = 1 << 28

func init() {
	// The main goroutine stays on the main thread, where MPI was initialised; all MPI
	// calls come from it, one at a time (MPI_THREAD_SERIALIZED).
	runtime.LockOSThread()
}

var _ Async = (*mpiComm)(nil)

// mpiComm is MPI_COMM_WORLD.
type mpiComm struct {
	rank, size int
	closed     bool
}

// Open initialises MPI (MPI_Init_thread, once per process; errors are returned, not
// fatal) and returns MPI_COMM_WORLD. A binary started without mpirun is a world of one.
func Open() (Comm, error) {
	var provided C.int
	if rc := C.wrnc_init(&provided); rc != C.MPI_SUCCESS {
		return nil, mpiError("MPI_Init_thread", rc)
	}
	if provided < C.wrnc_thread_serialized() {
		return nil, fmt.Errorf("dist: the MPI library offers thread level %d, below MPI_THREAD_SERIALIZED", int(provided))
	}
	var r, s C.int
	if rc := C.wrnc_rank(&r); rc != C.MPI_SUCCESS {
		return nil, mpiError("MPI_Comm_rank", rc)
	}
	if rc := C.wrnc_size(&s); rc != C.MPI_SUCCESS {
		return nil, mpiError("MPI_Comm_size", rc)
	}
	return &mpiComm{rank: int(r), size: int(s)}, nil
}

// mpiError is the failure rc of the MPI function fn, with MPI's own words for it.
func mpiError(fn string, rc C.int) error {
	buf := (*C.char)(C.malloc(C.MPI_MAX_ERROR_STRING + 1))
	defer C.free(unsafe.Pointer(buf))
	C.wrnc_error_string(rc, buf, C.MPI_MAX_ERROR_STRING+1)
	return fmt.Errorf("dist: %s failed (MPI error %d: %s)", fn, int(rc), C.GoString(buf))
}

// Rank implements Comm.
func (c *mpiComm) Rank() int { return c.rank }

// Size implements Comm.
func (c *mpiComm) Size() int { return c.size }

// Broadcast implements Comm (MPI_Bcast of MPI_FLOATs).
func (c *mpiComm) Broadcast(buf []float32, root int) error {
	if err := checkRoot(root, c.size); err != nil {
		return err
	}
	for lo := 0; lo < len(buf); lo += chunk {
		n := min(chunk, len(buf)-lo)
		if rc := C.wrnc_bcast_f32((*C.float)(unsafe.Pointer(&buf[lo])), C.int(n), C.int(root)); rc != C.MPI_SUCCESS {
			return mpiError("MPI_Bcast", rc)
		}
	}
	return nil
}

// Broadcast64 implements Comm (MPI_Bcast of MPI_DOUBLEs).
func (c *mpiComm) Broadcast64(buf []float64, root int) error {
	if err := checkRoot(root, c.size); err != nil {
		return err
	}
	for lo := 0; lo < len(buf); lo += chunk {
		n := min(chunk, len(buf)-lo)
		if rc := C.wrnc_bcast_f64((*C.double)(unsafe.Pointer(&buf[lo])), C.int(n), C.int(root)); rc != C.MPI_SUCCESS {
			return mpiError("MPI_Bcast", rc)
		}
	}
	return nil
}

// AllreduceSum implements Comm (MPI_Allreduce in place, MPI_FLOAT, MPI_SUM).
func (c *mpiComm) AllreduceSum(buf []float32) error {
	for lo := 0; lo < len(buf); lo += chunk {
		n := min(chunk, len(buf)-lo)
		if rc := C.wrnc_allreduce_f32((*C.float)(unsafe.Pointer(&buf[lo])), C.int(n)); rc != C.MPI_SUCCESS {
			return mpiError("MPI_Allreduce", rc)
		}
	}
	return nil
}

// AllreduceSum64 implements Comm (MPI_Allreduce in place, MPI_DOUBLE, MPI_SUM).
func (c *mpiComm) AllreduceSum64(buf []float64) error {
	for lo := 0; lo < len(buf); lo += chunk {
		n := min(chunk, len(buf)-lo)
		if rc := C.wrnc_allreduce_f64((*C.double)(unsafe.Pointer(&buf[lo])), C.int(n)); rc != C.MPI_SUCCESS {
			return mpiError("MPI_Allreduce", rc)
		}
	}
	return nil
}

// Abort implements Comm (MPI_Abort on MPI_COMM_WORLD); should MPI return, the process
// exits with code anyway.
func (c *mpiComm) Abort(code int) {
	C.wrnc_abort(C.int(code))
	os.Exit(code)
}

// Close implements Comm (MPI_Finalize), once.
func (c *mpiComm) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	if rc := C.wrnc_finalize(); rc != C.MPI_SUCCESS {
		return mpiError("MPI_Finalize", rc)
	}
	return nil
}

// NewBucket implements Async: n floats and a request, in C memory (MPI reads and writes
// them after MPI_Iallreduce returns, which Go memory must not be used for).
func (c *mpiComm) NewBucket(n int) (Bucket, error) {
	if n < 1 || n > chunk {
		return nil, fmt.Errorf("dist: a bucket of %d floats (1 to %d)", n, chunk)
	}
	buf := (*C.float)(C.malloc(C.size_t(n) * 4))
	req := C.wrnc_new_request()
	if buf == nil || req == nil {
		C.free(unsafe.Pointer(buf))
		C.free(unsafe.Pointer(req))
		return nil, fmt.Errorf("dist: no memory for a bucket of %d floats", n)
	}
	return &mpiBucket{buf: buf, req: req, data: unsafe.Slice((*float32)(unsafe.Pointer(buf)), n)}, nil
}

// mpiBucket is a Bucket of MPI: a C buffer and its MPI_Request.
type mpiBucket struct {
	buf     *C.float
	req     *C.MPI_Request
	data    []float32
	pending bool
}

// Data implements Bucket.
func (b *mpiBucket) Data() []float32 { return b.data }

// Start implements Bucket (MPI_Iallreduce in place, MPI_FLOAT, MPI_SUM).
func (b *mpiBucket) Start() error {
	if b.pending {
		return fmt.Errorf("dist: a bucket started twice")
	}
	if rc := C.wrnc_iallreduce_f32(b.buf, C.int(len(b.data)), b.req); rc != C.MPI_SUCCESS {
		return mpiError("MPI_Iallreduce", rc)
	}
	b.pending = true
	return nil
}

// Test implements Bucket (MPI_Test).
func (b *mpiBucket) Test() (bool, error) {
	if !b.pending {
		return true, nil
	}
	var flag C.int
	if rc := C.wrnc_test(b.req, &flag); rc != C.MPI_SUCCESS {
		return false, mpiError("MPI_Test", rc)
	}
	b.pending = flag == 0
	return !b.pending, nil
}

// Wait implements Bucket (MPI_Wait).
func (b *mpiBucket) Wait() error {
	if !b.pending {
		return nil
	}
	b.pending = false
	if rc := C.wrnc_wait(b.req); rc != C.MPI_SUCCESS {
		return mpiError("MPI_Wait", rc)
	}
	return nil
}

// Free implements Bucket: after Wait (a pending bucket is waited for first).
func (b *mpiBucket) Free() {
	if b.buf == nil {
		return
	}
	b.Wait()
	C.free(unsafe.Pointer(b.buf))
	C.free(unsafe.Pointer(b.req))
	b.buf, b.req, b.data = nil, nil, nil
}
