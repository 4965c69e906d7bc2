package compiler_test

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wrnc/wrnc/compiler"
	"github.com/wrnc/wrnc/compiler/ir"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func compileFile(t *testing.T, path string) *ir.Program {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := compiler.Compile(path, src)
	if err != nil {
		t.Fatalf("Compile(%s): %v", path, err)
	}
	return p
}

// TestPaperCounts checks the parameter and MAC counts of the paper's networks: exactly where
// the original code's logs or the issue give the number, and as the paper rounds it
// (millions, one decimal) for every row of DSL.md's reference table.
func TestPaperCounts(t *testing.T) {
	tests := []struct {
		file   string
		params int64   // exact, 0 when only the paper's rounded figure is known
		paperM float64 // the paper's figure in millions
		gmac   float64 // 0 when not checked
	}{
		{"wrn-40-1", 0, 0.6, 0},
		{"wrn-40-2", 0, 2.2, 0},
		{"wrn-40-4", 8_949_210, 8.9, 0},
		{"wrn-40-8", 0, 35.7, 0},
		{"wrn-28-10", 36_479_194, 36.5, 5.243},
		{"wrn-28-12", 0, 52.5, 0},
		{"wrn-22-8", 0, 17.2, 0},
		{"wrn-22-10", 0, 26.8, 0},
		{"wrn-16-8", 0, 11.0, 0},
		{"wrn-16-10", 0, 17.1, 0},
		{"wrn-16-4", 2_748_890, 2.7, 0},
		{"wrn-40-2-b31", 0, 1.2, 0},
		{"wrn-40-2-b13", 0, 1.3, 0},
		{"wrn-28-2", 0, 1.5, 0},
		{"wrn-58-2-b131", 0, 1.4, 0},
		{"wrn-18-1-imagenet", 11_689_512, 11.7, 0}, // torchvision resnet18
		{"wrn-18-1.5-imagenet", 0, 25.9, 0},
		{"wrn-18-2-imagenet", 0, 45.6, 0},
		{"wrn-18-3-imagenet", 0, 101.8, 0},
		{"wrn-50-1-bottleneck", 25_557_032, 25.6, 0}, // torchvision resnet50
		{"wrn-50-2-bottleneck", 68_883_240, 68.9, 11.40},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			p := compileFile(t, filepath.Join("..", "testdata", tt.file+".wrn"))
			params, macs := compiler.Params(p), compiler.MACs(p)
			if tt.params != 0 && params != tt.params {
				t.Errorf("params = %d, want %d", params, tt.params)
			}
			if got := math.Round(float64(params)/1e5) / 10; got != tt.paperM {
				t.Errorf("params = %d (%.1fM), the paper says %.1fM", params, got, tt.paperM)
			}
			if tt.gmac != 0 {
				digits := math.Pow(10, float64(len(fmt.Sprint(tt.gmac))-2))
				if got := math.Round(float64(macs)/1e9*digits) / digits; got != tt.gmac {
					t.Errorf("MACs = %d (%g G), want %g G", macs, got, tt.gmac)
				}
			}
		})
	}
}

// TestUnseenNetworks checks counts of networks no table lists against an independent
// closed-form count of the cifar layout.
func TestUnseenNetworks(t *testing.T) {
	tests := []struct {
		src     string
		kernels []int
		k       float64
		n       int
		input   [3]int
		classes int
	}{
		{"model WRN-10-1 {\n input 1x28x28\n}", []int{3, 3}, 1, 1, [3]int{1, 28, 28}, 10},
		{"model WRN-22-3 {\n input 3x48x48\n classes 100\n}", []int{3, 3}, 3, 3, [3]int{3, 48, 48}, 100},
		{"model WRN-13-1.5-B(1,5,7) {\n input 2x33x17\n classes 7\n}", []int{1, 5, 7}, 1.5, 1, [3]int{2, 33, 17}, 7},
		{"model WRN-16-2-B(5) {\n classes 2\n}", []int{5}, 2, 4, [3]int{3, 32, 32}, 2},
		{"model WRN-28-0.5-B(7,1,3,1) {\n input 3x9x9\n}", []int{7, 1, 3, 1}, 0.5, 2, [3]int{3, 9, 9}, 10},
	}
	for _, tt := range tests {
		t.Run(strings.Fields(tt.src)[1], func(t *testing.T) {
			p, err := compiler.Compile("unseen.wrn", []byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			params, macs := cifarCounts(tt.kernels, tt.k, tt.n, tt.input, tt.classes)
			if got := compiler.Params(p); got != params {
				t.Errorf("params = %d, want %d", got, params)
			}
			if got := compiler.MACs(p); got != macs {
				t.Errorf("MACs = %d, want %d", got, macs)
			}
		})
	}
}

// cifarCounts counts a cifar-family WRN by the formulas of the paper's Table 1, written
// independently of the compiler's layer builder.
func cifarCounts(kernels []int, k float64, n int, input [3]int, classes int) (params, macs int64) {
	h, w := int64(input[1]), int64(input[2])
	c := int64(16)
	params = int64(input[0]) * 16 * 9
	macs = params * h * w
	for g := 0; g < 3; g++ {
		width := int64(math.Round(16 * float64(int(1)<<g) * k))
		for b := 0; b < n; b++ {
			if b == 0 && g > 0 {
				h, w = (h+1)/2, (w+1)/2
			}
			params += 2 * c // bn0
			ci := c
			for i, kk := range kernels {
				if i > 0 {
					params += 2 * width
				}
				conv := width * ci * int64(kk*kk)
				params += conv
				macs += conv * h * w
				ci = width
			}
			if c != width || (b == 0 && g > 0) {
				params += c * width
				macs += c * width * h * w
			}
			c = width
		}
	}
	params += 2*c + c*int64(classes) + int64(classes)
	macs += c * int64(classes)
	return params, macs
}

// TestGoldenIR compares the IR dump of every network in testdata/ with its golden file;
// `go test ./compiler -update` rewrites them. The lowering (parameters, ops, fused
// kernels) is kept for every network; the backend's phases (steps, methods, memory plan)
// only for the small MNIST networks, so that the golden files stay reviewable (the passes
// have table tests of their own in compiler/pass).
func TestGoldenIR(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "*.wrn"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".wrn")
		t.Run(name, func(t *testing.T) {
			var got bytes.Buffer
			p := compileFile(t, path)
			if !strings.Contains(name, "mnist") {
				p.Phases, p.Shared = nil, 0
			}
			if err := ir.Dump(&got, p); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("..", "testdata", "ir", name+".ir")
			if *update {
				if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./compiler -update)", err)
			}
			if diff := cmp.Diff(string(want), got.String()); diff != "" {
				t.Errorf("IR of %s differs from %s (-want +got):\n%s", path, golden, diff)
			}
		})
	}
}

// TestStatementsShareLines compiles files that put several statements, and whole blocks, on
// one line, as DSL.md allows: each gives the program of the same file written one
// statement per line.
func TestStatementsShareLines(t *testing.T) {
	const lines = "model WRN-10-1 {\n  input 3x33x31\n  classes 7\n  dropout 0.3\n  batch 7\n}\n" +
		"train {\n  epochs 3\n  sgd lr=0.05 momentum=0.8\n  schedule step gamma=0.1 at=1,2\n  augment flip crop=2\n  normalize scale\n  seed 7\n}\n"
	want, err := compiler.Compile("lines.wrn", []byte(lines))
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{
		"model WRN-10-1 { input 3x33x31 classes 7 dropout 0.3 batch 7 }\n" +
			"train { epochs 3 sgd lr=0.05 momentum=0.8 schedule step gamma=0.1 at=1,2 augment flip crop=2 normalize scale seed 7 }\n",
		"model WRN-10-1 {input 3x33x31 classes 7\n dropout 0.3 batch 7 } train { epochs 3 sgd lr=0.05 momentum=0.8\n" +
			"schedule step gamma=0.1 at=1,2 # a comment\n augment flip crop=2 normalize scale\n seed 7 }",
	} {
		got, err := compiler.Compile("one.wrn", []byte(src))
		if err != nil {
			t.Errorf("%q: %v", src, err)
			continue
		}
		got.Source = want.Source
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%q: program differs (-lines +one line):\n%s", src, diff)
		}
	}
	// Sharing a line does not hide the errors of each statement.
	for src, msg := range map[string]string{
		"model WRN-10-1 { input 1x12x12 classes 3 classes 4 }": "one.wrn:1:42: classes given twice (first at 1:32)",
		"model WRN-10-1 { input 1x12x12 epochs 3 }":            "one.wrn:1:32: epochs belongs in the train block, not in model",
		"model{batch}": "one.wrn:1:7: batch takes one value, e.g. `batch 128`",
		"model WRN-10-1 { input 1x12x12 clases 3 }": "one.wrn:1:18: input takes one value, e.g. `input 3x32x32`; \"clases\" at 1:32 is not a statement (did you mean \"classes\"?)",
	} {
		_, err := compiler.Compile("one.wrn", []byte(src))
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%q: error %v, want %q", src, err, msg)
		}
	}
}
