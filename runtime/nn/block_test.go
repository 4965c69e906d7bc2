package nn

import (
	"fmt"
	"github.com/wrnc/wrnc/testdata/ref"
	"testing"
)

// A tiny pre-activation WRN, composed from the kernels as generated code composes them,
// checked forward and backward against the same network built from the float64 reference
// (which is itself checked by finite differences here):
//
//	conv0  3->4, 3x3 on 9x6 input (raw input, no Pre)
//	block1 4->6, stride 2: bn0-relu -> conv0 3x3/2 -> bn1-relu-dropout -> conv1 3x3,
//	       shortcut convdim 1x1/2 of the bn0-relu output
//	block2 6->6: bn0-relu -> conv0 1x1 -> bn1-relu-dropout -> conv1 3x3, identity shortcut
//	head   bn-relu -> average pool -> fc 6->5 -> softmax cross-entropy

var tinyConvs = map[string]Conv{
	"conv0":      mkConv(3, 9, 6, 4, 3, 1, 1),
	"b1.conv0":   mkConv(4, 9, 6, 6, 3, 2, 1),
	"b1.convdim": mkConv(4, 9, 6, 6, 1, 2, 0),
	"b1.conv1":   mkConv(6, 5, 3, 6, 3, 1, 1),
	"b2.conv0":   mkConv(6, 5, 3, 6, 1, 1, 0),
	"b2.conv1":   mkConv(6, 5, 3, 6, 3, 1, 1),
}

// tinyBNs lists the BN layers with their channels, in order.
var tinyBNs = []struct {
	name string
	c    int
}{{"b1.bn0", 4}, {"b1.bn1", 6}, {"b2.bn0", 6}, {"b2.bn1", 6}, {"bn", 6}}

const (
	tinyClasses = 5
	tinyDrop    = 0.3
)

// tinyParamNames lists the trainable tensors in a fixed order.
func tinyParamNames() []string {
	var names []string
	for _, c := range []string{"conv0", "b1.conv0", "b1.convdim", "b1.conv1", "b2.conv0", "b2.conv1"} {
		names = append(names, c)
	}
	for _, b := range tinyBNs {
		names = append(names, b.name+".weight", b.name+".bias")
	}
	return append(names, "fc.weight", "fc.bias")
}

// tinyNet holds one network instance's inputs in float32: parameters, running statistics,
// a batch and its labels, and the dropout seeds of the two blocks.
type tinyNet struct {
	n      int
	params map[string][]float32
	stats  map[string][]float32 // NAME.running_mean, NAME.running_var
	x      []float32
	labels []int32
	seeds  [2]uint64
}

func makeTinyNet(n int, seed uint64) *tinyNet {
	r := newRand(seed)
	t := &tinyNet{n: n, params: map[string][]float32{}, stats: map[string][]float32{},
		seeds: [2]uint64{DropSeed(seed, 1, 1), DropSeed(seed, 1, 2)}}
	for _, name := range []string{"conv0", "b1.conv0", "b1.convdim", "b1.conv1", "b2.conv0", "b2.conv1"} {
		c := tinyConvs[name]
		t.params[name] = randF32(r, c.K*c.C*c.R*c.R, -0.6, 0.6)
	}
	for _, b := range tinyBNs {
		t.params[b.name+".weight"] = randF32(r, b.c, 0.5, 1.5)
		t.params[b.name+".bias"] = randF32(r, b.c, -0.3, 0.3)
		t.stats[b.name+".running_mean"] = randF32(r, b.c, -0.2, 0.2)
		t.stats[b.name+".running_var"] = randF32(r, b.c, 0.8, 1.2)
	}
	t.params["fc.weight"] = randF32(r, tinyClasses*6, -1, 1)
	t.params["fc.bias"] = randF32(r, tinyClasses, -0.2, 0.2)
	t.x = randF32(r, n*3*9*6, -1, 1)
	t.labels = make([]int32, n)
	for i := range t.labels {
		t.labels[i] = int32(r.IntN(tinyClasses))
	}
	return t
}

// tinyResult is what one training step computes: loss, logits, gradients and the running
// statistics after the step.
type tinyResult struct {
	loss   float64
	logits []float64
	grads  map[string][]float64
	stats  map[string][]float64
}

// refTiny runs the network in float64 with the reference ops. p holds the parameters
// (float64, so finite differences can perturb them) and x the input.
func refTiny(t *tinyNet, p map[string][]float64, x []float64) tinyResult {
	n := t.n
	res := tinyResult{grads: map[string][]float64{}, stats: map[string][]float64{}}
	conv := func(name string, z []float64) []float64 { return ref.Conv(n, tinyConvs[name], z, p[name]) }
	type bnOut struct {
		x, z []float64
		c    int
	}
	bn := func(name string, c int, x []float64, drop float32, seed uint64) bnOut {
		hw := len(x) / (n * c)
		m, v := ref.BNStats(n, c, hw, x)
		rm, rv := ref.Running(n*hw, f64(t.stats[name+".running_mean"]), f64(t.stats[name+".running_var"]), m, v)
		res.stats[name+".running_mean"], res.stats[name+".running_var"] = rm, rv
		return bnOut{x, ref.BNReLUDrop(n, c, hw, x, p[name+".weight"], p[name+".bias"], drop, seed), c}
	}
	bnBack := func(name string, b bnOut, drop float32, seed uint64, dz []float64) []float64 {
		dx, dg, db := ref.BNReLUDropBackward(n, b.c, len(b.x)/(n*b.c), b.x, p[name+".weight"], p[name+".bias"], drop, seed, dz)
		res.grads[name+".weight"], res.grads[name+".bias"] = dg, db
		return dx
	}
	convBack := func(name string, z, dy []float64) []float64 {
		dw, dz := ref.ConvBackward(n, tinyConvs[name], z, p[name], dy)
		res.grads[name] = dw
		return dz
	}

	a0 := conv("conv0", x)
	b10 := bn("b1.bn0", 4, a0, 0, 0)
	h1 := conv("b1.conv0", b10.z)
	s1 := conv("b1.convdim", b10.z)
	b11 := bn("b1.bn1", 6, h1, tinyDrop, t.seeds[0])
	o1 := addF64(conv("b1.conv1", b11.z), s1)
	b20 := bn("b2.bn0", 6, o1, 0, 0)
	h2 := conv("b2.conv0", b20.z)
	b21 := bn("b2.bn1", 6, h2, tinyDrop, t.seeds[1])
	o2 := addF64(conv("b2.conv1", b21.z), o1)
	bh := bn("bn", 6, o2, 0, 0)
	pooled, logits := ref.Head(n, 6, 15, tinyClasses, bh.z, p["fc.weight"], p["fc.bias"])
	loss, dlogits, _ := ref.SoftmaxCE(n, tinyClasses, logits, t.labels)
	res.loss, res.logits = loss, logits

	dzh, dfw, dfb := ref.HeadBackward(n, 6, 15, tinyClasses, pooled, p["fc.weight"], dlogits)
	res.grads["fc.weight"], res.grads["fc.bias"] = dfw, dfb
	do2 := bnBack("bn", bh, 0, 0, dzh)
	dh2 := bnBack("b2.bn1", b21, tinyDrop, t.seeds[1], convBack("b2.conv1", b21.z, do2))
	do1 := addF64(do2, bnBack("b2.bn0", b20, 0, 0, convBack("b2.conv0", b20.z, dh2)))
	dh1 := bnBack("b1.bn1", b11, tinyDrop, t.seeds[0], convBack("b1.conv1", b11.z, do1))
	dz10 := addF64(convBack("b1.conv0", b10.z, dh1), convBack("b1.convdim", b10.z, do1))
	da0 := bnBack("b1.bn0", b10, 0, 0, dz10)
	res.grads["x"] = convBack("conv0", x, da0)
	return res
}

// tinyMethod is the method the tiny network's convolutions run by (all have fewer than 8
// input channels): pointwise for its 1x1 stride-1 conv, im2col for the others.
func tinyMethod(c Conv) method {
	if c.Pointwise() {
		return method{kind: kPointwise}
	}
	return method{kind: kIm2col}
}

// runTiny runs the network with the kernels, as generated code does, and returns the same
// results in float32 (running statistics updated in t.stats).
func runTiny(ctx *Ctx, t *tinyNet) (loss float64, logits []float32, grads map[string][]float32) {
	n := t.n
	p, g := t.params, map[string][]float32{}
	for name, v := range p {
		g[name] = make([]float32, len(v))
	}
	buf := func(c, hw int) []float32 { return make([]float32, n*c*hw) }
	type bnState struct{ mean, invstd []float32 }
	saved := map[string]bnState{}
	bn := func(name string, c, hw int, x []float32, drop float32, seed uint64) *Pre {
		s := bnState{make([]float32, c), make([]float32, c)}
		pre := &Pre{Scale: make([]float32, c), Shift: make([]float32, c), Drop: drop, Seed: seed}
		BNTrain(ctx, n, c, hw, x, p[name+".weight"], p[name+".bias"], t.stats[name+".running_mean"], t.stats[name+".running_var"],
			s.mean, s.invstd, pre.Scale, pre.Shift)
		saved[name] = s
		return pre
	}
	conv := func(name string, x []float32, pre *Pre, res []float32) []float32 {
		c := tinyConvs[name]
		y := buf(c.K, c.OH*c.OW)
		tinyMethod(c).forward(ctx, n, &c, x, p[name], pre, res, y)
		return y
	}
	bnBack := func(name string, c, hw int, x []float32, pre *Pre, dz, dx []float32, acc bool) {
		s := saved[name]
		BNReLUBackward(ctx, n, c, hw, x, s.mean, s.invstd, p[name+".weight"], pre, dz, dx, acc, g[name+".weight"], g[name+".bias"])
	}
	convBack := func(name string, x []float32, pre *Pre, dy, dz []float32, acc bool) {
		c := tinyConvs[name]
		tinyMethod(c).backward(ctx, n, &c, x, p[name], pre, dy, g[name], dz, acc)
	}

	a0 := conv("conv0", t.x, nil, nil)
	pre10 := bn("b1.bn0", 4, 54, a0, 0, 0)
	h1 := conv("b1.conv0", a0, pre10, nil)
	s1 := conv("b1.convdim", a0, pre10, nil)
	pre11 := bn("b1.bn1", 6, 15, h1, tinyDrop, t.seeds[0])
	o1 := conv("b1.conv1", h1, pre11, s1)
	pre20 := bn("b2.bn0", 6, 15, o1, 0, 0)
	h2 := conv("b2.conv0", o1, pre20, nil)
	pre21 := bn("b2.bn1", 6, 15, h2, tinyDrop, t.seeds[1])
	o2 := conv("b2.conv1", h2, pre21, o1)
	preH := bn("bn", 6, 15, o2, 0, 0)
	pooled, logits := make([]float32, n*6), make([]float32, n*tinyClasses)
	HeadForward(ctx, n, 6, 15, tinyClasses, o2, preH.Scale, preH.Shift, p["fc.weight"], p["fc.bias"], pooled, logits)
	dlogits := make([]float32, n*tinyClasses)
	loss, _, err := SoftmaxCE(n, tinyClasses, logits, t.labels, dlogits)
	if err != nil {
		panic(err)
	}

	dzh := buf(6, 15)
	HeadBackward(ctx, n, 6, 15, tinyClasses, pooled, p["fc.weight"], dlogits, g["fc.weight"], g["fc.bias"], dzh)
	do2 := buf(6, 15)
	bnBack("bn", 6, 15, o2, preH, dzh, do2, false)
	dz21, dh2 := buf(6, 15), buf(6, 15)
	convBack("b2.conv1", h2, pre21, do2, dz21, false)
	bnBack("b2.bn1", 6, 15, h2, pre21, dz21, dh2, false)
	dz20 := buf(6, 15)
	convBack("b2.conv0", o1, pre20, dh2, dz20, false)
	do1 := append([]float32(nil), do2...) // the identity shortcut's gradient, then the BN path added
	bnBack("b2.bn0", 6, 15, o1, pre20, dz20, do1, true)
	dz11, dh1 := buf(6, 15), buf(6, 15)
	convBack("b1.conv1", h1, pre11, do1, dz11, false)
	bnBack("b1.bn1", 6, 15, h1, pre11, dz11, dh1, false)
	dz10, da0 := buf(4, 54), buf(4, 54)
	convBack("b1.conv0", a0, pre10, dh1, dz10, false)
	convBack("b1.convdim", a0, pre10, do1, dz10, true)
	bnBack("b1.bn0", 4, 54, a0, pre10, dz10, da0, false)
	convBack("conv0", t.x, nil, da0, nil, false)
	return loss, logits, g
}

func TestTinyNetwork(t *testing.T) {
	for i, tc := range []struct{ n, threads int }{{1, 2}, {3, 2}, {4, 3}, {3, 1}} {
		t.Run(fmt.Sprintf("n=%d/t=%d", tc.n, tc.threads), func(t *testing.T) {
			net := makeTinyNet(tc.n, uint64(900+i))
			p := map[string][]float64{}
			for name, v := range net.params {
				p[name] = f64(v)
			}
			want := refTiny(net, p, f64(net.x))
			ws := 0
			for _, c := range tinyConvs {
				ws = max(ws, WorkspaceFor(c))
			}
			loss, logits, grads := runTiny(newTestCtx(t, tc.threads, ws), net)
			if d := loss - want.loss; d > tol*want.loss || -d > tol*want.loss {
				t.Errorf("loss = %.9g, want %.9g", loss, want.loss)
			}
			checkClose(t, "logits", logits, want.logits, tol)
			for _, name := range tinyParamNames() {
				checkClose(t, "grad "+name, grads[name], want.grads[name], tol)
			}
			for _, b := range tinyBNs {
				for _, s := range []string{".running_mean", ".running_var"} {
					checkClose(t, b.name+s, net.stats[b.name+s], want.stats[b.name+s], tol)
				}
			}
		})
	}
}

// TestRefTinyNetworkGrad checks the reference network's gradients (every backward formula
// composed: batch statistics, dropout masks, both shortcuts, the head and the loss) by
// finite differences of its loss.
func TestRefTinyNetworkGrad(t *testing.T) {
	net := makeTinyNet(3, 950)
	p := map[string][]float64{}
	for name, v := range net.params {
		p[name] = f64(v)
	}
	x := f64(net.x)
	ana := refTiny(net, p, x)
	loss := func() float64 { return refTiny(net, p, x).loss }
	fdCheck(t, "x", x, ana.grads["x"], loss)
	for _, name := range tinyParamNames() {
		fdCheck(t, name, p[name], ana.grads[name], loss)
	}
}
