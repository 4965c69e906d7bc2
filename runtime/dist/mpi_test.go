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
	if c.Rank() != 0 || c.Size() != 1 {
		t.Fatalf("rank %d of %d", c.Rank(), c.Size())
	}
	v, w := []float32{1, 2}, []float64{3}
	if err := c.AllreduceSum(v); err != nil || v[0] != 1 || v[1] != 2 {
		t.Errorf("AllreduceSum: %v %v", v, err)
	}
	if err := c.AllreduceSum64(w); err != nil || w[0] != 3 {
		t.Errorf("AllreduceSum64: %v %v", w, err)
	}
	if err := c.Broadcast(v, 0); err != nil {
		t.Error(err)
	}
	if err := c.Broadcast64(w, 1); err == nil {
		t.Error("a broadcast from rank 1 of 1 was accepted")
	}
	if err := c.Close(); err != nil {
		t.Error(err)
	}
}
