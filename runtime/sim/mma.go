package sim

import (
	"fmt"
	"math"
)

// mma executes mma.sync.aligned for the 32 lanes lo..lo+31: D = A*B + C with
// A 16xK (row-major fragments), B Kx8 (column-major fragments), C and D
// 16x8 float32, following the fragment layouts of the PTX ISA ("Matrix
// Fragments for mma.m16n8k8" and "mma.m16n8k16"), with
// groupID = laneid>>2 and threadID_in_group = laneid%4.
//
// Numerics: tf32 operands keep only their top 19 bits (the low 13 bits of
// the .b32 register are ignored); bf16 operands are the halves of .b32
// registers, the lower-indexed element in the low half. Every product is
// exact in float64; D[i][j] is C[i][j] plus the products for k = 0..K-1,
// summed in that order in float64, rounded once to float32.
func (w *worker) mma(in *inst, lo, hi int) error {
	if hi-lo != 32 {
		return w.execErr(lo, w.threads[lo].pc, fmt.Sprintf("mma.sync needs a full warp of 32 threads, this one has %d", hi-lo))
	}
	K := 8
	if in.flags == mmaBF16 {
		K = 16
	}
	var A [16][16]float64
	var B [16][8]float64
	var C [16][8]float64
	ops := w.pool[in.a : in.a+14]
	dr, ar, br, cr := ops[0:4], ops[4:8], ops[8:10], ops[10:14]
	for lane := 0; lane < 32; lane++ {
		regs := w.threads[lo+lane].regs
		g, t := lane>>2, lane&3
		for i, s := range cr {
			C[g+8*(i>>1)][2*t+i&1] = float64(f32(regs[s]))
		}
		if in.flags == mmaTF32 {
			tf := func(s int32) float64 { return float64(math.Float32frombits(uint32(regs[s]) & 0xffffe000)) }
			A[g][t], A[g+8][t], A[g][t+4], A[g+8][t+4] = tf(ar[0]), tf(ar[1]), tf(ar[2]), tf(ar[3])
			B[t][g], B[t+4][g] = tf(br[0]), tf(br[1])
			continue
		}
		half := func(s int32, hi bool) float64 {
			v := uint32(regs[s])
			if hi {
				v >>= 16
			}
			return float64(math.Float32frombits(v << 16))
		}
		for r, s := range ar {
			row, col := g+8*(r&1), 2*t+8*(r>>1)
			A[row][col], A[row][col+1] = half(s, false), half(s, true)
		}
		for r, s := range br {
			row := 2*t + 8*r
			B[row][g], B[row+1][g] = half(s, false), half(s, true)
		}
	}
	for lane := 0; lane < 32; lane++ {
		regs := w.threads[lo+lane].regs
		g, t := lane>>2, lane&3
		for i, s := range dr {
			row, col := g+8*(i>>1), 2*t+i&1
			acc := C[row][col]
			for k := 0; k < K; k++ {
				acc += A[row][k] * B[k][col]
			}
			regs[s] = fbits(float32(acc))
		}
	}
	return nil
}
