package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkMulPacked runs the packed-B GEMM on the shapes of the Winograd convolutions of
// WRN-16-4 (one transformed position: tiles x K x C) and a square one; GFLOP/s counts
// 2*M*N*K.
func BenchmarkMulPacked(b *testing.B) {
	for _, s := range [][3]int{{32, 64, 64}, {16, 128, 128}, {16, 256, 256}, {96, 64, 64}, {256, 256, 256}} {
		for _, k := range kernelFamilies(b) {
			if k.Name() == "go" && s[0]*s[1]*s[2] > 1<<20 {
				continue
			}
			b.Run(fmt.Sprintf("%s/%dx%dx%d", k.Name(), s[0], s[1], s[2]), func(b *testing.B) {
				m, n, d := s[0], s[1], s[2]
				r := rand.New(rand.NewPCG(1, 2))
				a, bm, c := randSlice(r, m*d), randSlice(r, d*n), make([]float32, m*n)
				bp := make([]float32, PackedLen(d, n))
				k.PackB(bp, bm, n, d, n)
				for b.Loop() {
					k.MulPacked(m, n, d, a, d, bp, c, n, false)
				}
				b.ReportMetric(2*float64(m*n*d)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkWinoTransforms runs the tile transforms on 8 tiles of 8 channels; MB/s counts
// the float32s written.
func BenchmarkWinoTransforms(b *testing.B) {
	for _, k := range kernelFamilies(b) {
		for _, m := range []int{2, 4} {
			a := m + 2
			const tiles = 8
			r := rand.New(rand.NewPCG(3, 4))
			srcRow := (tiles*m + 2) * lanes
			src := randSlice(r, a*srcRow)
			dst := make([]float32, a*a*tiles*lanes)
			out := make([]float32, m*tiles*m*lanes)
			for _, tr := range []struct {
				name    string
				written int
				f       func()
			}{
				{"input", a * a * tiles * lanes, func() { k.WinoInput(m, src, srcRow, dst, tiles*lanes, lanes, tiles) }},
				{"output", m * m * tiles * lanes, func() { k.WinoOutput(m, dst, tiles*lanes, lanes, out, tiles*m*lanes, tiles) }},
				{"dy", a * a * tiles * lanes, func() { k.WinoDY(m, src, srcRow, dst, tiles*lanes, lanes, tiles) }},
			} {
				b.Run(fmt.Sprintf("%s/F%d/%s", k.Name(), m, tr.name), func(b *testing.B) {
					for b.Loop() {
						tr.f()
					}
					b.ReportMetric(4*float64(tr.written)*float64(b.N)/b.Elapsed().Seconds()/1e6, "MB/s")
				})
			}
		}
	}
}

// BenchmarkUnpackC8 converts a 32x32 image of 8 channels out of c8 with a residual (a
// Winograd or im2row store) by every family; MB/s counts the float32s written.
func BenchmarkUnpackC8(b *testing.B) {
	const w, rows, cn = 32, 32, 8
	for _, k := range kernelFamilies(b) {
		b.Run(k.Name(), func(b *testing.B) {
			r := rand.New(rand.NewPCG(5, 6))
			src := randSlice(r, rows*w*cn)
			dst, res := make([]float32, cn*rows*w), randSlice(r, cn*rows*w)
			for b.Loop() {
				k.UnpackC8(src, w*cn, cn, cn, w, rows, dst, w, rows*w, res)
			}
			b.SetBytes(4 * cn * rows * w)
		})
	}
}

// BenchmarkPackC8 converts a 32x32 image of 8 channels into c8 through a BN-ReLU (the
// Winograd input's load) by every family; MB/s counts the float32s written.
func BenchmarkPackC8(b *testing.B) {
	const w, rows, cn = 32, 32, 8
	for _, k := range kernelFamilies(b) {
		b.Run(k.Name(), func(b *testing.B) {
			r := rand.New(rand.NewPCG(7, 8))
			src, dst := randSlice(r, cn*rows*w), make([]float32, rows*w*cn)
			scale, shift := randSlice(r, cn), randSlice(r, cn)
			for b.Loop() {
				k.PackC8(src, w, rows*w, cn, w, rows, scale, shift, dst, w*cn)
			}
			b.SetBytes(4 * cn * rows * w)
		})
	}
}
