package data

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLoadDirectoryErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		setup   func(t *testing.T) string
		want    [3]int
		classes int
		errs    []string
	}{
		{"missing dir", func(t *testing.T) string {
			return filepath.Join(t.TempDir(), "nope")
		}, [3]int{3, 32, 32}, 10, []string{"nope", "no such file or directory"}},
		{"empty dir", func(t *testing.T) string {
			return t.TempDir()
		}, [3]int{3, 32, 32}, 10, []string{"empty directory", "data_batch_1.bin", "train-images-idx3-ubyte", "train/CLASS"}},
		{"a file, not a dir", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "f.bin")
			writeFile(t, p, []byte{1})
			return p
		}, [3]int{3, 32, 32}, 10, []string{"f.bin", "not a directory"}},
		{"unknown layout", func(t *testing.T) string {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "readme.md"), []byte("hi"))
			os.Mkdir(filepath.Join(dir, "images"), 0o755)
			return dir
		}, [3]int{3, 32, 32}, 10, []string{"unknown data layout", "images/", "readme.md"}},
		{"bad shape", func(t *testing.T) string {
			return t.TempDir()
		}, [3]int{3, 0, 32}, 10, []string{"3x0x32"}},
		{"bad classes", func(t *testing.T) string {
			return t.TempDir()
		}, [3]int{3, 32, 32}, 0, []string{"class count 0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.setup(t)
			_, err := Load(dir, tc.want, tc.classes, 0)
			checkErr(t, err, tc.errs...)
			if dir != "" && tc.name != "bad shape" && tc.name != "bad classes" {
				checkErr(t, err, dir)
			}
		})
	}
}
