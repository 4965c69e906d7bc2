package nn

import (
	"math"

	"github.com/wrnc/wrnc/runtime/contract"
)

// Batch normalization constants, PyTorch's defaults.
const (
	bnEps      = contract.BNEpsilon
	bnMomentum = 0.1
)

// bnCall holds the arguments of the BNTrain, BNReLUBackward or BNBackward in progress
// (ld is the zero loader, no ReLU, for BNBackward).
type bnCall struct {
	n, c, hw                   int
	x, gamma, beta             []float32
	runMean, runVar            []float32
	mean, invstd, scale, shift []float32
	ld                         loader
	dz, dx, dgamma, dbeta      []float32
	accDx                      bool
}

// BNTrain computes the batch mean and 1/sqrt(var+eps) (var the biased variance) of x
// [n, C, HW] per channel, accumulating in float64, into mean and invstd (kept for the
// backward pass); updates runMean and runVar with momentum 0.1 (runVar with the unbiased
// variance; when n*HW == 1 runVar is left as it is, where PyTorch raises an error); and
// writes scale = gamma*invstd, shift = beta - mean*scale for the Pre of the next conv.
// n, C, HW >= 1; x holds n*C*HW values and the other slices C each.
func BNTrain(ctx *Ctx, n, C, HW int, x, gamma, beta, runMean, runVar, mean, invstd, scale, shift []float32) {
	ctx.bn = bnCall{n: n, c: C, hw: HW, x: x, gamma: gamma, beta: beta, runMean: runMean, runVar: runVar,
		mean: mean, invstd: invstd, scale: scale, shift: shift}
	if ctx.bnSum != nil {
		ctx.bnTrainSync()
	} else {
		ctx.pool.For(C, ctx.bnTrainBody)
	}
	ctx.bn = bnCall{}
}

// bnTrainChannels computes the statistics of channels [lo, hi).
func (ctx *Ctx) bnTrainChannels(lo, hi int) {
	b := &ctx.bn
	cnt := float64(b.n * b.hw)
	k := ctx.kern
	for ch := lo; ch < hi; ch++ {
		var s float64
		for i := 0; i < b.n; i++ {
			s += k.SumF64(b.x[(i*b.c+ch)*b.hw : (i*b.c+ch+1)*b.hw])
		}
		m := s / cnt
		var q float64
		for i := 0; i < b.n; i++ {
			q += k.SqDevF64(b.x[(i*b.c+ch)*b.hw:(i*b.c+ch+1)*b.hw], m)
		}
		b.setStats(ch, m, q, cnt)
	}
}

// setStats writes channel ch's batch statistics (mean m, sum of squared deviations q over
// cnt values), the scale and shift they make, and the running averages.
func (b *bnCall) setStats(ch int, m, q, cnt float64) {
	is := 1 / math.Sqrt(q/cnt+bnEps)
	b.mean[ch], b.invstd[ch] = float32(m), float32(is)
	sc := float64(b.gamma[ch]) * is
	b.scale[ch], b.shift[ch] = float32(sc), float32(float64(b.beta[ch])-m*sc)
	b.runMean[ch] = float32((1-bnMomentum)*float64(b.runMean[ch]) + bnMomentum*m)
	if cnt > 1 {
		b.runVar[ch] = float32((1-bnMomentum)*float64(b.runVar[ch]) + bnMomentum*q/(cnt-1))
	}
}

// BNInfer writes scale = gamma/sqrt(runVar+eps) and shift = beta - runMean*scale from the
// running statistics of C channels (C >= 1; every slice holds C values).
func BNInfer(C int, gamma, beta, runMean, runVar, scale, shift []float32) {
	for ch := 0; ch < C; ch++ {
		sc := float64(gamma[ch]) / math.Sqrt(float64(runVar[ch])+bnEps)
		scale[ch] = float32(sc)
		shift[ch] = float32(float64(beta[ch]) - float64(runMean[ch])*sc)
	}
}

// FoldBN folds a BN, from its running statistics, into the conv before it: with scale =
// gamma/sqrt(runVar+eps) (in float64, as BNInfer), wf = w times scale per output channel (w
// and wf hold K rows of per weights), one = 1 and bias = beta - runMean*scale, so that
// conv(x, wf) + bias is BN(conv(x, w)), and the conv's output is loaded through the Pre
// {one, bias}. K, per >= 1; gamma, beta, runMean, runVar, one and bias hold K values. wf
// may be nil where the folded weights are only transformed (WinogradWeightsFolded,
// RowWeightsFolded scale as they transform).
func FoldBN(K, per int, gamma, beta, runMean, runVar, w, wf, one, bias []float32) {
	for k := 0; k < K; k++ {
		sc := foldScale(gamma, runVar, k)
		if wf != nil {
			scaleRow(wf[k*per:(k+1)*per], w[k*per:(k+1)*per], sc)
		}
		one[k] = 1
		bias[k] = float32(float64(beta[k]) - float64(runMean[k])*sc)
	}
}

// foldScale is the scale of channel k of a BN folded into the conv before it, in float64.
func foldScale(gamma, runVar []float32, k int) float64 {
	return float64(gamma[k]) / math.Sqrt(float64(runVar[k])+bnEps)
}

// scaleRow writes dst = src*sc, each rounded once to float32: the folded weights of one
// output channel.
func scaleRow(dst, src []float32, sc float64) {
	for i, v := range src[:len(dst)] {
		dst[i] = float32(float64(v) * sc)
	}
}
