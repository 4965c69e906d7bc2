package nn

import (
	"fmt"
	"github.com/wrnc/wrnc/testdata/ref"
	"math"
	"testing"
)

// TestKeepIsSplitmix64 pins the mask generator to splitmix64 (so that other devices can
// reproduce it): element i uses output i of the generator seeded with seed, whose first
// output from seed 0 is the published 0xe220a8397b1dcdaf.
func TestKeepIsSplitmix64(t *testing.T) {
	if got := mix64(0 + golden); got != 0xe220a8397b1dcdaf {
		t.Fatalf("first splitmix64 output from seed 0 = %#x, want 0xe220a8397b1dcdaf", got)
	}
	for _, seed := range []uint64{0, 1, 0xdeadbeefcafe, DropSeed(3, 4, 5)} {
		state := seed
		for i := 0; i < 1000; i++ {
			state += golden
			z := state
			z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
			z = (z ^ (z >> 27)) * 0x94d049bb133111eb
			z ^= z >> 31
			if got := keepBits(seed, uint64(i)); got != z>>11 {
				t.Fatalf("seed %#x element %d: bits %#x, want splitmix64 output %#x >> 11", seed, i, got, z)
			}
			p := float32(0.3)
			if want := float64(z>>11)/(1<<53) >= float64(p); Keep(seed, i, p) != want {
				t.Fatalf("seed %#x element %d: Keep = %v, want %v", seed, i, !want, want)
			}
		}
	}
}

// TestKeepRate checks the fraction of kept elements, and the agreement of neighbouring
// elements and of two layers' masks, against their expectations (within 5 standard
// deviations).
func TestKeepRate(t *testing.T) {
	const N = 200000
	for _, p := range []float32{0.1, 0.3, 0.5, 0.9} {
		t.Run(fmt.Sprintf("p=%g", p), func(t *testing.T) {
			s0, s1 := DropSeed(7, 11, 0), DropSeed(7, 11, 1)
			var kept, sameNext, sameLayer int
			for i := 0; i < N; i++ {
				k := Keep(s0, i, p)
				if k {
					kept++
				}
				if k == Keep(s0, i+1, p) {
					sameNext++
				}
				if k == Keep(s1, i, p) {
					sameLayer++
				}
			}
			q := float64(p)
			agree := q*q + (1-q)*(1-q)
			for _, c := range []struct {
				name string
				got  int
				want float64
			}{
				{"kept", kept, 1 - q},
				{"neighbours agreeing", sameNext, agree},
				{"layers agreeing", sameLayer, agree},
			} {
				f := float64(c.got) / N
				if sd := math.Sqrt(c.want * (1 - c.want) / N); math.Abs(f-c.want) > 5*sd {
					t.Errorf("%s: fraction %.4f, want %.4f ± %.4f", c.name, f, c.want, 5*sd)
				}
			}
		})
	}
}

func TestKeepEdges(t *testing.T) {
	for i := 0; i < 10000; i++ {
		if !Keep(42, i, 0) {
			t.Fatalf("Keep(42, %d, 0) = false, want every element kept at rate 0", i)
		}
		if Keep(42, i, 1) {
			t.Fatalf("Keep(42, %d, 1) = true, want every element dropped at rate 1", i)
		}
	}
}

// TestDropSeed checks that seeds differ across runs, steps and layers (no collision over a
// grid) and that DropSeed is a pure function.
func TestDropSeed(t *testing.T) {
	seen := map[uint64]string{}
	for run := uint64(0); run < 4; run++ {
		for step := uint64(0); step < 100; step++ {
			for layer := 0; layer < 40; layer++ {
				s := DropSeed(run, step, layer)
				key := fmt.Sprintf("run %d step %d layer %d", run, step, layer)
				if prev, ok := seen[s]; ok {
					t.Fatalf("%s and %s share seed %#x", prev, key, s)
				}
				seen[s] = key
				if DropSeed(run, step, layer) != s {
					t.Fatalf("%s: DropSeed is not deterministic", key)
				}
			}
		}
	}
}

// TestKeepMatchesReference checks the kernels' dropout mask against the reference's,
// written from the same definition, over seeds, indices and rates.
func TestKeepMatchesReference(t *testing.T) {
	for _, p := range []float32{0, 1e-3, 0.2, 0.3, 0.5, 0.999, 1} {
		for seed := uint64(0); seed < 20; seed++ {
			s := DropSeed(seed*7919, seed, int(seed%5))
			for i := 0; i < 2000; i++ {
				if Keep(s, i, p) != ref.Keep(s, i, p) {
					t.Fatalf("p %g seed %d element %d: nn.Keep %t, ref.Keep %t", p, s, i, Keep(s, i, p), ref.Keep(s, i, p))
				}
			}
		}
	}
}
