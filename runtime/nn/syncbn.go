package nn

// SetBNSum makes the batch normalization of training (BNTrain, BNReLUBackward,
// BNBackward) compute its statistics over the batches of several processes, as PyTorch's
// SyncBatchNorm: sum, when not nil, replaces its argument with the element-wise sum over
// all processes (an allreduce), and is called from the goroutine calling the kernel.
// BNTrain then normalizes with the mean and variance of all the processes' images (two
// sums per layer: the values with their count, then the squared deviations), and
// BNReLUBackward and BNBackward sum d loss / d bn(x) and its product with x over all of
// them for the gradient of x; the gradients of gamma and beta stay this process's own
// (the data-parallel average adds them up). nil, the default, keeps every statistic local.
func (ctx *Ctx) SetBNSum(sum func([]float64)) {
	ctx.bnSum = sum
	if sum != nil && ctx.bnSyncSumsBody == nil {
		ctx.bnSyncSumsBody = ctx.bnSyncSums
		ctx.bnSyncDevBody = ctx.bnSyncDevs
		ctx.bnBackSumsBody = ctx.bnBackSums
		ctx.bnBackDxBody = ctx.bnBackDx
	}
}

// bnSums returns the context's float64 buffer of n values for the sums over processes.
func (ctx *Ctx) bnSums(n int) []float64 {
	if cap(ctx.bnAcc) < n {
		ctx.bnAcc = make([]float64, n)
	}
	return ctx.bnAcc[:n]
}

// bnTrainSync is BNTrain with statistics over all processes.
func (ctx *Ctx) bnTrainSync() {
	b := &ctx.bn
	C := b.c
	s := ctx.bnSums(C + 1)
	ctx.pool.For(C, ctx.bnSyncSumsBody)
	s[C] = float64(b.n * b.hw)
	ctx.bnSum(s)
	cnt := s[C]
	ctx.bnMean = append(ctx.bnMean[:0], s[:C]...)
	for ch := range C {
		ctx.bnMean[ch] /= cnt
	}
	s = s[:C]
	ctx.pool.For(C, ctx.bnSyncDevBody)
	ctx.bnSum(s)
	for ch := range C {
		b.setStats(ch, ctx.bnMean[ch], s[ch], cnt)
	}
}

// bnSyncSums writes the local sums of channels [lo, hi) to ctx.bnAcc.
func (ctx *Ctx) bnSyncSums(lo, hi int) {
	b := &ctx.bn
	for ch := lo; ch < hi; ch++ {
		var s float64
		for i := 0; i < b.n; i++ {
			s += ctx.kern.SumF64(b.x[(i*b.c+ch)*b.hw : (i*b.c+ch+1)*b.hw])
		}
		ctx.bnAcc[ch] = s
	}
}

// bnSyncDevs writes the local sums of squared deviations from the global mean of
// channels [lo, hi) to ctx.bnAcc.
func (ctx *Ctx) bnSyncDevs(lo, hi int) {
	b := &ctx.bn
	for ch := lo; ch < hi; ch++ {
		m := ctx.bnMean[ch]
		var q float64
		for i := 0; i < b.n; i++ {
			q += ctx.kern.SqDevF64(b.x[(i*b.c+ch)*b.hw:(i*b.c+ch+1)*b.hw], m)
		}
		ctx.bnAcc[ch] = q
	}
}

// bnBackSync is BNReLUBackward or BNBackward with the sums over all processes.
func (ctx *Ctx) bnBackSync() {
	b := &ctx.bn
	C := b.c
	s := ctx.bnSums(2*C + 1)
	ctx.pool.For(C, ctx.bnBackSumsBody)
	s[2*C] = float64(b.n * b.hw)
	ctx.bnSum(s)
	ctx.pool.For(C, ctx.bnBackDxBody)
}

// bnBackSums writes sum g and sum g*x of channels [lo, hi) to ctx.bnAcc[ch] and
// ctx.bnAcc[C+ch], and this process's dbeta and dgamma.
func (ctx *Ctx) bnBackSums(lo, hi int) {
	b := &ctx.bn
	for ch := lo; ch < hi; ch++ {
		sg, sgx := ctx.bnGradSums(ch)
		b.dbeta[ch], b.dgamma[ch] = float32(sg), float32(b.gxhat(ch, sg, sgx))
		ctx.bnAcc[ch], ctx.bnAcc[b.c+ch] = sg, sgx
	}
}

// bnBackDx writes dx of channels [lo, hi) from the sums over all processes.
func (ctx *Ctx) bnBackDx(lo, hi int) {
	b := &ctx.bn
	cnt := ctx.bnAcc[2*b.c]
	for ch := lo; ch < hi; ch++ {
		ctx.bnDx(ch, ctx.bnAcc[ch], ctx.bnAcc[b.c+ch], cnt)
	}
}
