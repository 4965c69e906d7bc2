package optim

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/wrnc/wrnc/runtime/model"
)

// initStream is the second PCG word of the generators Init uses (the first is the
// seed); the tensor's index in Spec.Params is added to it, so that every tensor has a
// stream of its own and its values do not depend on the tensors before it.
const initStream = 0x77726e63 << 32 // "wrnc"

// Init fills params and stats with a fresh initialisation, as the original WRN code
// does: convolution and FC weights He-normal, N(0, 2/fan_in) (kaiming_normal_ in
// fan_in mode, which the WRN authors' code uses for both conv_params and
// linear_params); BN weight 1 and bias 0; running mean 0 and variance 1; FC bias 0.
// The values are a function of seed and the spec only (math/rand/v2 PCG, one stream
// per tensor). It returns an error, writing nothing, when a tensor does not fit its
// slice or a weight has no positive FanIn.
func Init(spec *model.Spec, params, stats []float32, seed uint64) error {
	for i := range spec.Params {
		p := &spec.Params[i]
		dst, where := params, "params"
		if !p.Trainable() {
			dst, where = stats, "stats"
		}
		if p.Offset < 0 || p.Offset+p.Size() > len(dst) {
			return fmt.Errorf("optim: %s [%d, %d) does not fit %s of %d floats", p.Name, p.Offset, p.Offset+p.Size(), where, len(dst))
		}
		switch p.Role {
		case model.ConvWeight, model.FCWeight:
			if p.FanIn <= 0 {
				return fmt.Errorf("optim: %s has fan-in %d", p.Name, p.FanIn)
			}
		case model.BNWeight, model.BNBias, model.BNMean, model.BNVar, model.FCBias:
		default:
			return fmt.Errorf("optim: %s has unknown role %q", p.Name, p.Role)
		}
	}
	for i := range spec.Params {
		p := &spec.Params[i]
		dst := params
		if !p.Trainable() {
			dst = stats
		}
		v := dst[p.Offset : p.Offset+p.Size()]
		switch p.Role {
		case model.ConvWeight, model.FCWeight:
			rng := rand.New(rand.NewPCG(seed, initStream+uint64(i)))
			std := math.Sqrt(2 / float64(p.FanIn))
			for j := range v {
				v[j] = float32(rng.NormFloat64() * std)
			}
		case model.BNWeight, model.BNVar:
			fill(v, 1)
		default:
			fill(v, 0)
		}
	}
	return nil
}

func fill(v []float32, x float32) {
	for i := range v {
		v[i] = x
	}
}
