//go:build !mpi

package dist

// Built reports whether this binary was built with MPI (`wrnc compile --dist mpi`).
const Built = false

// Open returns the Comm of this process: without MPI, always a Single.
func Open() (Comm, error) { return Single{}, nil }
