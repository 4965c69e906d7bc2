package main

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/wrnc/wrnc/runtime/ckpt"
	"github.com/wrnc/wrnc/runtime/data"
	"github.com/wrnc/wrnc/runtime/progress"
)

// torchWRN is the PyTorch reference of both families (../shared/bench/torch/torch_wrn.py).
var torchWRN = filepath.Join("..", "..", "..", "shared", "bench", "torch", "torch_wrn.py")

// pySafetensors reads and writes safetensors files (F32 and I64) in Python, for the
// scripts below: Debian's torch 1.13 has no safetensors module.
const pySafetensors = `
import json, struct, sys
import numpy as np, torch

def load(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n])
    out = {}
    for name, t in h.items():
        if name == "__metadata__":
            continue
        s, e = t["data_offsets"]
        dt = {"F32": "<f4", "I64": "<i8"}[t["dtype"]]
        out[name] = torch.from_numpy(np.frombuffer(b[8 + n + s:8 + n + e], dtype=dt).reshape(t["shape"]).copy())
    return out

def save(path, sd):
    header, blobs, off = {}, [], 0
    for name in sorted(sd):
        t = sd[name].detach().cpu()
        if t.dtype == torch.int64:
            a, dt = t.numpy().astype("<i8").tobytes(), "I64"
        else:
            a, dt = t.float().numpy().astype("<f4").tobytes(), "F32"
        header[name] = {"dtype": dt, "shape": list(t.shape), "data_offsets": [off, off + len(a)]}
        blobs.append(a)
        off += len(a)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    open(path, "wb").write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
`

// tvExport makes a torchvision model with random weights and perturbed BN statistics,
// saves its state_dict (num_batches_tracked included) and its logits on x.npy.
const tvExport = pySafetensors + `
import torchvision
arch, classes, out, npy, logits = sys.argv[1:6]
torch.manual_seed(3)
net = getattr(torchvision.models, arch)(num_classes=int(classes))
with torch.no_grad():
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.weight.normal_(1, 0.1); m.bias.normal_(0, 0.1)
            m.running_mean.normal_(0, 0.1); m.running_var.uniform_(1, 1.2)
            m.num_batches_tracked.fill_(11)
net.eval()
save(out, net.state_dict())
with torch.no_grad():
    y = net(torch.from_numpy(np.load(npy)))
np.save(logits, y.numpy().astype("<f4"))
`

// tvLoad loads one of our checkpoints into a torchvision model with strict=True and writes
// its logits on x.npy and the num_batches_tracked counts it holds.
const tvLoad = pySafetensors + `
import torchvision
arch, classes, weights, npy, logits = sys.argv[1:6]
net = getattr(torchvision.models, arch)(num_classes=int(classes))
sd = load(weights)
# The optimizer's state (for --resume) travels under __optim__.; the rest is the state_dict.
net.load_state_dict({k: v for k, v in sd.items() if not k.startswith("__optim__.")}, strict=True)
net.eval()
with torch.no_grad():
    y = net(torch.from_numpy(np.load(npy)))
np.save(logits, y.numpy().astype("<f4"))
print(json.dumps(sorted(set(int(v) for k, v in sd.items() if k.endswith("num_batches_tracked")))))
`

// randomNPY writes n random images of shape c x h x w to path.
func randomNPY(t *testing.T, path string, n int, shape []int, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	size := n
	for _, d := range shape {
		size *= d
	}
	x := make([]float32, size)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	if err := ckpt.WriteNPY(path, append([]int{n}, shape...), x); err != nil {
		t.Fatal(err)
	}
}

func readNPY(t *testing.T, path string) []float32 {
	t.Helper()
	_, d, err := ckpt.ReadNPY(path)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func runPython(t *testing.T, script string, args ...string) string {
	t.Helper()
	out, err := exec.Command(python3, append([]string{"-c", script}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	return string(out)
}

func runBin(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, out)
	}
	return string(out)
}

func f64s(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// TestTorchvisionWeights runs torchvision's resnet18 and wide_resnet50_2, with random
// weights and perturbed BN statistics, as compiled networks: their state_dicts (int64
// num_batches_tracked included) load as our weights and give torchvision's logits.
func TestTorchvisionWeights(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries")
	}
	needPython(t, "torch", "torchvision")
	for _, tc := range []struct{ arch, src string }{
		{"resnet18", "model WRN-18-1 {\n family imagenet\n input 3x64x64\n classes 10\n batch 2\n}"},
		{"wide_resnet50_2", "model WRN-50-2-bottleneck {\n input 3x64x64\n classes 10\n batch 2\n}"},
	} {
		t.Run(tc.arch, func(t *testing.T) {
			dir := t.TempDir()
			bin := compileBinary(t, tc.src)
			x, w, want, got := filepath.Join(dir, "x.npy"), filepath.Join(dir, "tv.safetensors"), filepath.Join(dir, "tv.npy"), filepath.Join(dir, "ours.npy")
			randomNPY(t, x, 3, []int{3, 64, 64}, 9)
			runPython(t, tvExport, tc.arch, "10", w, x, want)
			runBin(t, bin, "predict", "--weights", w, "--npy", x, "--out", got)
			if e := relErr(readNPY(t, got), f64s(readNPY(t, want))); e > 1e-4 {
				t.Errorf("logits: relative error %.2e against torchvision", e)
			}
		})
	}
}

// TestTorchReferenceImageNet compares a compiled imagenet-family network with
// torch_wrn.py's: logits in inference on torch_wrn.py's random weights (BN statistics
// perturbed), and one SGD step in training (the weights and the running statistics after
// it).
func TestTorchReferenceImageNet(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries")
	}
	needPython(t, "torch")
	const model, input, classes = "WRN-18-0.5", "3x64x64", "6"
	src := "model " + model + " {\n family imagenet\n input " + input + "\n classes " + classes + "\n batch 4\n}\n" +
		"train {\n sgd lr=0.1 momentum=0.9 nesterov=false weight_decay=1e-4\n}"
	dir := t.TempDir()
	w, x, labels := filepath.Join(dir, "w.safetensors"), filepath.Join(dir, "x.npy"), filepath.Join(dir, "labels.npy")
	torchArgs := []string{torchWRN, "--family", "imagenet", "--model", model, "--input", input, "--classes", classes}
	randomNPY(t, x, 4, []int{3, 64, 64}, 5)
	if err := ckpt.WriteNPY(labels, []int{4}, []float32{0, 5, 2, 2}); err != nil {
		t.Fatal(err)
	}
	torch := func(verb string, extra ...string) {
		t.Helper()
		args := append([]string{torchArgs[0], verb}, torchArgs[1:]...)
		if out, err := exec.Command(python3, append(args, extra...)...).CombinedOutput(); err != nil {
			t.Fatalf("torch_wrn.py %s: %v\n%s", verb, err, out)
		}
	}
	torch("init", "--seed", "4", "--out", w)

	t.Run("logits", func(t *testing.T) {
		bin := compileBinary(t, src)
		want, got := filepath.Join(dir, "torch.npy"), filepath.Join(dir, "ours.npy")
		torch("logits", "--weights", w, "--npy", x, "--out", want)
		runBin(t, bin, "predict", "--weights", w, "--npy", x, "--out", got)
		if e := relErr(readNPY(t, got), f64s(readNPY(t, want))); e > 1e-4 {
			t.Errorf("logits: relative error %.2e against torch_wrn.py", e)
		}
	})

	for _, device := range []string{"cpu", "sim"} {
		t.Run("step-"+device, func(t *testing.T) {
			_, bin := buildHarness(t, src, device)
			hd := t.TempDir()
			for _, f := range [][2]string{{w, "params.safetensors"}, {x, "x.npy"}, {labels, "labels.npy"}} {
				copyFile(t, f[0], filepath.Join(hd, f[1]))
			}
			harness := func(dir string) {
				t.Helper()
				cmd := exec.Command(bin)
				cmd.Env = append(cmd.Environ(), "WRNC_HARNESS="+dir)
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("harness: %v\n%s", err, out)
				}
			}
			harness(hd)
			// Inference after the training forward pass (which moved the running
			// statistics) equals inference of a net loaded with those statistics: the
			// BNs folded into the weights are folded again when the statistics change.
			again := t.TempDir()
			for _, f := range [][2]string{{filepath.Join(hd, "trained.safetensors"), "params.safetensors"}, {x, "x.npy"}, {labels, "labels.npy"}} {
				copyFile(t, f[0], filepath.Join(again, f[1]))
			}
			harness(again)
			before, after, loaded := readNPY(t, filepath.Join(hd, "infer.npy")), readNPY(t, filepath.Join(hd, "infer-trained.npy")), readNPY(t, filepath.Join(again, "infer.npy"))
			if e := relErr(after, f64s(loaded)); e > 1e-6 {
				t.Errorf("inference after a training forward pass: relative error %.2e against a net loaded with its statistics (stale folded BNs?)", e)
			}
			if e := relErr(after, f64s(before)); e < 1e-3 {
				t.Errorf("inference after a training forward pass is within %.2e of inference before it: the running statistics did not move", e)
			}
			want := filepath.Join(dir, "torch-step-"+device+".safetensors")
			torch("step", "--weights", w, "--npy", x, "--labels", labels, "--out", want,
				"--lr", "0.1", "--momentum", "0.9", "--wd", "1e-4", "--nesterov", "0")
			wf, err := ckpt.Read(want)
			if err != nil {
				t.Fatal(err)
			}
			stepped, err := ckpt.Read(filepath.Join(hd, "step.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			stats, err := ckpt.Read(filepath.Join(hd, "out.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			checked := 0
			for _, wt := range wf.Tensors {
				from := stepped
				if strings.HasSuffix(wt.Name, "running_mean") || strings.HasSuffix(wt.Name, "running_var") {
					from = stats // the running statistics after the training forward pass
				}
				got, ok := from.Get(wt.Name)
				if !ok {
					t.Fatalf("%s: missing from the compiled step", wt.Name)
				}
				if e := relErr(got.Data, f64s(wt.Data)); e > 1e-4 {
					t.Errorf("%s after one step: relative error %.2e against torch_wrn.py step", wt.Name, e)
				}
				checked++
			}
			if checked < 50 {
				t.Errorf("compared only %d tensors", checked)
			}
		})
	}
}

// decodeJSON unmarshals the last line of out into v.
func decodeJSON(t *testing.T, out string, v any) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), v); err != nil {
		t.Fatalf("%v in %q", err, out)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// tvEpochs is the epochs of TestImageNetTrainsAndLoadsInTorchvision.
const tvEpochs = 10

// TestImageNetTrainsAndLoadsInTorchvision trains resnet18's layout (WRN-18-1, imagenet
// family, at 3x64x64) on a small folder of JPEGs and PNGs of mixed sizes with the family's
// recipe (random-resized crops, flips, ImageNet normalization), checks that it learns,
// and loads its checkpoint into torchvision's resnet18 with load_state_dict(strict=True):
// torchvision's logits equal ours, and every num_batches_tracked counts the steps taken.
//
// Learning is judged on 60 test images after tvEpochs epochs: at 6 epochs (24 steps) and
// 18 test images the test error had passed by luck (0.40 on 60 images, as the running BN
// statistics of so few steps trail the weights), and a change of rounding in the FC layer
// failed it.
func TestImageNetTrainsAndLoadsInTorchvision(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and trains a binary")
	}
	needPython(t, "torch", "torchvision")
	bin := compileBinary(t, "model WRN-18-1 {\n family imagenet\n input 3x64x64\n classes 3\n batch 12\n}\n"+
		"train {\n epochs "+strconv.Itoa(tvEpochs)+"\n sgd lr=0.02\n}")
	dir := t.TempDir()
	if _, err := data.WriteImageFolder(dir, data.FolderSpec{Classes: 3, Train: 16, Test: 20,
		MinSize: [2]int{48, 56}, MaxSize: [2]int{96, 120}, Seed: 4}); err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(t.TempDir(), "run")
	runBin(t, bin, "train", "--data", dir, "--out", run, "--threads", "2")
	log, err := progress.ReadLog(filepath.Join(run, "log.jsonl"))
	if err != nil || len(log) != tvEpochs {
		t.Fatalf("log.jsonl: %d records, %v", len(log), err)
	}
	// Chance is a loss of ln 3 = 1.10 and an error of 0.67.
	if loss, testErr := log[tvEpochs-1]["train_loss"].(float64), log[tvEpochs-1]["test_error"].(float64); loss > 0.8 || testErr > 0.34 {
		t.Errorf("did not learn: train loss %.3f, test error %.2f after %d epochs", loss, testErr, tvEpochs)
	} else {
		t.Logf("train loss %.3f, test error %.2f after %d epochs", loss, testErr, tvEpochs)
	}
	weights := filepath.Join(run, "last.safetensors")
	x, want, got := filepath.Join(dir, "x.npy"), filepath.Join(dir, "tv.npy"), filepath.Join(dir, "ours.npy")
	randomNPY(t, x, 2, []int{3, 64, 64}, 3)
	var counts []int
	decodeJSON(t, runPython(t, tvLoad, "resnet18", "3", weights, x, want), &counts)
	runBin(t, bin, "predict", "--weights", weights, "--npy", x, "--out", got)
	if e := relErr(readNPY(t, got), f64s(readNPY(t, want))); e > 1e-4 {
		t.Errorf("logits of our checkpoint in torchvision: relative error %.2e", e)
	}
	// 48 training images in batches of 12: 4 steps an epoch.
	if len(counts) != 1 || counts[0] != tvEpochs*4 {
		t.Errorf("num_batches_tracked = %v, want every BN at %d", counts, tvEpochs*4)
	}
}
