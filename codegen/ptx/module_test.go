package ptx

import (
	"github.com/wrnc/wrnc/runtime/contract"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wrnc/wrnc/runtime/nn"
	"github.com/wrnc/wrnc/runtime/sim"
)

func TestModuleHeader(t *testing.T) {
	e, err := BNInfer("bn_infer", 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []Target{SM80, SM90} {
		got, err := Module(target, e)
		if err != nil {
			t.Fatal(err)
		}
		want := ".version 7.8\n.target " + string(target) + "\n.address_size 64\n"
		if !strings.Contains(got, want) {
			t.Errorf("%s: module does not start with %q:\n%s", target, want, got[:200])
		}
	}
	if _, err := Module("sm_70", e); err == nil || !strings.Contains(err.Error(), "sm_70") {
		t.Errorf("target sm_70: error %v, want one naming it", err)
	}
	if _, err := Module(SM80, e, e); err == nil || !strings.Contains(err.Error(), "bn_infer appears twice") {
		t.Errorf("duplicate kernel: error %v", err)
	}
}

// TestDeterministic emits every sample kernel twice and compares the text.
func TestDeterministic(t *testing.T) {
	a, err := Module(SM90, emitAll(t, sampleKernels())...)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Module(SM90, emitAll(t, sampleKernels())...)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Error("two emissions of the same kernels differ")
	}
}

// TestSimLoadsAll loads every sample and wide kernel in the simulator: everything emitted is
// in its PTX subset, and the parameters it sees are the Kernel's.
func TestSimLoadsAll(t *testing.T) {
	entries := emitAll(t, append(sampleKernels(), wideKernels()...))
	text, err := Module(SM80, entries...)
	if err != nil {
		t.Fatal(err)
	}
	m, err := sim.Load(text)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		k, err := m.Kernel(e.Name)
		if err != nil {
			t.Fatal(err)
		}
		want := make([]string, len(e.Params))
		for i, p := range e.Params {
			want[i] = "p_" + p
		}
		if diff := cmp.Diff(want, k.Params()); diff != "" {
			t.Errorf("%s params (-want +got):\n%s", e.Name, diff)
		}
		if k.StaticShared() != e.Shared {
			t.Errorf("%s: shared %d bytes, the simulator lays out %d", e.Name, e.Shared, k.StaticShared())
		}
		if e.Threads() < 1 || e.Threads() > 1024 || e.Threads()%32 != 0 {
			t.Errorf("%s: block %v", e.Name, e.Block)
		}
	}
}

func TestGridFor(t *testing.T) {
	c := conv(3, 7, 5, 70, 3, 1)
	e, err := ConvForward("f", c, Pre{}, false, FP32, tile(c, contract.Forward, FP32))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([3]int{1, 2, 3}, e.GridFor(3)); diff != "" {
		t.Errorf("conv grid for 3 images (-want +got):\n%s", diff)
	}
	w, err := ConvBackwardWeight("w", c, Pre{}, FP32, tile(c, contract.Wgrad, FP32))
	if err != nil {
		t.Fatal(err)
	}
	if got := w.GridFor(5); got != [3]int{1, 2, 1} {
		t.Errorf("weight-gradient grid %v, want [1 2 1] for any n", got)
	}
	// The elementwise kernels: one thread per element of an image, 256 a block, z the images.
	stem := pool(64, 112, 112, 3, 2, 1)
	for _, tc := range []struct {
		name string
		e    func() (Entry, error)
		want [3]int
	}{
		{"stem pool", func() (Entry, error) { return MaxPoolForward("p", stem, Pre{On: true}) }, [3]int{64 * 56 * 56 / 256, 1, 3}},
		{"stem pool backward", func() (Entry, error) { return MaxPoolBackward("p", stem, Pre{On: true}) }, [3]int{64 * 112 * 112 / 256, 1, 3}},
		{"add-ReLU", func() (Entry, error) { return AddReLUForward("a", 2048, 49, true) }, [3]int{2048 * 49 / 256, 1, 3}},
		{"add-ReLU backward", func() (Entry, error) { return AddReLUBackward("a", 3, 7) }, [3]int{1, 1, 3}},
	} {
		e, err := tc.e()
		if err != nil {
			t.Fatal(err)
		}
		if got := e.GridFor(3); got != tc.want || e.Block != [3]int{256, 1, 1} {
			t.Errorf("%s: grid %v block %v for 3 images, want grid %v block [256 1 1]", tc.name, got, e.Block, tc.want)
		}
	}
}

func TestBadInput(t *testing.T) {
	good := conv(3, 7, 5, 8, 3, 1)
	bad := good
	bad.OH = 9
	tests := []struct {
		name string
		f    func() (Entry, error)
		want string
	}{
		{"conv shape", func() (Entry, error) {
			return ConvForward("k", bad, Pre{}, false, FP32, tile(bad, contract.Forward, FP32))
		}, "kernel k: conv {"},
		{"drop without bn", func() (Entry, error) {
			return ConvForward("k", good, Pre{Drop: 0.5}, false, FP32, tile(good, contract.Forward, FP32))
		}, "dropout 0.5 without BN-ReLU"},
		{"drop 1", func() (Entry, error) {
			return ConvBackwardWeight("k", good, Pre{On: true, Drop: 1}, FP32, tile(good, contract.Wgrad, FP32))
		}, "dropout rate 1, want [0, 1)"},
		{"huge image", func() (Entry, error) {
			big := nn.Conv{C: 1024, H: 128, W: 128, K: 1, R: 1, S: 1, OH: 128, OW: 128}
			return ConvBackwardData("k", big, false, FP32, tile(big, contract.Dgrad, FP32))
		}, "over 2^24 elements"},
		{"tiling of the wrong variant", func() (Entry, error) {
			return ConvForward("k", good, Pre{}, false, BF16, tile(good, contract.Forward, FP32))
		}, "the wrong kernel variant"},
		{"tiling with too few threads", func() (Entry, error) {
			t := tile(good, contract.Forward, FP32)
			t.Threads /= 2
			return ConvForward("k", good, Pre{}, false, FP32, t)
		}, "one thread each"},
		{"bn channels", func() (Entry, error) { return BNTrain("k", 0, 4) }, "kernel k: BN of 0 channels"},
		{"bn back without pre", func() (Entry, error) { return BNReLUBackward("k", 3, 4, Pre{}, false) }, "needs the forward pass's BN-ReLU Pre"},
		{"head", func() (Entry, error) { return HeadForward("k", 3, 4, 0) }, "head of 3 channels of 4 values and 0 classes"},
		{"softmax", func() (Entry, error) { return SoftmaxCE("k", 0) }, "softmax over 0 classes"},
		{"sgd", func() (Entry, error) { return SGDStep("k", 0) }, "kernel k: 0 parameters"},
		{"pool shape", func() (Entry, error) {
			p := pool(3, 7, 9, 3, 2, 1)
			p.OW++
			return MaxPoolForward("k", p, Pre{})
		}, "kernel k: pool {"},
		{"pool padding", func() (Entry, error) { return MaxPoolBackward("k", pool(3, 7, 9, 3, 2, 3), Pre{}) }, "0 <= P < R"},
		{"pool dropout", func() (Entry, error) { return MaxPoolBackward("k", pool(3, 7, 9, 3, 2, 1), Pre{On: true, Drop: 0.3}) }, "max pool through dropout 0.3"},
		{"huge pool", func() (Entry, error) { return MaxPoolForward("k", pool(1024, 128, 128, 3, 2, 1), Pre{}) }, "an image over 2^24 elements"},
		{"add-relu", func() (Entry, error) { return AddReLUForward("k", 0, 49, true) }, "kernel k: add-ReLU of 0 channels of 49 values"},
		{"add-relu back", func() (Entry, error) { return AddReLUBackward("k", 2048, 1<<13) }, "add-ReLU of 2048 channels"},
		{"bn back linear", func() (Entry, error) { return BNBackward("k", 3, 0, false) }, "kernel k: BN of 3 channels of 0 values"},
		{"head raw", func() (Entry, error) { return HeadForwardRaw("k", 3, 4, 0) }, "head of 3 channels of 4 values and 0 classes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.f()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
