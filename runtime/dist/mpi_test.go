//go:build mpi

package dist

import "testing"

// TestMPISingleton checks the MPI Comm of a process started without mpirun: a world of
// one whose collectives keep the buffers, and a broadcast from a missing rank refused.
func TestMPISingleton(t *testing.T) {
	c, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	checkWorldOfOne(t, c)
}
