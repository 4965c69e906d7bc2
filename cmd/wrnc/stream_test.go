package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wrnc/wrnc/runtime/data"
	"github.com/wrnc/wrnc/runtime/progress"
)

// TestBinaryStreamsImageFolder compiles a network whose recipe has the imagenet family's
// input pipeline (augment resized_crop flip, normalize imagenet) and runs it on an image
// folder of mixed sizes and formats (data.WriteImageFolder): train streams the folder,
// eval and predict resize and centre-crop, and a corrupt image stops training with its
// name and exit status 1.
func TestBinaryStreamsImageFolder(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and trains a binary")
	}
	bin := compileBinary(t, `model WRN-10-1 {
    input 3x16x16
    classes 3
    batch 8
}
train {
    epochs 2
    sgd lr=0.05
    augment resized_crop flip
    normalize imagenet
}`)
	dir := t.TempDir()
	if _, err := data.WriteImageFolder(dir, data.FolderSpec{Classes: 3, Train: 16, Test: 4,
		MinSize: [2]int{14, 14}, MaxSize: [2]int{40, 48}, Seed: 2}); err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(t.TempDir(), "run")
	out, stderr, code := exe(t, os.Environ(), bin, "train", "--data", dir, "--out", run)
	if code != 0 {
		t.Fatalf("train: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(out, "48 training and 12 test images (folder, streamed)") {
		t.Errorf("train output:\n%s", out)
	}
	log, err := progress.ReadLog(filepath.Join(run, "log.jsonl"))
	if err != nil || len(log) != 2 {
		t.Fatalf("log.jsonl: %d records, %v", len(log), err)
	}
	weights := filepath.Join(run, "last.safetensors")
	out, stderr, code = exe(t, os.Environ(), bin, "eval", "--weights", weights, "--data", dir, "--json")
	var ev struct {
		Error float64
		N     int
	}
	if code != 0 || json.Unmarshal([]byte(out), &ev) != nil || ev.N != 12 || ev.Error != log[1]["test_error"].(float64) {
		t.Errorf("eval: exit %d, %q %s; want n 12 and the logged test error %v", code, out, stderr, log[1]["test_error"])
	}
	img := filepath.Join(dir, "test", "class02", "001.png")
	if out, stderr, code = exe(t, os.Environ(), bin, "predict", "--weights", weights, img); code != 0 || !strings.Contains(out, img) {
		t.Errorf("predict: exit %d, %q %s", code, out, stderr)
	}
	bad := filepath.Join(dir, "train", "class01", "004.jpg")
	b, err := os.ReadFile(bad)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, b[:len(b)/3], 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code = exe(t, os.Environ(), bin, "train", "--data", dir, "--out", filepath.Join(t.TempDir(), "run"))
	if code != 1 || !strings.Contains(stderr, bad) || strings.Contains(stderr, "panic") {
		t.Errorf("corrupt image: exit %d, stderr %q; want 1 naming %s", code, stderr, bad)
	}
}
