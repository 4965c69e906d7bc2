// Package nn holds the float32 layer kernels that generated network code calls: the fused
// convolution (BN-ReLU and dropout applied as the input is loaded, the residual add applied
// as the output is stored), batch normalization statistics, the head (BN-ReLU, global
// average pool, fully connected layer), the softmax cross-entropy loss, and the backward
// pass of each.
//
// Layout is NCHW float32. n, the images in one call, is a run-time value; every other size
// is a constant of the generated code. Semantics follow PyTorch: BN in training normalizes
// with the biased batch variance over (n, H, W) per channel (eps 1e-5) and updates the
// running statistics with momentum 0.1 and the unbiased variance.
//
// BN-ReLU (and dropout) outputs are never stored: a convolution that reads one gets a Pre
// describing it and applies z = drop(max(0, x*Scale[c]+Shift[c])) while it builds its
// im2col columns; the backward pass recomputes z from the stored BN input x.
//
// Each convolution pass picks its method by shape and batch (algo.go): 3x3, stride 1,
// pad 1 convolutions with at least 16 input and output channels run by Winograd
// F(4x4, 3x3), or F(2x2, 3x3) when the batch has few output tiles (wino.go: forward and
// input gradient; wino_wgrad.go: weight gradient); other convolutions with at least 8
// input channels (but 1x1 stride-1 ones) run forward as one GEMM per chunk of output pixels on an im2row matrix
// built from channel-blocked input (direct.go); the rest by im2col and GEMM. Winograd
// adds rounding in its transforms: its error against the float64 reference is bounded
// separately (wino_test.go). Transformed and packed weights are kept in the Ctx and
// reused while the weights are unchanged (compared with a copy, or trusted under
// SetWeightsVersion).
//
// In the im2col path, work is spread over the threads of a cpu.Pool: a batch is split by
// images, each thread running its own single-threaded GEMM; images left over (fewer than
// the threads) run one at a time with the loads split by channels and the shared parallel
// GEMM. The other paths split chunks of output tiles or pixels over the threads, or, for
// a single small image, the channels of each step. A Ctx holds the per-thread workspace,
// so that steady-state calls do not allocate.
//
// The kernels panic, like cpu.Gemm, when their arguments are inconsistent (a programming
// error of the caller); Conv.Validate and Ctx.Check report the same problems as errors so
// that generated code can check its constant shapes once, up front.
package nn
