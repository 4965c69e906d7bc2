package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wrnc/wrnc/runtime/ckpt"
	"github.com/wrnc/wrnc/runtime/progress"
)

// compileBinary runs `wrnc compile` on src and returns the binary.
func compileBinary(t *testing.T, src string) string {
	t.Helper()
	wrn := filepath.Join(t.TempDir(), "net.wrn")
	if err := os.WriteFile(wrn, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "net")
	if code, _, stderr := runWrnc("compile", wrn, "-o", bin); code != 0 {
		t.Fatalf("wrnc compile: exit %d\n%s", code, stderr)
	}
	return bin
}

// writeIDX writes a gzipped MNIST-style data set of n images of side x side pixels in 3
// classes, told apart by which horizontal band of the image is bright, under dir with prefix
// ("train" or "t10k").
func writeIDX(t *testing.T, dir, prefix string, n, side int, rng *rand.Rand) {
	t.Helper()
	images := []byte{0, 0, 8, 3}
	images = binary.BigEndian.AppendUint32(images, uint32(n))
	images = binary.BigEndian.AppendUint32(images, uint32(side))
	images = binary.BigEndian.AppendUint32(images, uint32(side))
	labels := []byte{0, 0, 8, 1}
	labels = binary.BigEndian.AppendUint32(labels, uint32(n))
	for i := 0; i < n; i++ {
		class := i % 3
		labels = append(labels, byte(class))
		for y := 0; y < side; y++ {
			for x := 0; x < side; x++ {
				v := rng.IntN(90)
				if y*3/side == class { // rows, so that a horizontal flip keeps the class
					v += 140
				}
				images = append(images, byte(v))
			}
		}
	}
	for name, data := range map[string][]byte{"images-idx3-ubyte.gz": images, "labels-idx1-ubyte.gz": labels} {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(data)
		zw.Close()
		if err := os.WriteFile(filepath.Join(dir, prefix+"-"+name), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func exe(t *testing.T, env []string, bin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// TestBinaryTrainsAndRuns compiles a network no other test uses, trains it on a small data
// set through its command line, and uses it as a user would, with no Go toolchain on PATH.
func TestBinaryTrainsAndRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and trains a binary")
	}
	bin := compileBinary(t, `model WRN-10-1-B(3,1) {
    input 1x12x12
    classes 3
    batch 7
}
train {
    epochs 3
    sgd lr=0.05
    schedule step gamma=0.5 at=2
    augment flip crop=2 padding=zero
    normalize scale
}`)
	data := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	writeIDX(t, data, "train", 300, 12, rng)
	writeIDX(t, data, "t10k", 60, 12, rng)
	noGo := []string{"PATH=/nonexistent", "HOME=" + t.TempDir()}
	run := filepath.Join(t.TempDir(), "run")

	if _, stderr, code := exe(t, noGo, bin, "train", "--data", data, "--out", run); code != 0 {
		t.Fatalf("train: exit %d\n%s", code, stderr)
	}
	log, err := progress.ReadLog(filepath.Join(run, "log.jsonl"))
	if err != nil || len(log) != 3 {
		t.Fatalf("log.jsonl: %d records, %v", len(log), err)
	}
	for i, rec := range log {
		for _, k := range []string{"epoch", "lr", "train_loss", "train_error", "test_loss", "test_error", "seconds", "images_per_sec"} {
			if _, ok := rec[k]; !ok {
				t.Errorf("record %d lacks %s", i+1, k)
			}
		}
	}
	if lr := log[2]["lr"].(float64); lr != 0.025 {
		t.Errorf("epoch 3 lr = %g, want 0.025 after the milestone at 2", lr)
	}
	final := log[2]["test_error"].(float64)
	if final > 0.1 {
		t.Errorf("test error after 3 epochs = %.3f, want under 0.1 (chance is 0.67)", final)
	}

	out, stderr, code := exe(t, noGo, bin, "eval", "--weights", filepath.Join(run, "last.safetensors"), "--data", data, "--json")
	var ev struct {
		Error, Loss float64
		N           int
	}
	if code != 0 || json.Unmarshal([]byte(out), &ev) != nil {
		t.Fatalf("eval: exit %d, %q %s", code, out, stderr)
	}
	if ev.N != 60 || ev.Error != final {
		t.Errorf("eval = %+v, want n 60 and the logged error %g", ev, final)
	}

	// Bad inputs: each a clear message and a non-zero exit.
	weights := filepath.Join(run, "last.safetensors")
	raw, _ := os.ReadFile(weights)
	truncated := filepath.Join(t.TempDir(), "cut.safetensors")
	os.WriteFile(truncated, raw[:len(raw)/2], 0o644)
	other := filepath.Join(t.TempDir(), "other.safetensors")
	ckpt.Write(other, []ckpt.Tensor{{Name: "conv0", Shape: []int{16, 3, 3, 3}, Data: make([]float32, 432)}}, nil)
	x := filepath.Join(t.TempDir(), "x.npy")
	ckpt.WriteNPY(x, []int{2, 3, 12, 12}, make([]float32, 2*3*144))
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"eval", "--weights", truncated, "--data", data}, "cut.safetensors"},
		{[]string{"eval", "--weights", other, "--data", data}, "conv0"},
		{[]string{"eval", "--weights", weights, "--data", filepath.Join(data, "missing")}, "missing"},
		{[]string{"predict", "--weights", weights, "--npy", x, "--out", filepath.Join(t.TempDir(), "y.npy")}, "x.npy"},
		{[]string{"train", "--data", data, "--out", run}, "last.safetensors"},
	} {
		_, stderr, code := exe(t, noGo, bin, tt.args...)
		if code == 0 || !strings.Contains(stderr, tt.want) || strings.Contains(stderr, "panic") {
			t.Errorf("%v: exit %d, stderr %q; want a refusal naming %q", tt.args, code, stderr, tt.want)
		}
	}
}

// TestKillAndResume kills training with SIGKILL once a checkpoint exists and checks that
// --resume continues from it: the log holds every epoch once, in order.
func TestKillAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and trains a binary")
	}
	bin := compileBinary(t, "model WRN-10-1 {\n input 1x12x12\n classes 3\n batch 8\n}\ntrain {\n epochs 100\n augment none\n normalize scale\n}")
	data := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 4))
	writeIDX(t, data, "train", 600, 12, rng)
	writeIDX(t, data, "t10k", 30, 12, rng)
	run := filepath.Join(t.TempDir(), "run")
	cmd := exec.Command(bin, "train", "--data", data, "--out", run)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if _, err := os.Stat(filepath.Join(run, "last.safetensors")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("no checkpoint after 2 minutes")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // let it get into the next epoch
	cmd.Process.Kill()
	cmd.Wait()
	before, err := progress.ReadLog(filepath.Join(run, "log.jsonl"))
	if err != nil || len(before) == 0 {
		t.Fatalf("log after the kill: %d records, %v", len(before), err)
	}
	epochs := len(before) + 1
	if _, stderr, code := exe(t, os.Environ(), bin, "train", "--data", data, "--out", run, "--resume", "--epochs", strconv.Itoa(epochs)); code != 0 {
		t.Fatalf("resume: exit %d\n%s", code, stderr)
	}
	after, err := progress.ReadLog(filepath.Join(run, "log.jsonl"))
	if err != nil || len(after) != epochs {
		t.Fatalf("log after resuming: %d records, want %d (%v)", len(after), epochs, err)
	}
	for i, rec := range after {
		if int(rec["epoch"].(float64)) != i+1 {
			t.Errorf("record %d is epoch %v", i, rec["epoch"])
		}
	}
}

// TestSignalsStopCleanly sends SIGINT and SIGTERM to a training binary: it stops with 130
// or 143, says what it kept, leaves no temporary file, and --resume goes on with every
// epoch logged once, in order. A second SIGINT quits at once.
func TestSignalsStopCleanly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and trains a binary")
	}
	// Steps of hundreds of milliseconds, so that a second SIGINT sent once the run took
	// the first comes while the step the first one waits for is still running.
	bin := compileBinary(t, "model WRN-10-4 {\n input 1x32x32\n classes 3\n batch 64\n}\ntrain {\n epochs 100\n augment none\n normalize scale\n}")
	data := t.TempDir()
	rng := rand.New(rand.NewPCG(5, 6))
	writeIDX(t, data, "train", 192, 32, rng)
	writeIDX(t, data, "t10k", 30, 32, rng)
	for _, tc := range []struct {
		name  string
		sigs  []syscall.Signal
		code  int
		first bool // signal before the first checkpoint
	}{
		{"sigint", []syscall.Signal{syscall.SIGINT}, 130, false},
		{"sigterm", []syscall.Signal{syscall.SIGTERM}, 143, false},
		{"sigint early", []syscall.Signal{syscall.SIGINT}, 130, true},
		{"sigint twice", []syscall.Signal{syscall.SIGINT, syscall.SIGINT}, 130, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A second SIGINT can come after the run has already stopped at the end of its
			// step; then the run stops cleanly as after one. Try a few times for the case
			// where it comes while the run is still stopping.
			attempts := 1
			if len(tc.sigs) > 1 {
				attempts = 5
			}
			var run, msg string
			for a := range attempts {
				run, msg = signalRun(t, bin, data, tc.sigs, tc.code, tc.first)
				if len(tc.sigs) == 1 || strings.Contains(msg, "again: quitting at once") {
					break
				}
				if !strings.Contains(msg, "stopped in epoch") && !strings.Contains(msg, "stopped after epoch") {
					t.Fatalf("attempt %d: neither quit at once nor stopped cleanly:\n%s", a+1, msg)
				}
				t.Logf("attempt %d: the run had stopped before the second SIGINT came", a+1)
			}
			switch {
			case len(tc.sigs) > 1 && !strings.Contains(msg, "again: quitting at once"):
				t.Errorf("second signal: stderr lacks the word:\n%s", msg)
			case len(tc.sigs) == 1 && !strings.Contains(msg, "stopped in epoch") && !strings.Contains(msg, "stopped after epoch"):
				t.Errorf("stderr does not say where it stopped:\n%s", msg)
			case len(tc.sigs) == 1 && !tc.first && !strings.Contains(msg, "continue with --resume"):
				t.Errorf("stderr does not say what was kept:\n%s", msg)
			}
			ents, _ := os.ReadDir(run)
			for _, e := range ents {
				if strings.Contains(e.Name(), ".tmp-") && len(tc.sigs) == 1 {
					t.Errorf("left %s", e.Name())
				}
			}
			before, _ := progress.ReadLog(filepath.Join(run, "log.jsonl"))
			if _, err := os.Stat(filepath.Join(run, "last.safetensors")); err != nil {
				return // stopped before the first epoch ended: nothing to resume
			}
			epochs := len(before) + 1
			if _, stderr, code := exe(t, os.Environ(), bin, "train", "--data", data, "--out", run, "--resume", "--epochs", strconv.Itoa(epochs)); code != 0 {
				t.Fatalf("resume: exit %d\n%s", code, stderr)
			}
			after, err := progress.ReadLog(filepath.Join(run, "log.jsonl"))
			if err != nil || len(after) != epochs {
				t.Fatalf("log after resuming: %d records, want %d (%v)", len(after), epochs, err)
			}
			for i, rec := range after {
				if int(rec["epoch"].(float64)) != i+1 {
					t.Errorf("record %d is epoch %v", i, rec["epoch"])
				}
			}
		})
	}
}

// signalRun starts bin training on data, waits for its first checkpoint unless first,
// sends sigs 30 ms apart, and checks that it exits with code; it returns the run folder
// and what the binary wrote on stderr.
func signalRun(t *testing.T, bin, data string, sigs []syscall.Signal, code int, first bool) (run, msg string) {
	t.Helper()
	run = filepath.Join(t.TempDir(), "run")
	cmd := exec.Command(bin, "train", "--data", data, "--out", run)
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for !first {
		if _, err := os.Stat(filepath.Join(run, "last.safetensors")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("no checkpoint after 2 minutes")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	for i, s := range sigs {
		if i > 0 {
			// Not before the run has said it took the first: Go merges a signal that
			// arrives while the same one is still pending, and the goroutine that takes
			// it waits for a thread that the step's kernels hold.
			for !strings.Contains(stderr.String(), "stopping at the end of this step") && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
		}
		cmd.Process.Signal(s)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		t.Fatal("still running a minute after the signal")
	}
	if got := cmd.ProcessState.ExitCode(); got != code {
		t.Fatalf("exit %d, want %d\n%s", got, code, stderr.String())
	}
	return run, stderr.String()
}

// lockedBuffer is a bytes.Buffer that a process writes while a test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestThreadCountDoesNotChangeTraining trains one network, whose layers use every CPU
// method (Winograd, im2row, im2col, pointwise) and dropout, on 1, 2 and 3 threads: the
// weights, statistics and optimizer state must be bit-identical.
func TestThreadCountDoesNotChangeTraining(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and trains a binary")
	}
	bin := compileBinary(t, "model WRN-10-2 { input 1x16x16 classes 3 batch 12 dropout 0.3 }\ntrain { epochs 1 }")
	data := t.TempDir()
	rng := rand.New(rand.NewPCG(8, 9))
	writeIDX(t, data, "train", 100, 16, rng)
	writeIDX(t, data, "t10k", 20, 16, rng)
	var want []ckpt.Tensor
	for _, threads := range []string{"1", "2", "3"} {
		run := filepath.Join(t.TempDir(), "run")
		if _, stderr, code := exe(t, os.Environ(), bin, "train", "--data", data, "--out", run, "--threads", threads); code != 0 {
			t.Fatalf("--threads %s: exit %d\n%s", threads, code, stderr)
		}
		f, err := ckpt.Read(filepath.Join(run, "last.safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		if want == nil {
			want = f.Tensors
			continue
		}
		if len(f.Tensors) != len(want) {
			t.Fatalf("--threads %s: %d tensors, on 1 thread %d", threads, len(f.Tensors), len(want))
		}
		for i, got := range f.Tensors {
			for j, v := range got.Data {
				if math.Float32bits(v) != math.Float32bits(want[i].Data[j]) {
					t.Errorf("--threads %s: %s[%d] = %v, on 1 thread %v", threads, got.Name, j, v, want[i].Data[j])
					break
				}
			}
		}
	}
}
