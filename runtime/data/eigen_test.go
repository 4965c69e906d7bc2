package data

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// randomSymmetric returns an n x n symmetric matrix with entries in [-1, 1).
func randomSymmetric(rng *rand.Rand, n int) []float64 {
	a := make([]float64, n*n)
	for i := range n {
		for j := 0; j <= i; j++ {
			v := 2*rng.Float64() - 1
			a[i*n+j], a[j*n+i] = v, v
		}
	}
	return a
}

// checkEigen verifies ascending order, V V^T = I and A = V^T diag(w) V.
func checkEigen(t *testing.T, a []float64, n int, w, v []float64) {
	t.Helper()
	norm := 0.0
	for _, x := range a {
		norm = max(norm, math.Abs(x))
	}
	norm = max(norm*float64(n), 1e-300)
	tol := 1e-12 * float64(n)
	for k := 1; k < n; k++ {
		if w[k] < w[k-1] {
			t.Fatalf("eigenvalues not ascending at %d: %g < %g", k, w[k], w[k-1])
		}
	}
	for i := range n {
		for j := range n {
			dot := 0.0
			for k := range n {
				dot += v[i*n+k] * v[j*n+k]
			}
			want := 0.0
			if i == j {
				want = 1
			}
			if math.Abs(dot-want) > tol {
				t.Fatalf("eigenvectors %d and %d: dot %g, want %g", i, j, dot, want)
			}
		}
	}
	for i := range n {
		for j := range n {
			s := 0.0
			for k := range n {
				s += v[k*n+i] * w[k] * v[k*n+j]
			}
			if math.Abs(s-a[i*n+j]) > tol*norm {
				t.Fatalf("reconstruction [%d,%d]: %g, want %g", i, j, s, a[i*n+j])
			}
		}
	}
}

func TestSymEigen(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		name string
		n    int
		a    []float64
	}{
		{"1x1", 1, []float64{3}},
		{"zero 4x4", 4, make([]float64, 16)},
		{"diagonal", 3, []float64{2, 0, 0, 0, -1, 0, 0, 0, 5}},
		{"identity 5", 5, func() []float64 {
			a := make([]float64, 25)
			for i := range 5 {
				a[i*5+i] = 1
			}
			return a
		}()},
		{"2x2", 2, []float64{2, 1, 1, 2}},
		{"rank one 6", 6, func() []float64 {
			a := make([]float64, 36)
			for i := range 6 {
				for j := range 6 {
					a[i*6+j] = float64((i + 1) * (j + 1))
				}
			}
			return a
		}()},
	}
	lowRank := func(n, r int) []float64 { // B B^T, B n x r: n-r zero eigenvalues
		b := make([]float64, n*r)
		for i := range b {
			b[i] = rng.NormFloat64()
		}
		a := make([]float64, n*n)
		for i := range n {
			for j := range n {
				for k := range r {
					a[i*n+j] += b[i*r+k] * b[j*r+k]
				}
			}
		}
		return a
	}
	cases = append(cases,
		struct {
			name string
			n    int
			a    []float64
		}{"low rank 80 (rank 7)", 80, lowRank(80, 7)},
		struct {
			name string
			n    int
			a    []float64
		}{"covariance-like 220 (rank 150)", 220, lowRank(220, 150)},
	)
	for _, n := range []int{3, 10, 17, 50, 123, 260} {
		cases = append(cases, struct {
			name string
			n    int
			a    []float64
		}{fmt.Sprintf("random %d", n), n, randomSymmetric(rng, n)})
	}
	for _, tc := range cases {
		for _, workers := range []int{1, 3} {
			t.Run(fmt.Sprintf("%s/workers=%d", tc.name, workers), func(t *testing.T) {
				in := append([]float64(nil), tc.a...)
				w, v, err := symEigen(tc.a, tc.n, workers)
				if err != nil {
					t.Fatal(err)
				}
				for i := range in {
					if in[i] != tc.a[i] {
						t.Fatal("SymEigen modified its input")
					}
				}
				checkEigen(t, tc.a, tc.n, w, v)
			})
		}
	}
}

func TestSymEigenKnownValues(t *testing.T) {
	// [[2,1],[1,2]] has eigenvalues 1 and 3.
	w, _, err := SymEigen([]float64{2, 1, 1, 2}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(w[0]-1) > 1e-14 || math.Abs(w[1]-3) > 1e-14 {
		t.Errorf("eigenvalues %v, want [1 3]", w)
	}
}

func TestSymEigenBadShape(t *testing.T) {
	if _, _, err := SymEigen(make([]float64, 5), 2); err == nil {
		t.Error("SymEigen accepted 5 values for a 2x2 matrix")
	}
}

func BenchmarkSymEigen(b *testing.B) {
	for _, n := range []int{784, 3072} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			a := randomSymmetric(rand.New(rand.NewPCG(3, 4)), n)
			for b.Loop() {
				if _, _, err := symEigen(a, n, 1); err != nil {
					b.Fatal(err)
				}
			}
			// Nominal 9n^3 flops: the textbook count of tred2 and of tql2
			// with vectors (about two sweeps per eigenvalue); this code
			// does fewer, so the rate is comparable across versions only.
			b.ReportMetric(9*float64(n)*float64(n)*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
