// Package ckpt reads and writes the files a generated binary exchanges with the
// outside world: weights as safetensors (float32, and the int64 counters PyTorch keeps
// beside them, such as num_batches_tracked) and arrays as .npy.
// Every write is atomic (see WriteFileAtomic) and every defect found while
// reading is an error that names the file.
package ckpt

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// WriteFileAtomic writes the file at path with the bytes that write produces,
// so that path holds either its old content or the complete new one, even if
// the process or the machine crashes midway: it writes a temporary file in the
// same folder, fsyncs it, renames it over path and fsyncs the folder. When
// write (or any step) fails, the temporary file is removed and path is left
// as it was. The new file has mode 0644 (0644 is also kept when path existed
// with another mode). write receives a buffered writer; it need not flush it.
func WriteFileAtomic(path string, write func(w io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := write(bw); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: sync: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	// The rename is done: from here on path holds the new content, and only
	// its durability is at stake.
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("write %s: sync folder: %w", path, err)
	}
	return nil
}

// syncDir fsyncs a folder so that a rename in it survives a crash. File
// systems (and systems) that cannot fsync a folder are not an error.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	d.Close()
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) || errors.Is(err, os.ErrInvalid) {
		return nil
	}
	return err
}
