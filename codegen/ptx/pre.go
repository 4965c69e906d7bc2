package ptx

import (
	"fmt"
	"math"
)

// Pre is the transform a convolution applies to its input as it loads it, as nn.Pre: none
// (On false: the raw input, the network's first conv), or z = max(0, x*scale[c] + shift[c])
// (BN-ReLU; scale and shift are kernel parameters) followed, when Drop > 0, by dropout with
// nn.Keep's mask (seed a kernel parameter, the rate a constant). The product and the sum are
// rounded separately, as nn rounds them, so the ReLU mask is the same on every device.
type Pre struct {
	On   bool
	Drop float32
}

func (p Pre) check() error {
	if !p.On && p.Drop != 0 {
		return fmt.Errorf("ptx: dropout %g without BN-ReLU", p.Drop)
	}
	if p.Drop < 0 || p.Drop >= 1 || math.IsNaN(float64(p.Drop)) {
		return fmt.Errorf("ptx: dropout rate %g, want [0, 1)", p.Drop)
	}
	return nil
}

// params are the kernel parameters the transform reads.
func (p Pre) params() []string {
	switch {
	case !p.On:
		return nil
	case p.Drop > 0:
		return []string{"scale", "shift", "seed"}
	}
	return []string{"scale", "shift"}
}

// The dropout hash, nn's: keepBits(seed, i) = mix64(seed + (i+1)*golden) >> 11, the element
// kept when not below threshold(p) = p*2^53 (rounded down), kept values scaled by
// float32(1/(1-p)).
const (
	golden = 0x9e3779b97f4a7c15
	mixM1  = 0xbf58476d1ce4e5b9
	mixM2  = 0x94d049bb133111eb
)

// threshold is nn's threshold for 0 < p < 1.
func threshold(p float32) uint64 { return uint64(float64(p) * (1 << 53)) }

// keepScale is nn's float32(1/(1-p)).
func keepScale(p float32) float32 { return float32(1 / (1 - float64(p))) }

// preState is a Pre resolved inside one kernel: the global pointers it reads.
type preState struct {
	pre          Pre
	scale, shift reg
	seed         reg
}

// loadPre reads the parameters of p at the start of a kernel.
func loadPre(b *builder, p Pre) *preState {
	s := &preState{pre: p}
	if !p.On {
		return s
	}
	s.scale, s.shift = b.gptr("scale"), b.gptr("shift")
	if p.Drop > 0 {
		s.seed = b.param("seed")
	}
	return s
}

// bnrelu is max(0, v*sc + sh) with the product rounded before the sum.
func bnrelu(b *builder, v, sc, sh reg) reg {
	return b.max(b.add(b.mul(v, sc), sh), f32(0))
}

// keep is the predicate "element idx (u32, its index in the whole [n,C,H,W] tensor) survives".
func keep(b *builder, seed, idx reg, p float32) reg {
	i := b.cvt(tU64, "", idx)
	z := b.mad(b.add(i, u64(1)), u64(golden), seed)
	z = b.xor(z, b.shr(z, 30))
	z = b.mul(z, u64(mixM1))
	z = b.xor(z, b.shr(z, 27))
	z = b.mul(z, u64(mixM2))
	z = b.xor(z, b.shr(z, 31))
	return b.setp("hs", b.shr(z, 11), u64(threshold(p)))
}

// channel loads scale[c] and shift[c].
func (s *preState) channel(b *builder, c reg) (sc, sh reg) {
	off := b.mulWide(c, u32(4))
	return b.ld("global.nc", tF32, addr{base: b.add(s.scale, off)}), b.ld("global.nc", tF32, addr{base: b.add(s.shift, off)})
}

// apply is pre(v) for element idx of channel c given the channel's scale and shift.
func (s *preState) apply(b *builder, v, sc, sh, idx reg) reg {
	if !s.pre.On {
		return v
	}
	z := bnrelu(b, v, sc, sh)
	if s.pre.Drop == 0 {
		return z
	}
	return b.selp(b.mul(z, f32(keepScale(s.pre.Drop))), f32(0), keep(b, s.seed, idx, s.pre.Drop))
}
