package cli

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wrnc/wrnc/runtime/ckpt"
)

// badWeights writes defective weights files and returns them with a part of the
// message each must get.
func badWeights(t *testing.T, good string) map[string][2]string {
	t.Helper()
	dir := t.TempDir()
	b, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	trunc := filepath.Join(dir, "truncated.safetensors")
	if err := os.WriteFile(trunc, b[:len(b)-20], 0o644); err != nil {
		t.Fatal(err)
	}
	foreign := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(foreign, []byte("these are not weights, just a text file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.safetensors")
	if err := ckpt.Write(other, []ckpt.Tensor{
		{Name: "fc.weight", Shape: []int{3, 25}, Data: make([]float32, 75)},
		{Name: "fc.bias", Shape: []int{3}, Data: make([]float32, 3)},
	}, nil); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.safetensors")
	return map[string][2]string{
		"truncated": {trunc, trunc + ": "},
		"foreign":   {foreign, foreign + ": "},
		"other network": {other, other + " holds weights of a different network: fc.weight is [3 25], this network needs [3 16]; " +
			"bn.running_mean is missing; bn.running_var is missing"},
		"missing": {missing, missing + ": no such file"},
	}
}

func TestBadWeights(t *testing.T) {
	net := newTinyNet()
	good := trained(t, net)
	data := writeIDX(t, 16, 4)
	dir := t.TempDir()
	npy := filepath.Join(dir, "x.npy")
	if err := ckpt.WriteNPY(npy, []int{1, tinyC, tinyH, tinyW}, make([]float32, tinyD)); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(dir, "a.png")
	writePNG(t, img, toyImage(rand.New(rand.NewPCG(1, 1)), 0), tinyH, tinyW)
	for name, bad := range badWeights(t, good) {
		w, msg := bad[0], bad[1]
		for _, args := range [][]string{
			{"train", "--data", data, "--out", filepath.Join(t.TempDir(), "run"), "--init", w},
			{"eval", "--weights", w, "--data", data},
			{"predict", "--weights", w, "--npy", npy, "--out", filepath.Join(dir, "y.npy")},
			{"predict", "--weights", w, img},
		} {
			t.Run(name+"/"+args[0], func(t *testing.T) {
				code, out, errOut := run(t, net, args...)
				if code != ExitRefused || !strings.Contains(errOut, msg) || out != "" {
					t.Errorf("exit %d, stdout %q, stderr %q; want 1 and %q", code, out, errOut, msg)
				}
				if strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
					t.Errorf("want one line of message, got %q", errOut)
				}
			})
		}
	}
}

// writeIDXFiles writes the four IDX files with images of h x w, and returns the folder.
func writeIDXFiles(t *testing.T, h, w int) string {
	t.Helper()
	dir := t.TempDir()
	for _, split := range []string{"train", "t10k"} {
		var img, lab bytes.Buffer
		binary.Write(&img, binary.BigEndian, []uint32{0x803, 4, uint32(h), uint32(w)})
		img.Write(make([]byte, 4*h*w))
		binary.Write(&lab, binary.BigEndian, []uint32{0x801, 4})
		lab.Write([]byte{0, 1, 2, 0})
		os.WriteFile(filepath.Join(dir, split+"-images-idx3-ubyte"), img.Bytes(), 0o644)
		os.WriteFile(filepath.Join(dir, split+"-labels-idx1-ubyte"), lab.Bytes(), 0o644)
	}
	return dir
}

func TestBadData(t *testing.T) {
	net := newTinyNet()
	missing := filepath.Join(t.TempDir(), "nowhere")
	empty := t.TempDir()
	junk := t.TempDir()
	os.WriteFile(filepath.Join(junk, "readme.txt"), []byte("hi"), 0o644)
	truncated := writeIDXFiles(t, tinyH, tinyW)
	timg := filepath.Join(truncated, "train-images-idx3-ubyte")
	os.Truncate(timg, 16+3*tinyD)
	// eval reads the test split alone: a truncated test file is what it must refuse.
	truncatedTest := writeIDXFiles(t, tinyH, tinyW)
	tst := filepath.Join(truncatedTest, "t10k-images-idx3-ubyte")
	os.Truncate(tst, 16+3*tinyD)
	wrongShape := writeIDXFiles(t, 5, 5)
	badLabel := writeIDXFiles(t, tinyH, tinyW)
	os.WriteFile(filepath.Join(badLabel, "t10k-labels-idx1-ubyte"), []byte{0, 0, 8, 1, 0, 0, 0, 4, 0, 1, 7, 0}, 0o644)
	w := trained(t, net)
	tests := []struct {
		name, dir, msg string
	}{
		{"missing", missing, missing + ": no such file or directory (the data directory)"},
		{"empty", empty, empty + ": empty directory; expected CIFAR-10"},
		{"unknown layout", junk, junk + ": unknown data layout"},
		{"truncated", truncated, timg + ": header says 4 images of 4x4"},
		{"truncated test", truncatedTest, tst + ": header says 4 images of 4x4"},
		{"wrong shape", wrongShape, "images are 1x5x5 (grey), but the network expects 1x4x4"},
		{"label", badLabel, "example 2 has label 7, but the network has 3 classes"},
	}
	for _, tc := range tests {
		for _, args := range [][]string{
			{"train", "--data", tc.dir, "--out", filepath.Join(t.TempDir(), "run")},
			{"eval", "--weights", w, "--data", tc.dir},
		} {
			t.Run(tc.name+"/"+args[0], func(t *testing.T) {
				if tc.name == "truncated" && args[0] == "eval" {
					// Only the training file is cut: eval does not read it.
					if code, _, errOut := run(t, net, args...); code != 0 {
						t.Errorf("eval read the training split: exit %d, %s", code, errOut)
					}
					return
				}
				code, out, errOut := run(t, net, args...)
				if code != ExitRefused || !strings.Contains(errOut, tc.msg) || out != "" {
					t.Errorf("exit %d, stdout %q, stderr %q; want 1 and %q", code, out, errOut, tc.msg)
				}
			})
		}
	}
	t.Run("no run folder left behind", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "run")
		run(t, net, "train", "--data", wrongShape, "--out", out)
		if _, err := os.Stat(out); err == nil {
			t.Errorf("a refused train created %s", out)
		}
	})
}

func TestBadPredictInput(t *testing.T) {
	net := newTinyNet()
	w := trained(t, net)
	dir := t.TempDir()
	npy := func(name string, shape []int) string {
		p := filepath.Join(dir, name)
		n := 1
		for _, d := range shape {
			n *= d
		}
		if err := ckpt.WriteNPY(p, shape, make([]float32, n)); err != nil {
			t.Fatal(err)
		}
		return p
	}
	big := filepath.Join(dir, "big.png")
	writePNG(t, big, make([]uint8, 25), 5, 5)
	text := filepath.Join(dir, "text.png")
	os.WriteFile(text, []byte("not an image"), 0o644)
	out := filepath.Join(dir, "y.npy")
	wrong := npy("wrong.npy", []int{2, 1, 5, 5})
	flat := npy("flat.npy", []int{1, 4, 4})
	empty := npy("empty.npy", []int{0, 1, 4, 4})
	tests := []struct {
		name string
		args []string
		msg  string
	}{
		{"npy shape", []string{"--npy", wrong, "--out", out}, wrong + ": holds an array of shape [2 1 5 5], but the network takes float32 [N,1,4,4] with N >= 1"},
		{"npy rank", []string{"--npy", flat, "--out", out}, flat + ": holds an array of shape [1 4 4]"},
		{"npy empty", []string{"--npy", empty, "--out", out}, empty + ": holds an array of shape [0 1 4 4]"},
		{"npy missing", []string{"--npy", filepath.Join(dir, "none.npy"), "--out", out}, "none.npy: no such file"},
		{"npy foreign", []string{"--npy", text, "--out", out}, text + ": "},
		{"image size", []string{big}, big + ": image is 5x5 (height x width), but the network expects 4x4"},
		{"image format", []string{text}, text + ": not a PNG or JPEG file"},
		{"image missing", []string{filepath.Join(dir, "none.png")}, "none.png: no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, errOut := run(t, net, append([]string{"predict", "--weights", w}, tc.args...)...)
			if code != ExitRefused || !strings.Contains(errOut, tc.msg) || stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want 1 and %q", code, stdout, errOut, tc.msg)
			}
		})
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a refused predict wrote its output")
	}
}
