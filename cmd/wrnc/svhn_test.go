package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// svhnScript writes SVHN's files as downloaded (MATLAB v5: X uint8 [32,32,3,N], y double
// [N,1] with 10 for the digit 0), with the digit's class told by the brightness of a band
// of rows, so that a small network learns it.
const svhnScript = `
import sys, numpy as np, scipy.io
out = sys.argv[1]
rng = np.random.default_rng(7)
for name, n, compress in (("train_32x32", 60, False), ("extra_32x32", 20, True), ("test_32x32", 20, True)):
    y = rng.integers(1, 11, size=n)
    X = rng.integers(0, 80, size=(32, 32, 3, n)).astype(np.uint8)
    for i in range(n):
        band = (y[i] % 10) * 3
        X[band:band + 3, :, :, i] += 170
    scipy.io.savemat(out + "/" + name + ".mat", {"X": X, "y": y.reshape(n, 1).astype(np.float64)}, do_compression=compress)
`

// TestTrainsOnSVHN trains a binary on a folder in SVHN's layout, written by scipy: extra
// joins the training split, and eval reads the test split.
func TestTrainsOnSVHN(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	needPython(t, "scipy")
	dir := t.TempDir()
	if out, err := exec.Command(python3, "-c", svhnScript, dir).CombinedOutput(); err != nil {
		t.Fatalf("writing the .mat files: %v\n%s", err, out)
	}
	bin := compileBinary(t, "model WRN-10-1 {\n input 3x32x32\n classes 10\n batch 8\n}\ntrain {\n epochs 2\n augment none\n normalize scale\n sgd lr=0.05\n}")
	run := filepath.Join(t.TempDir(), "run")
	stdout, stderr, code := exe(t, os.Environ(), bin, "train", "--data", dir, "--out", run)
	if code != 0 {
		t.Fatalf("train: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "80 training and 20 test images (svhn)") {
		t.Errorf("train did not read train + extra as SVHN:\n%s", stdout)
	}
	stdout, stderr, code = exe(t, os.Environ(), bin, "eval", "--weights", filepath.Join(run, "last.safetensors"), "--data", dir, "--json")
	if code != 0 || !strings.Contains(stdout, `"n":20`) {
		t.Errorf("eval: exit %d\n%s\n%s", code, stdout, stderr)
	}
}
