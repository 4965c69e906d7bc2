package ptx

import (
	"fmt"
	"github.com/wrnc/wrnc/runtime/contract"
	"testing"

	"github.com/wrnc/wrnc/runtime/nn"
)

// conv returns the nn.Conv of a C x H x W input, K outputs, R x R kernel, stride S, pad R/2.
func conv(C, H, W, K, R, S int) nn.Conv {
	P := R / 2
	return nn.Conv{C: C, H: H, W: W, K: K, R: R, S: S, P: P, OH: (H+2*P-R)/S + 1, OW: (W+2*P-R)/S + 1}
}

// build is one kernel to emit: a name and its builder call.
type build struct {
	name string
	make func(name string) (Entry, error)
}

// sampleKernels is every kind of kernel, in every mode, for a few small odd shapes.
func sampleKernels() []build {
	var out []build
	add := func(name string, f func(string) (Entry, error)) { out = append(out, build{name, f}) }
	convs := []nn.Conv{conv(3, 7, 5, 17, 3, 1), conv(8, 7, 5, 3, 3, 2), conv(17, 5, 7, 8, 1, 1), conv(1, 7, 5, 8, 7, 2)}
	pres := []Pre{{}, {On: true}, {On: true, Drop: 0.3}}
	for ci, c := range convs {
		for _, m := range []Math{FP32, TF32, BF16} {
			pre := pres[ci%3]
			res := ci%2 == 1
			add(fmt.Sprintf("fwd%d_%s", ci, m), func(n string) (Entry, error) { return ConvForward(n, c, pre, res, m, tile(c, contract.Forward, m)) })
			add(fmt.Sprintf("dgrad%d_%s", ci, m), func(n string) (Entry, error) { return ConvBackwardData(n, c, res, m, tile(c, contract.Dgrad, m)) })
			add(fmt.Sprintf("wgrad%d_%s", ci, m), func(n string) (Entry, error) { return ConvBackwardWeight(n, c, pre, m, tile(c, contract.Wgrad, m)) })
		}
	}
	add("bn_train", func(n string) (Entry, error) { return BNTrain(n, 17, 35) })
	add("bn_infer", func(n string) (Entry, error) { return BNInfer(n, 17) })
	add("bn_fold", func(n string) (Entry, error) { return BNFold(n, 17, 27) })
	add("bn_back", func(n string) (Entry, error) { return BNReLUBackward(n, 17, 35, Pre{On: true}, false) })
	add("bn_back_drop_acc", func(n string) (Entry, error) { return BNReLUBackward(n, 8, 35, Pre{On: true, Drop: 0.3}, true) })
	add("head_fwd", func(n string) (Entry, error) { return HeadForward(n, 17, 35, 10) })
	add("head_bwd_fc", func(n string) (Entry, error) { return HeadBackwardFC(n, 17, 10) })
	add("head_bwd_dz", func(n string) (Entry, error) { return HeadBackwardDz(n, 17, 35, 10) })
	add("softmax_ce", func(n string) (Entry, error) { return SoftmaxCE(n, 10) })
	add("sgd", func(n string) (Entry, error) { return SGDStep(n, 1000) })
	add("loss_sum", func(n string) (Entry, error) { return LossSum(n) })
	for pi, pl := range []contract.Pool{pool(3, 16, 16, 3, 2, 1), pool(2, 7, 9, 3, 2, 1), pool(2, 5, 4, 3, 1, 1)} {
		pre := Pre{On: pi%2 == 0}
		add(fmt.Sprintf("max_pool_fwd%d", pi), func(n string) (Entry, error) { return MaxPoolForward(n, pl, pre) })
		add(fmt.Sprintf("max_pool_bwd%d", pi), func(n string) (Entry, error) { return MaxPoolBackward(n, pl, pre) })
	}
	add("add_relu_fwd", func(n string) (Entry, error) { return AddReLUForward(n, 17, 35, false) })
	add("add_relu_fwd_bn", func(n string) (Entry, error) { return AddReLUForward(n, 17, 35, true) })
	add("add_relu_bwd", func(n string) (Entry, error) { return AddReLUBackward(n, 17, 35) })
	add("bn_back_linear", func(n string) (Entry, error) { return BNBackward(n, 17, 35, false) })
	add("bn_back_linear_acc", func(n string) (Entry, error) { return BNBackward(n, 8, 35, true) })
	add("head_fwd_raw", func(n string) (Entry, error) { return HeadForwardRaw(n, 17, 35, 10) })
	return out
}

// wideKernels are full-size layers of a WRN-28-10 (64x64 tiles, the largest blocks), for the
// register budget only.
func wideKernels() []build {
	var out []build
	convs := []nn.Conv{conv(160, 32, 32, 320, 3, 2), conv(640, 8, 8, 640, 3, 1), conv(16, 32, 32, 160, 1, 1)}
	for ci, c := range convs {
		for _, m := range []Math{FP32, TF32, BF16} {
			pre := Pre{On: ci > 0, Drop: float32(ci/2) * 0.3}
			out = append(out,
				build{fmt.Sprintf("wide_fwd%d_%s", ci, m), func(n string) (Entry, error) { return ConvForward(n, c, pre, true, m, tile(c, contract.Forward, m)) }},
				build{fmt.Sprintf("wide_dgrad%d_%s", ci, m), func(n string) (Entry, error) { return ConvBackwardData(n, c, true, m, tile(c, contract.Dgrad, m)) }},
				build{fmt.Sprintf("wide_wgrad%d_%s", ci, m), func(n string) (Entry, error) { return ConvBackwardWeight(n, c, pre, m, tile(c, contract.Wgrad, m)) }})
		}
	}
	out = append(out,
		build{"wide_bn_train", func(n string) (Entry, error) { return BNTrain(n, 640, 64) }},
		build{"wide_bn_back", func(n string) (Entry, error) { return BNReLUBackward(n, 640, 64, Pre{On: true, Drop: 0.3}, true) }},
		build{"wide_head_fwd", func(n string) (Entry, error) { return HeadForward(n, 640, 64, 100) }},
		build{"wide_softmax", func(n string) (Entry, error) { return SoftmaxCE(n, 1000) }},
		// The imagenet family's: the stem's pool, the widest add-ReLUs, a bottleneck's BN.
		build{"wide_pool_fwd", func(n string) (Entry, error) { return MaxPoolForward(n, pool(64, 112, 112, 3, 2, 1), Pre{On: true}) }},
		build{"wide_pool_bwd", func(n string) (Entry, error) { return MaxPoolBackward(n, pool(64, 112, 112, 3, 2, 1), Pre{On: true}) }},
		build{"wide_add_relu_fwd", func(n string) (Entry, error) { return AddReLUForward(n, 2048, 49, true) }},
		build{"wide_add_relu_fwd56", func(n string) (Entry, error) { return AddReLUForward(n, 256, 3136, false) }},
		build{"wide_add_relu_bwd", func(n string) (Entry, error) { return AddReLUBackward(n, 2048, 49) }},
		build{"wide_bn_back_linear", func(n string) (Entry, error) { return BNBackward(n, 2048, 49, true) }},
		build{"wide_head_fwd_raw", func(n string) (Entry, error) { return HeadForwardRaw(n, 2048, 49, 1000) }})
	return out
}

func emitAll(t *testing.T, builds []build) []Entry {
	t.Helper()
	var es []Entry
	for _, bd := range builds {
		e, err := bd.make(bd.name)
		if err != nil {
			t.Fatalf("%s: %v", bd.name, err)
		}
		es = append(es, e)
	}
	return es
}
