package ckpt

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// fifo makes a named pipe that yields data once (and then, with more, more).
func fifo(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	go func() {
		f, err := os.OpenFile(p, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		defer f.Close()
		f.Write(data)
	}()
	return p
}

// TestReadBounded checks that the readers read no more than a file declares or the limit
// allows: /dev/zero is refused at once, a pipe holding a valid file is read, one with
// more after it is refused, and a regular file over the limit is refused unread.
func TestReadBounded(t *testing.T) {
	dir := t.TempDir()
	w, x := filepath.Join(dir, "w.safetensors"), filepath.Join(dir, "x.npy")
	if err := Write(w, []Tensor{{Name: "a", Shape: []int{2, 3}, Data: []float32{1, 2, 3, 4, 5, 6}}}, map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	if err := WriteNPY(x, []int{2, 2}, []float32{1, 2, 3, 4}); err != nil {
		t.Fatal(err)
	}
	wb, _ := os.ReadFile(w)
	xb, _ := os.ReadFile(x)

	for _, path := range []string{"/dev/zero", "/dev/urandom"} {
		if _, err := Read(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("Read(%s): %v, want an error naming it", path, err)
		}
		if _, _, err := ReadNPY(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("ReadNPY(%s): %v, want an error naming it", path, err)
		}
	}
	if f, err := Read(fifo(t, wb)); err != nil || len(f.Tensors) != 1 || f.Tensors[0].Data[5] != 6 || f.Meta["k"] != "v" {
		t.Errorf("Read of a pipe: %+v, %v", f, err)
	}
	if shape, v, err := ReadNPY(fifo(t, xb)); err != nil || len(shape) != 2 || v[3] != 4 {
		t.Errorf("ReadNPY of a pipe: %v %v %v", shape, v, err)
	}
	if _, err := Read(fifo(t, append(append([]byte(nil), wb...), 0))); err == nil || !strings.Contains(err.Error(), "more data follows") {
		t.Errorf("Read of a pipe with a byte more: %v", err)
	}
	if _, _, err := ReadNPY(fifo(t, append(append([]byte(nil), xb...), 0))); err == nil || !strings.Contains(err.Error(), "more data follows") {
		t.Errorf("ReadNPY of a pipe with a byte more: %v", err)
	}
	if _, err := ReadLimit(w, int64(len(wb)-1)); err == nil || !strings.Contains(err.Error(), "is more than a safetensors file may have") {
		t.Errorf("ReadLimit under the size: %v", err)
	}
	if _, err := ReadLimit(fifo(t, wb), int64(len(wb)-1)); err == nil {
		t.Error("ReadLimit of a pipe under the size: no error")
	}
	if _, _, err := ReadNPYLimit(x, int64(len(xb)-1)); err == nil {
		t.Error("ReadNPYLimit under the size: no error")
	}
	if _, err := Read(dir); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("Read of a directory: %v", err)
	}
	if MemoryLimit() < 1<<20 {
		t.Errorf("MemoryLimit() = %d", MemoryLimit())
	}
}
