package pass

import (
	"testing"

	"github.com/wrnc/wrnc/runtime/contract"
)

// conv3 and conv1 make 3x3 pad-1 and 1x1 unpadded convolutions of stride s on h x w.
func conv3(c, k, h, w, s int) contract.Conv {
	return contract.Conv{C: c, H: h, W: w, K: k, R: 3, S: s, P: 1, OH: (h-1)/s + 1, OW: (w-1)/s + 1}
}

func conv1(c, k, h, w, s int) contract.Conv {
	return contract.Conv{C: c, H: h, W: w, K: k, R: 1, S: s, P: 0, OH: (h-1)/s + 1, OW: (w-1)/s + 1}
}

// TestConvRules gives every rule of the table shapes it must decide, and shapes just past
// its condition that must fall to a later rule. Every rule needs a case.
func TestConvRules(t *testing.T) {
	tests := []struct {
		rule string
		q    convQuery
		want contract.Selection
	}{
		// 32x32 at batch 1: 64 tiles of 4x4, F(4x4).
		{"winograd-f4", convQuery{c: conv3(64, 64, 32, 32, 1), pass: contract.Forward, batch: 1}, contract.Selection{Method: contract.Winograd, Tile: 4}},
		// 8x8 at batch 128 (WRN-28-10's last group in training): many tiles, F(4x4).
		{"winograd-f4", convQuery{c: conv3(640, 640, 8, 8, 1), pass: contract.Dgrad, batch: 128}, contract.Selection{Method: contract.Winograd, Tile: 4}},
		// 8x8 at batch 2: 8 tiles, F(2x2); at batch 3: 12 tiles, F(4x4).
		{"winograd-f2-few-tiles", convQuery{c: conv3(64, 64, 8, 8, 1), pass: contract.Forward, batch: 2}, contract.Selection{Method: contract.Winograd, Tile: 2}},
		{"winograd-f4", convQuery{c: conv3(64, 64, 8, 8, 1), pass: contract.Wgrad, batch: 3}, contract.Selection{Method: contract.Winograd, Tile: 4}},
		// 4x4 at batch 1: one tile, F(2x2); 3x3 outputs are too small for Winograd.
		{"winograd-f2-few-tiles", convQuery{c: conv3(16, 16, 4, 4, 1), pass: contract.Forward, batch: 1}, contract.Selection{Method: contract.Winograd, Tile: 2}},
		{"im2row", convQuery{c: conv3(16, 16, 3, 3, 1), pass: contract.Forward, batch: 64}, contract.Selection{Method: contract.Im2row}},
		// 15 input channels are too few for Winograd's forward pass, and 15 output channels
		// for its input gradient (which runs the convolution backwards, from K to C).
		{"im2row", convQuery{c: conv3(15, 64, 32, 32, 1), pass: contract.Forward, batch: 64}, contract.Selection{Method: contract.Im2row}},
		{"im2row", convQuery{c: conv3(64, 15, 32, 32, 1), pass: contract.Dgrad, batch: 64}, contract.Selection{Method: contract.Im2row}},
		// Strided 3x3 and strided 1x1 convolutions with 8 or more channels.
		{"im2row", convQuery{c: conv3(160, 320, 32, 32, 2), pass: contract.Forward, batch: 128}, contract.Selection{Method: contract.Im2row}},
		{"im2row", convQuery{c: conv1(8, 16, 16, 16, 2), pass: contract.Wgrad, batch: 4}, contract.Selection{Method: contract.Im2row}},
		// 1x1 stride 1 on 56x56 and 32x32, forward and backward: pointwise.
		{"pointwise", convQuery{c: conv1(256, 128, 56, 56, 1), pass: contract.Forward, batch: 1}, contract.Selection{Method: contract.Pointwise}},
		{"pointwise", convQuery{c: conv1(128, 256, 56, 56, 1), pass: contract.Forward, batch: 16}, contract.Selection{Method: contract.Pointwise}},
		{"pointwise", convQuery{c: conv1(256, 128, 56, 56, 1), pass: contract.Wgrad, batch: 16}, contract.Selection{Method: contract.Pointwise}},
		{"pointwise", convQuery{c: conv1(256, 128, 32, 32, 1), pass: contract.Forward, batch: 16}, contract.Selection{Method: contract.Pointwise}},
		// 1x1 stride 1: pointwise, however many channels.
		{"pointwise", convQuery{c: conv1(16, 160, 32, 32, 1), pass: contract.Forward, batch: 128}, contract.Selection{Method: contract.Pointwise}},
		{"pointwise", convQuery{c: conv1(3, 4, 5, 5, 1), pass: contract.Dgrad, batch: 1}, contract.Selection{Method: contract.Pointwise}},
		// The first convolution on a 3-channel image, and a strided one with 7 channels.
		{"im2col", convQuery{c: conv3(3, 16, 32, 32, 1), pass: contract.Forward, batch: 128}, contract.Selection{Method: contract.Im2col}},
		{"im2col", convQuery{c: conv1(7, 16, 16, 16, 2), pass: contract.Forward, batch: 2}, contract.Selection{Method: contract.Im2col}},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		got, rule := selectConv(cpuConvRules, tt.q)
		if rule != tt.rule || got != tt.want {
			t.Errorf("%+v %s batch %d: rule %s %v, want rule %s %v", tt.q.c, tt.q.pass, tt.q.batch, rule, got, tt.rule, tt.want)
		}
		covered[tt.rule] = true
	}
	for _, r := range cpuConvRules {
		if !covered[r.Name] {
			t.Errorf("rule %s has no test", r.Name)
		}
		if r.Why == "" {
			t.Errorf("rule %s does not say why", r.Name)
		}
	}
}

// TestDerivedSizes checks the derived buffer sizes of the contract on a shape whose
// channels are not multiples of the blocking: Winograd pads input channels to 8 and
// output channels to 16, and swaps them for the input gradient.
func TestDerivedSizes(t *testing.T) {
	c := conv3(20, 33, 8, 8, 1)
	if got, want := contract.WinogradWeightsLen(&c, 4, false), 36*24*48; got != want {
		t.Errorf("F(4x4) forward: %d, want %d", got, want)
	}
	if got, want := contract.WinogradWeightsLen(&c, 2, true), 16*40*32; got != want {
		t.Errorf("F(2x2) input gradient: %d, want %d", got, want)
	}
	if got, want := contract.RowWeightsLen(&c, false), 48*9*24; got != want {
		t.Errorf("im2row forward: %d, want %d", got, want)
	}
	if got, want := contract.RowWeightsLen(&c, true), 33*224; got != want { // 9*24 = 216, rounded to 224
		t.Errorf("im2row input gradient: %d, want %d", got, want)
	}
}

// TestGPUConvRules checks the GPU table: the kernel variant by precision, tiles that fit
// the GEMM (64 wide where it is large, down to the fragment where it is small), threads
// and warps that cover a tile, and the launch grid (per image, but for the weight gradient,
// whose reduction runs over the images).
func TestGPUConvRules(t *testing.T) {
	big := conv3(160, 160, 32, 32, 1) // WRN-28-10's first group: GEMMs of 160 x 1024 x 1440
	tests := []struct {
		rule string
		q    convQuery
		want contract.Selection
	}{
		{"fma", convQuery{c: big, pass: contract.Forward, precision: "fp32"}, contract.Selection{Method: contract.GemmFMA,
			BM: 64, BN: 64, BK: 8, TM: 4, TN: 4, Threads: 256, Grid: [3]int{16, 3, 1}, PerImage: true}},
		// A 10 x 4 GEMM: one 16x16 tile, whose 4x4 thread tiles would leave 16 threads; they
		// halve, the larger first, until 128 threads (1x2 each).
		{"fma", convQuery{c: conv1(16, 10, 2, 2, 1), pass: contract.Forward, precision: "fp32"}, contract.Selection{Method: contract.GemmFMA,
			BM: 16, BN: 16, BK: 8, TM: 1, TN: 2, Threads: 128, Grid: [3]int{1, 1, 1}, PerImage: true}},
		{"mma", convQuery{c: big, pass: contract.Dgrad, precision: "bf16"}, contract.Selection{Method: contract.GemmMMA,
			BM: 64, BN: 64, BK: 16, WM: 2, WN: 2, Threads: 128, Grid: [3]int{16, 3, 1}, PerImage: true}},
		// The weight gradient, 160 x 1440 over the images: one grid for the whole batch.
		{"mma", convQuery{c: big, pass: contract.Wgrad, precision: "tf32"}, contract.Selection{Method: contract.GemmMMA,
			BM: 64, BN: 64, BK: 16, WM: 2, WN: 2, Threads: 128, Grid: [3]int{23, 3, 1}}},
		// A small GEMM (16 x 4): 16x8 tiles, one warp.
		{"mma", convQuery{c: conv1(8, 16, 2, 2, 1), pass: contract.Forward, precision: "bf16"}, contract.Selection{Method: contract.GemmMMA,
			BM: 16, BN: 8, BK: 16, WM: 1, WN: 1, Threads: 32, Grid: [3]int{1, 1, 1}, PerImage: true}},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		got, rule := selectConv(gpuConvRules, tt.q)
		if rule != tt.rule || got != tt.want {
			t.Errorf("%+v %s %s: rule %s %+v, want rule %s %+v", tt.q.c, tt.q.pass, tt.q.precision, rule, got, tt.rule, tt.want)
		}
		covered[tt.rule] = true
	}
	for _, r := range gpuConvRules {
		if !covered[r.Name] || r.Why == "" {
			t.Errorf("rule %s: no test or no reason", r.Name)
		}
	}
}
