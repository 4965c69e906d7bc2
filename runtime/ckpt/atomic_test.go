package ckpt

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// listDir returns the names in dir.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteFileAtomic(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name    string
		write   func(w io.Writer) error
		wantErr error
		want    string // content of the file afterwards
	}{
		{"success replaces", func(w io.Writer) error {
			_, err := io.WriteString(w, "new content")
			return err
		}, nil, "new content"},
		{"failure after a partial write keeps the old file", func(w io.Writer) error {
			io.WriteString(w, strings.Repeat("half", 1<<19)) // more than the buffer: reaches the temp file
			return boom
		}, boom, "old content"},
		{"failure before writing keeps the old file", func(w io.Writer) error { return boom }, boom, "old content"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "last.safetensors")
			if err := os.WriteFile(path, []byte("old content"), 0o600); err != nil {
				t.Fatal(err)
			}
			err := WriteFileAtomic(path, tt.write)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name %s", err, path)
			}
			got, rerr := os.ReadFile(path)
			if rerr != nil || string(got) != tt.want {
				t.Errorf("file holds %.20q (%v), want %q", got, rerr, tt.want)
			}
			if names := listDir(t, dir); len(names) != 1 {
				t.Errorf("folder holds %v, want only last.safetensors (no temporary files)", names)
			}
			if st, err := os.Stat(path); err == nil && tt.wantErr == nil && st.Mode().Perm() != 0o644 {
				t.Errorf("mode %v, want 0644", st.Mode().Perm())
			}
		})
	}
}

func TestWriteFileAtomicNewFileAndMissingDir(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "log.json")
	if err := WriteFileAtomic(path, func(w io.Writer) error { _, err := io.WriteString(w, "{}"); return err }); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(path); err != nil || string(got) != "{}" {
		t.Errorf("file holds %q, %v", got, err)
	}
	bad := filepath.Join(dir, "no", "such", "x.json")
	if err := WriteFileAtomic(bad, func(w io.Writer) error { return nil }); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("write into a missing folder: error %v, want one naming %s", err, bad)
	}
}

func TestWriteKeepsOldFileOnBadInput(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "w.safetensors")
	good := []Tensor{{Name: "a", Shape: []int{2}, Data: []float32{1, 2}}}
	if err := Write(path, good, nil); err != nil {
		t.Fatal(err)
	}
	if err := Write(path, []Tensor{{Name: "a", Shape: []int{3}, Data: []float32{1, 2}}}, nil); err == nil {
		t.Fatal("Write of a bad tensor succeeded")
	}
	f, err := Read(path)
	if err != nil || len(f.Tensors) != 1 || f.Tensors[0].Data[1] != 2 {
		t.Errorf("old file damaged: %v, %v", f, err)
	}
	if names := listDir(t, dir); len(names) != 1 {
		t.Errorf("folder holds %v", names)
	}
}
