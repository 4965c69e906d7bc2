package nn

// Pre is the BN-ReLU (and dropout) applied to a conv's input as it is loaded:
// z = drop(max(0, x*Scale[c] + Shift[c])). Drop == 0 means no dropout. The mask is
// Keep(Seed, i, Drop) with i the index of the element within the whole [n,C,H,W] tensor,
// kept elements scaled by 1/(1-Drop). A nil *Pre means the raw input (the network's first
// conv).
type Pre struct {
	Scale, Shift []float32
	Drop         float32
	Seed         uint64
}

// golden is 2^64 / phi, the increment of splitmix64.
const golden = 0x9e3779b97f4a7c15

// mix64 is the output function of splitmix64 (a bijection of uint64 with good avalanche).
func mix64(z uint64) uint64 {
	z ^= z >> 30
	z *= 0xbf58476d1ce4e5b9
	z ^= z >> 27
	z *= 0x94d049bb133111eb
	return z ^ z>>31
}

// keepBits returns the 53 uniform bits that decide element i: the top bits of output i of
// the splitmix64 generator whose state starts at seed.
func keepBits(seed, i uint64) uint64 { return mix64(seed+(i+1)*golden) >> 11 }

// threshold returns the keepBits value below which an element is dropped with rate p.
func threshold(p float32) uint64 {
	switch {
	case p <= 0:
		return 0
	case p >= 1:
		return 1 << 53
	}
	return uint64(float64(p) * (1 << 53))
}

// Keep reports whether element i survives dropout with rate p under seed: the 53 top bits
// of splitmix64's output i from state seed, mix64(seed + (i+1)*0x9e3779b97f4a7c15) >> 11,
// compared with p*2^53 (kept when not below). It is a pure function, so the forward and
// backward passes (and other devices) draw the same mask.
func Keep(seed uint64, i int, p float32) bool {
	return keepBits(seed, uint64(i)) >= threshold(p)
}

// DropSeed derives the dropout seed of one layer in one training step from the run's seed.
func DropSeed(seed, step uint64, layer int) uint64 {
	return mix64(mix64(mix64(seed)+step*golden) + uint64(layer)*golden)
}

// loader is a Pre resolved for one call.
type loader struct {
	on           bool // a Pre was given
	scale, shift []float32
	drop         bool
	seed, thr    uint64
	inv          float32 // 1/(1-Drop)
}

func makeLoader(p *Pre) loader {
	if p == nil {
		return loader{}
	}
	l := loader{on: true, scale: p.Scale, shift: p.Shift}
	if p.Drop > 0 {
		l.drop, l.seed, l.thr = true, p.Seed, threshold(p.Drop)
		if p.Drop < 1 {
			l.inv = float32(1 / (1 - float64(p.Drop)))
		}
	}
	return l
}

// bnrelu is max(0, v*sc+sh) rounded as the forward pass rounds it (the explicit conversion
// forbids a fused multiply-add), so that the backward pass sees the same ReLU mask.
func bnrelu(v, sc, sh float32) float32 { return max(0, float32(v*sc)+sh) }

// apply writes z = pre(src) for channel ch into dst; src's first element has index base in
// the whole [n,C,H,W] tensor.
func (l *loader) apply(dst, src []float32, ch, base int) {
	dst = dst[:len(src)]
	sc, sh := l.scale[ch], l.shift[ch]
	if !l.drop {
		for j, v := range src {
			dst[j] = bnrelu(v, sc, sh)
		}
		return
	}
	b := uint64(base)
	for j, v := range src {
		var z float32
		if keepBits(l.seed, b+uint64(j)) >= l.thr {
			z = bnrelu(v, sc, sh) * l.inv
		}
		dst[j] = z
	}
}
