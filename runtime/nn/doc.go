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
// The library does not choose how to compute a convolution: the compiler's selection pass
// chooses a method per layer and pass, and generated code calls that method's entry point.
// The methods are Winograd F(m x m, 3 x 3), m 2 or 4, for 3x3, stride 1, pad 1
// convolutions (WinogradForward, WinogradDgrad: wino.go, wino_run.go; WinogradWgrad:
// wino_wgrad.go); im2row on channel-blocked input for the others with at least 8 input
// channels (Im2rowForward, Im2rowBackward: direct*.go); im2col and GEMM for the rest
// (Im2colForward, Im2colBackward: conv.go, convback.go), and PointwiseForward,
// PointwiseBackward for 1x1 stride-1 unpadded convolutions, whose input is its own column
// matrix. Im2colBackward can compute either gradient alone, to pair with a Winograd pass
// for the other. Winograd adds rounding in its transforms: its error against the float64
// reference is bounded separately (wino_test.go).
//
// In post-activation networks (torchvision's ResNet and WRN, the imagenet family) a
// residual block ends in relu(bn(y) + shortcut), which is stored: AddReLUForward
// (addrelu.go) computes it with the block's last BN, and the shortcut's BN if it has one,
// applied on the fly; AddReLUBackward masks its gradient, and BNBackward, the BN backward
// pass without a ReLU, carries it to each BN's input. The stem's max pool (MaxPoolForward,
// MaxPoolBackward: pool.go) loads its input through the stem's BN-ReLU as a convolution
// does through a Pre, and HeadForward with no scale and shift pools the last block's
// stored output.
//
// Derived weights belong to the caller: the Winograd methods take the transformed weights
// that WinogradWeights writes, Im2rowForward the packed weights of RowWeights and the
// input gradient of Im2rowBackward those of RowWeightsT, each in a buffer of the size that
// package contract gives (WinogradWeightsLen, RowWeightsLen), which the compiler plans and
// generated code refills after loading weights and after every optimizer step (SGDStep).
// The kernels keep no state between calls but their workspace.
//
// In the im2col path, work is spread over the threads of a cpu.Pool: a batch is split by
// images, each thread running its own single-threaded GEMM; images left over (fewer than
// the threads) run one at a time with the loads split by channels and the shared parallel
// GEMM. The other paths split chunks of output tiles or pixels over the threads, or, for
// a single small image, the channels of each step. A Ctx holds the per-thread workspace,
// so that steady-state calls do not allocate.
//
// The kernels do not check their arguments and do not panic: each documents its
// preconditions (shapes valid, slices long enough, derived weights made from the current
// weights), which generated code validates for its whole plan once, at start-up, with
// CheckConv and Ctx.Check. SoftmaxCE, whose labels come from data, returns an error.
package nn
