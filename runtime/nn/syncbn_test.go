package nn

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSyncBNOneProcess checks that batch statistics summed over a world of one process
// (SetBNSum with a sum that changes nothing) are those of BNTrain and BNReLUBackward
// alone, bit for bit, with and without dropout, and that each call sums over the
// channels and the count.
func TestSyncBNOneProcess(t *testing.T) {
	const n, C, hw = 3, 5, 7
	rng := rand.New(rand.NewPCG(1, 2))
	vec := func(k int, base float32) []float32 {
		v := make([]float32, k)
		for i := range v {
			v[i] = base + float32(rng.NormFloat64())
		}
		return v
	}
	x, dz, gamma, beta := vec(n*C*hw, 0.3), vec(n*C*hw, 0), vec(C, 1), vec(C, 0)
	for _, drop := range []float32{0, 0.3} {
		type out struct{ rm, rv, mean, invstd, scale, shift, dx, dg, db []float32 }
		run := func(sync bool) (o out, sizes []int) {
			ctx := newTestCtx(t, 2, 0)
			if sync {
				ctx.SetBNSum(func(s []float64) { sizes = append(sizes, len(s)) })
			}
			o = out{mean: make([]float32, C), invstd: make([]float32, C), scale: make([]float32, C),
				shift: make([]float32, C), dx: make([]float32, n*C*hw), dg: make([]float32, C), db: make([]float32, C)}
			rng = rand.New(rand.NewPCG(3, 4)) // the same running statistics in both runs
			o.rm, o.rv = vec(C, 0), vec(C, 2)
			BNTrain(ctx, n, C, hw, x, gamma, beta, o.rm, o.rv, o.mean, o.invstd, o.scale, o.shift)
			pre := &Pre{Scale: o.scale, Shift: o.shift, Drop: drop, Seed: 9}
			BNReLUBackward(ctx, n, C, hw, x, o.mean, o.invstd, gamma, pre, dz, o.dx, false, o.dg, o.db)
			if err := ctx.Err(); err != nil {
				t.Fatal(err)
			}
			return o, sizes
		}
		a, _ := run(false)
		b, sizes := run(true)
		if !slices.Equal(sizes, []int{C + 1, C, 2*C + 1}) {
			t.Errorf("drop %g: sums of %v floats, want [%d %d %d]", drop, sizes, C+1, C, 2*C+1)
		}
		for _, c := range []struct {
			name string
			a, b []float32
		}{{"running mean", a.rm, b.rm}, {"running var", a.rv, b.rv}, {"mean", a.mean, b.mean}, {"invstd", a.invstd, b.invstd},
			{"scale", a.scale, b.scale}, {"shift", a.shift, b.shift}, {"dx", a.dx, b.dx}, {"dgamma", a.dg, b.dg}, {"dbeta", a.db, b.db}} {
			if !slices.Equal(c.a, c.b) {
				t.Errorf("drop %g: %s differs with the sums over one process", drop, c.name)
			}
		}
	}
}

// TestSyncBNBackwardOneProcess checks BNBackward under SetBNSum over a world of one
// process: one sum of 2C+1 floats, and the gradients of BNBackward alone, bit for bit.
func TestSyncBNBackwardOneProcess(t *testing.T) {
	const n, C, hw = 3, 5, 7
	r := newRand(1900)
	x, dz := randF32(r, n*C*hw, -1, 3), randF32(r, n*C*hw, -1, 1)
	p := randBN(1901, C)
	run := func(sync bool) (dx, dg, db []float32, sizes []int) {
		ctx := newTestCtx(t, 2, 0)
		mean, invstd := make([]float32, C), make([]float32, C)
		scale, shift := make([]float32, C), make([]float32, C)
		rm, rv := slices.Clone(p.runMean), slices.Clone(p.runVar)
		BNTrain(ctx, n, C, hw, x, p.gamma, p.beta, rm, rv, mean, invstd, scale, shift)
		if sync {
			ctx.SetBNSum(func(s []float64) { sizes = append(sizes, len(s)) })
		}
		dx, dg, db = make([]float32, len(x)), make([]float32, C), make([]float32, C)
		BNBackward(ctx, n, C, hw, x, mean, invstd, p.gamma, dz, dx, false, dg, db)
		return dx, dg, db, sizes
	}
	adx, adg, adb, _ := run(false)
	bdx, bdg, bdb, sizes := run(true)
	if !slices.Equal(sizes, []int{2*C + 1}) {
		t.Errorf("sums of %v floats, want [%d]", sizes, 2*C+1)
	}
	for _, c := range []struct {
		name string
		a, b []float32
	}{{"dx", adx, bdx}, {"dgamma", adg, bdg}, {"dbeta", adb, bdb}} {
		if !slices.Equal(c.a, c.b) {
			t.Errorf("%s differs with the sums over one process", c.name)
		}
	}
}
