package optim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/wrnc/wrnc/runtime/cpu"
	"github.com/wrnc/wrnc/runtime/model"
)

// refSGD is torch.optim.SGD's single-tensor algorithm in float64, written as the
// PyTorch source reads (momentum_buffer None on the first step).
type refSGD struct {
	lr, momentum, dampening, wd float64
	nesterov                    bool
	buf                         []float64 // nil: no buffer yet
}

func (r *refSGD) step(p, g []float64) {
	d := make([]float64, len(g))
	for i := range g {
		d[i] = g[i]
		if r.wd != 0 {
			d[i] = d[i] + r.wd*p[i]
		}
	}
	if r.momentum != 0 {
		if r.buf == nil {
			r.buf = append([]float64(nil), d...)
		} else {
			for i := range d {
				r.buf[i] = r.buf[i]*r.momentum + (1-r.dampening)*d[i]
			}
		}
		for i := range d {
			if r.nesterov {
				d[i] = d[i] + r.momentum*r.buf[i]
			} else {
				d[i] = r.buf[i]
			}
		}
	}
	for i := range p {
		p[i] -= r.lr * d[i]
	}
}

func randSlice(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

func widen(v []float32) []float64 {
	w := make([]float64, len(v))
	for i, x := range v {
		w[i] = float64(x)
	}
	return w
}

// relClose reports the first element where got and want differ by more than tol
// relative to max(1, |want|).
func relClose(got []float32, want []float64, tol float64) error {
	for i := range want {
		if d := math.Abs(float64(got[i]) - want[i]); d > tol*math.Max(1, math.Abs(want[i])) {
			return fmt.Errorf("element %d: got %g, want %g", i, got[i], want[i])
		}
	}
	return nil
}

func TestSGDMatchesReference(t *testing.T) {
	for _, mom := range []float64{0, 0.9} {
		for _, damp := range []float64{0, 0.3} {
			for _, nest := range []bool{false, true} {
				for _, wd := range []float64{0, 5e-4, 0.05} {
					name := fmt.Sprintf("momentum=%g/dampening=%g/nesterov=%v/wd=%g", mom, damp, nest, wd)
					t.Run(name, func(t *testing.T) {
						rng := rand.New(rand.NewPCG(1, 2))
						const n = 257
						p := randSlice(rng, n)
						o := &SGD{Momentum: mom, Dampening: damp, WeightDecay: wd, Nesterov: nest}
						ref := &refSGD{momentum: mom, dampening: damp, wd: wd, nesterov: nest}
						rp := widen(p)
						for step, lr := range []float64{0.1, 0.1, 0.02, 0.5} {
							g := randSlice(rng, n)
							gCopy := append([]float32(nil), g...)
							ref.lr = lr
							ref.step(rp, widen(g))
							if err := o.Step(p, g, lr, nil); err != nil {
								t.Fatal(err)
							}
							if diff := cmp.Diff(gCopy, g); diff != "" {
								t.Fatalf("step %d changed the gradients (-want +got):\n%s", step, diff)
							}
							if err := relClose(p, rp, 1e-5); err != nil {
								t.Fatalf("step %d params: %v", step, err)
							}
							if mom != 0 {
								if err := relClose(o.Buf, ref.buf, 1e-5); err != nil {
									t.Fatalf("step %d momentum: %v", step, err)
								}
							} else if o.Buf != nil {
								t.Fatalf("momentum 0 made a buffer")
							}
						}
					})
				}
			}
		}
	}
}

// TestSGDByHand checks two steps of one element against values worked out on paper.
func TestSGDByHand(t *testing.T) {
	tests := []struct {
		name string
		o    SGD
		want [2]float64 // p after step 1 and 2; p0 = 1, g = 0.5 both steps, lr 0.1
	}{
		// d = 0.5 + 0.1*1 = 0.6; p = 1 - 0.06 = 0.94; d = 0.5 + 0.094 = 0.594; p = 0.94 - 0.0594
		{"plain+wd", SGD{WeightDecay: 0.1}, [2]float64{0.94, 0.8806}},
		// b = 0.5; p = 0.95; b = 0.45 + 0.5 = 0.95; p = 0.95 - 0.095
		{"momentum", SGD{Momentum: 0.9}, [2]float64{0.95, 0.855}},
		// first step undampened: b = 0.5, p = 0.95; b = 0.45 + 0.5*0.5 = 0.7; p = 0.95 - 0.07
		{"dampening", SGD{Momentum: 0.9, Dampening: 0.5}, [2]float64{0.95, 0.88}},
		// d = 0.6, b = 0.6, d = 0.6 + 0.54 = 1.14, p = 0.886;
		// d = 0.5 + 0.0886 = 0.5886, b = 0.54 + 0.5886 = 1.1286, d = 0.5886 + 1.01574 = 1.60434, p = 0.725566
		{"nesterov+wd", SGD{Momentum: 0.9, Nesterov: true, WeightDecay: 0.1}, [2]float64{0.886, 0.725566}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			p := []float32{1}
			for i, want := range tc.want {
				if err := o.Step(p, []float32{0.5}, 0.1, nil); err != nil {
					t.Fatal(err)
				}
				if math.Abs(float64(p[0])-want) > 1e-6 {
					t.Errorf("step %d: p = %.7f, want %.7f", i+1, p[0], want)
				}
			}
		})
	}
}

func TestSGDPoolSameResult(t *testing.T) {
	pool := cpu.NewPool(3)
	defer pool.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	const n = 5*stepGrain + 123
	p1 := randSlice(rng, n)
	p2 := append([]float32(nil), p1...)
	a := &SGD{Momentum: 0.9, Nesterov: true, WeightDecay: 5e-4}
	b := *a
	for range 3 {
		g := randSlice(rng, n)
		if err := a.Step(p1, g, 0.1, nil); err != nil {
			t.Fatal(err)
		}
		if err := b.Step(p2, g, 0.1, pool); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff(p1, p2); diff != "" {
		t.Errorf("pooled step differs (-serial +pooled):\n%s", diff)
	}
	if diff := cmp.Diff(a.Buf, b.Buf); diff != "" {
		t.Errorf("pooled momentum differs (-serial +pooled):\n%s", diff)
	}
}

func TestSGDErrors(t *testing.T) {
	tests := []struct {
		name   string
		o      SGD
		p, g   int
		errStr string
	}{
		{"lengths", SGD{}, 3, 4, "3 parameters but 4 gradients"},
		{"buffer", SGD{Momentum: 0.9, Buf: make([]float32, 2)}, 3, 3, "momentum buffer of 2 elements for 3 parameters"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := []float32{1, 2, 3, 4}[:tc.p]
			before := append([]float32(nil), p...)
			err := tc.o.Step(p, make([]float32, tc.g), 0.1, nil)
			if err == nil || err.Error() != "optim: "+tc.errStr {
				t.Fatalf("err = %v, want %q", err, tc.errStr)
			}
			if diff := cmp.Diff(before, p); diff != "" {
				t.Errorf("params changed (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewSGD(t *testing.T) {
	r := model.Recipe{LR: 0.1, Momentum: 0.9, Nesterov: true, WeightDecay: 5e-4, Dampening: 0.1}
	want := &SGD{Momentum: 0.9, Nesterov: true, WeightDecay: 5e-4, Dampening: 0.1}
	if diff := cmp.Diff(want, NewSGD(r), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
