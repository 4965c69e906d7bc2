package ptx

import (
	"flag"
	"github.com/wrnc/wrnc/runtime/contract"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wrnc/wrnc/runtime/nn"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenLayer is the small layer of the golden files: 3 -> 8 channels, 3x3, 7x5 images.
var goldenLayer = nn.Conv{C: 3, H: 7, W: 5, K: 8, R: 3, S: 1, P: 1, OH: 7, OW: 5}

// TestGolden compares the text of a few kernels of one small layer with testdata/*.ptx
// (refreshed with go test ./codegen/ptx -update).
func TestGolden(t *testing.T) {
	c := goldenLayer
	pre := Pre{On: true, Drop: 0.3}
	cases := []struct {
		file    string
		target  Target
		entries func() ([]Entry, error)
	}{
		{"conv_fwd_fp32.sm_80.ptx", SM80, func() ([]Entry, error) {
			return one(ConvForward("conv_fwd_fp32", c, pre, true, FP32, tile(c, contract.Forward, FP32)))
		}},
		{"conv_fwd_tf32.sm_90.ptx", SM90, func() ([]Entry, error) {
			return one(ConvForward("conv_fwd_tf32", c, Pre{On: true}, false, TF32, tile(c, contract.Forward, TF32)))
		}},
		{"conv_fwd_bf16.sm_90.ptx", SM90, func() ([]Entry, error) {
			return one(ConvForward("conv_fwd_bf16", c, Pre{}, false, BF16, tile(c, contract.Forward, BF16)))
		}},
		{"conv_bwd.sm_80.ptx", SM80, func() ([]Entry, error) {
			dg, err := ConvBackwardData("conv_dgrad", c, true, FP32, tile(c, contract.Dgrad, FP32))
			if err != nil {
				return nil, err
			}
			wg, err := ConvBackwardWeight("conv_wgrad", c, pre, FP32, tile(c, contract.Wgrad, FP32))
			return []Entry{dg, wg}, err
		}},
		{"bn.sm_80.ptx", SM80, func() ([]Entry, error) {
			tr, err := BNTrain("bn_train", c.K, c.OH*c.OW)
			if err != nil {
				return nil, err
			}
			in, err := BNInfer("bn_infer", c.K)
			if err != nil {
				return nil, err
			}
			bk, err := BNReLUBackward("bn_relu_back", c.K, c.OH*c.OW, pre, false)
			return []Entry{tr, in, bk}, err
		}},
		{"head_loss_sgd.sm_80.ptx", SM80, func() ([]Entry, error) {
			var es []Entry
			for _, f := range []func() (Entry, error){
				func() (Entry, error) { return HeadForward("head_fwd", c.K, c.OH*c.OW, 10) },
				func() (Entry, error) { return HeadBackwardFC("head_bwd_fc", c.K, 10) },
				func() (Entry, error) { return HeadBackwardDz("head_bwd_dz", c.K, c.OH*c.OW, 10) },
				func() (Entry, error) { return SoftmaxCE("softmax_ce", 10) },
				func() (Entry, error) { return LossSum("loss_sum") },
				func() (Entry, error) { return SGDStep("sgd", 1000) },
			} {
				e, err := f()
				if err != nil {
					return nil, err
				}
				es = append(es, e)
			}
			return es, nil
		}},
		{"imagenet.sm_80.ptx", SM80, func() ([]Entry, error) {
			pl := pool(c.K, c.OH, c.OW, 3, 2, 1)
			var es []Entry
			for _, f := range []func() (Entry, error){
				func() (Entry, error) { return MaxPoolForward("max_pool_fwd", pl, Pre{On: true}) },
				func() (Entry, error) { return MaxPoolBackward("max_pool_bwd", pl, Pre{On: true}) },
				func() (Entry, error) { return AddReLUForward("add_relu_fwd", c.K, c.OH*c.OW, true) },
				func() (Entry, error) { return AddReLUBackward("add_relu_bwd", c.K, c.OH*c.OW) },
				func() (Entry, error) { return BNBackward("bn_back", c.K, c.OH*c.OW, true) },
				func() (Entry, error) { return HeadForwardRaw("head_fwd_raw", c.K, c.OH*c.OW, 10) },
			} {
				e, err := f()
				if err != nil {
					return nil, err
				}
				es = append(es, e)
			}
			return es, nil
		}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			es, err := tc.entries()
			if err != nil {
				t.Fatal(err)
			}
			got, err := Module(tc.target, es...)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tc.file)
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./codegen/ptx -update to make it)", err)
			}
			if diff := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(got, "\n")); diff != "" {
				t.Errorf("%s differs (-want +got; go test ./codegen/ptx -update refreshes it):\n%s", path, diff)
			}
		})
	}
}

func one(e Entry, err error) ([]Entry, error) { return []Entry{e}, err }
