package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wrnc/wrnc/runtime/sysmem"
)

func runWrnc(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func write(t *testing.T, name, src string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestExitStatus(t *testing.T) {
	good := write(t, "good.wrn", "model WRN-16-4")
	bad := write(t, "bad.wrn", "model WRN-41-4")
	tests := []struct {
		args   []string
		code   int
		stdout string // a substring, "" for none expected
		stderr string
	}{
		{[]string{}, 2, "", "Usage:"},
		{[]string{"--help"}, 0, "wrnc compile FILE.wrn", ""},
		{[]string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{[]string{"check", good}, 0, "", ""},
		{[]string{"check", good, bad}, 1, "", "bad.wrn:1:7: WRN-41-4: depth 41"},
		{[]string{"check"}, 2, "", "no .wrn file given"},
		{[]string{"check", "--nope", good}, 2, "", "flag provided but not defined: -nope"},
		{[]string{"check", filepath.Join(t.TempDir(), "missing.wrn")}, 1, "", "no such file"},
		{[]string{"check", "--help"}, 0, "Usage: wrnc check", ""},
		{[]string{"inspect", good}, 0, "2,748,890 trainable parameters", ""},
		{[]string{"inspect", bad}, 1, "", "nearest valid depths: 40, 46"},
		{[]string{"inspect", good, good}, 2, "", "want one .wrn file, got 2"},
		{[]string{"inspect", "--help"}, 0, "-json", ""},
		{[]string{"compile", "--help"}, 0, "-device", ""},
	}
	for _, tt := range tests {
		code, stdout, stderr := runWrnc(tt.args...)
		if code != tt.code || !strings.Contains(stdout, tt.stdout) || !strings.Contains(stderr, tt.stderr) {
			t.Errorf("wrnc %q: exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q",
				tt.args, code, stdout, stderr, tt.code, tt.stdout, tt.stderr)
		}
	}
}

// TestInspectJSON checks the fields of `inspect --json` on networks of both families that no
// table of the paper lists, against counts worked out by hand.
func TestInspectJSON(t *testing.T) {
	tests := []struct {
		src    string
		fields map[string]any
	}{
		{"model WRN-10-1 {\n input 1x28x28\n classes 10\n}", map[string]any{
			"name": "WRN-10-1", "family": "cifar", "depth": 10.0, "width": 1.0, "kernels": []any{3.0, 3.0},
			"input": []any{1.0, 28.0, 28.0}, "classes": 10.0,
			// conv0 144, group0 32+2304+32+2304, group1 32+4608+64+9216+512, group2 64+18432+128+36864+2048, bn 128, fc 650
			"params": 77562.0,
		}},
		{"model WRN-34-1 {\n family imagenet\n input 3x64x64\n classes 200\n}", map[string]any{
			"name": "WRN-34-1", "family": "imagenet", "kernels": []any{3.0, 3.0}, "classes": 200.0,
			// torchvision resnet34 has 21,797,672 parameters with 1000 classes; 800 fewer outputs of 513 each
			"params": 21797672.0 - 800*513,
		}},
	}
	for _, tt := range tests {
		path := write(t, "n.wrn", tt.src)
		code, stdout, stderr := runWrnc("inspect", path, "--json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var got map[string]any
		if err := json.Unmarshal([]byte(stdout), &got); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, stdout)
		}
		for k, want := range tt.fields {
			if g, _ := json.Marshal(got[k]); string(g) != mustJSON(want) {
				t.Errorf("%s: %s = %s, want %s", tt.src, k, g, mustJSON(want))
			}
		}
		if macs, _ := got["macs"].(float64); macs <= 0 {
			t.Errorf("macs = %v", got["macs"])
		}
	}
}

// TestInspectMethods checks the methods `inspect --json` gives each layer per phase: a
// 3x3 convolution's Winograd passes in training, inference at the batch and at batch 1, its
// SGD update and weight transforms in the step phase; a strided one by im2row; a BN and the
// FC layer with the loss; no methods for layers fused into others.
func TestInspectMethods(t *testing.T) {
	path := write(t, "n.wrn", "model WRN-10-1 {\n input 1x28x28\n batch 7\n}")
	code, stdout, stderr := runWrnc("inspect", path, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got struct {
		Layers []struct {
			Name    string                               `json:"name"`
			Methods map[string]map[string]map[string]any `json:"methods"`
		} `json:"layers"`
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatal(err)
	}
	methods := map[string]map[string]map[string]map[string]any{}
	for _, l := range got.Layers {
		methods[l.Name] = l.Methods
	}
	want := map[string]string{
		"group0.block0.conv0 train forward":  `{"method":"winograd","tile":4}`,
		"group0.block0.conv0 train dgrad":    `{"method":"winograd","tile":4}`,
		"group0.block0.conv0 train wgrad":    `{"method":"winograd","tile":4}`,
		"group0.block0.conv0 infer forward":  `{"method":"winograd","tile":4}`,
		"group0.block0.conv0 infer1 forward": `{"method":"winograd","tile":4}`,
		"group0.block0.conv0 step update":    `{"method":"sgd"}`,
		"group0.block0.conv0 step weights":   `{"method":"winograd-weights","tile":4}`,
		"group2.block0.conv1 infer1 forward": `{"method":"winograd","tile":2}`,
		"group1.block0.conv0 train forward":  `{"method":"im2row"}`,
		"group1.block0.conv0 step weights":   `{"method":"im2row-weights"}`,
		"conv0 train wgrad":                  `{"method":"im2col"}`,
		"group0.block0.bn0 train forward":    `{"method":"bn-batch-stats"}`,
		"group0.block0.bn0 infer forward":    `{"method":"bn-running"}`,
		"group0.block0.bn0 train backward":   `{"method":"bnrelu-backward"}`,
		"fc train loss":                      `{"method":"softmax-ce"}`,
		// fp32: FMA. Forward, a 16 x 784 GEMM: 16x64 tiles, 2x4 per thread, 13 tiles per
		// image; the weight gradient, 16 x 144 over all images: 3 tiles for the batch.
		"group0.block0.conv0 train gpu.forward": `{"bk":8,"bm":16,"bn":64,"grid":[13,1,1],"method":"implicit-gemm-fma","per_image":true,"threads":128,"tm":2,"tn":4}`,
		"group0.block0.conv0 train gpu.wgrad":   `{"bk":8,"bm":16,"bn":64,"grid":[3,1,1],"method":"implicit-gemm-fma","threads":128,"tm":2,"tn":4}`,
	}
	for key, w := range want {
		var layer, phase, pass string
		fmt.Sscan(key, &layer, &phase, &pass)
		if g := mustJSON(methods[layer][phase][pass]); g != w {
			t.Errorf("%s: %s, want %s", key, g, w)
		}
	}
	if m := methods["group0.block0.relu0"]; len(m) != 0 {
		t.Errorf("a fused ReLU has methods %v", m)
	}
	if _, ok := methods["conv0"]["train"]["dgrad"]; ok {
		t.Errorf("the first conv has an input gradient: %v", methods["conv0"]["train"])
	}
	code, table, _ := runWrnc("inspect", path)
	if code != 0 || !strings.Contains(table, "train: fwd wino4 dgrad wino4 wgrad wino4; infer: fwd wino4; infer1: fwd wino4; step: weights wino4 weights-dgrad wino4") {
		t.Errorf("inspect's table does not show the methods:\n%s", table)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestCompileOutput checks what -o may name: a folder gets the binary under the network's
// name, and a path that cannot take a binary is refused before anything is built, with a
// message that names the path rather than blaming wrnc.
func TestCompileOutput(t *testing.T) {
	wrn := write(t, "net.wrn", "model WRN-10-1 { input 1x8x8 classes 2 batch 2 }")
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(text, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, out, msg string }{
		{"existing file", text, "exists and is not a program"},
		{"missing folder", filepath.Join(dir, "none", "bin"), "does not exist"},
		{"under /proc", "/proc/wrnc-bin", "cannot write in /proc"},
		{"under a file", filepath.Join(text, "bin"), "is not a folder"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runWrnc("compile", wrn, "-o", tc.out)
			if code == 0 || !strings.Contains(stderr, tc.msg) || strings.Contains(stderr, "bug in wrnc") || strings.Contains(stderr, "compiling") {
				t.Errorf("exit %d, stderr:\n%s\nwant a refusal saying %q before building", code, stderr, tc.msg)
			}
		})
	}
	if b, err := os.ReadFile(text); err != nil || string(b) != "keep me" {
		t.Errorf("the existing file was changed: %q %v", b, err)
	}
	if testing.Short() {
		return
	}
	// A folder: the binary goes inside under the network's name, and the message says so.
	code, _, stderr := runWrnc("compile", wrn, "-o", dir)
	bin := filepath.Join(dir, "wrn-10-1")
	if code != 0 || !strings.Contains(stderr, bin) {
		t.Fatalf("exit %d, stderr:\n%s\nwant it to say it writes %s", code, stderr, bin)
	}
	if out, err := exec.Command(bin, "info").CombinedOutput(); err != nil || !strings.Contains(string(out), "WRN-10-1") {
		t.Errorf("%s info: %v\n%s", bin, err, out)
	}
	// Compiling again replaces the binary.
	if code, _, stderr := runWrnc("compile", wrn, "-o", bin); code != 0 {
		t.Errorf("recompiling over the binary: exit %d\n%s", code, stderr)
	}
}

// TestEmitCUDANeedsNoCUDAFolder checks that --device cuda --emit writes the package without
// a CUDA folder, which only building needs.
func TestEmitCUDANeedsNoCUDAFolder(t *testing.T) {
	wrn := write(t, "net.wrn", "model WRN-10-1 { input 1x8x8 classes 2 batch 2 }")
	t.Setenv("CUDA_HOME", filepath.Join(t.TempDir(), "no-cuda"))
	emit := filepath.Join(t.TempDir(), "pkg")
	if code, _, stderr := runWrnc("compile", "--device", "cuda", "--emit", emit, wrn); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, f := range []string{"go.mod", "gpu.go", "main.go"} {
		if _, err := os.Stat(filepath.Join(emit, f)); err != nil {
			t.Errorf("the emitted package lacks %s: %v", f, err)
		}
	}
	if code, _, stderr := runWrnc("compile", "--device", "cuda", wrn, "-o", filepath.Join(t.TempDir(), "bin")); code == 0 || !strings.Contains(stderr, "not a CUDA folder") {
		t.Errorf("building without a CUDA folder: exit %d\n%s", code, stderr)
	}
}

// TestMaxMemory checks that a network whose training cannot fit is refused before code
// generation, naming the sizes, and that --max-memory moves the limit.
func TestMaxMemory(t *testing.T) {
	big := write(t, "big.wrn", "model WRN-16-256 { input 1x12x12 }")
	code, _, stderr := runWrnc("compile", big, "-o", filepath.Join(t.TempDir(), "big"))
	for _, want := range []string{"big.wrn: WRN-16-256 needs 276.2 GiB to train", "125.1 GiB of weights", "at batch 128", "--max-memory " + sysmem.Bytes(machineMemory())} {
		if code == 0 || !strings.Contains(stderr, want) {
			t.Errorf("exit %d, stderr lacks %q:\n%s", code, want, stderr)
		}
	}
	small := write(t, "small.wrn", "model WRN-10-1 { input 1x8x8 classes 2 batch 2 }")
	emit := filepath.Join(t.TempDir(), "pkg")
	if code, _, stderr := runWrnc("compile", "--max-memory", "100KiB", "--emit", emit, small); code == 0 || !strings.Contains(stderr, "more than --max-memory 100.0 KiB") {
		t.Errorf("a 100 KiB limit: exit %d\n%s", code, stderr)
	}
	if code, _, stderr := runWrnc("compile", "--max-memory", "1GiB", "--emit", emit, small); code != 0 {
		t.Errorf("a 1 GiB limit: exit %d\n%s", code, stderr)
	}
	for _, bad := range []string{"lots", "-1GiB", "0", "1e30TiB"} {
		if code, _, stderr := runWrnc("compile", "--max-memory", bad, "--emit", emit, small); code != 2 || !strings.Contains(stderr, "want a positive size") {
			t.Errorf("--max-memory %s: exit %d\n%s", bad, code, stderr)
		}
	}
}
