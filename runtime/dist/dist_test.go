package dist

import "testing"

// TestSingle checks the Comm of one process: rank 0 of 1, collectives that leave the
// buffers as they are, and a broadcast from another rank refused.
func TestSingle(t *testing.T) {
	checkWorldOfOne(t, Single{})
}

// checkWorldOfOne checks a Comm of one process: rank 0 of 1, collectives that leave the
// buffers as they are, a broadcast from another rank refused, and Close.
func checkWorldOfOne(t *testing.T, c Comm) {
	t.Helper()
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
