// Package ptx emits the PTX kernels of a network: one .entry per fused kernel, specialized for
// the layer's exact shapes (every loop bound, stride and offset an immediate), computing what
// the runtime/nn CPU kernel of the same name computes.
//
// # How kernels are written
//
// A kernel is a linear walk over a builder: each value gets a fresh typed virtual register
// (%p predicates, %r 32-bit integers, %rd 64-bit, %f f32), each instruction is recorded as
// (op, type, destination, sources) and rendered through one table from op to instruction
// format (table.go); the register counts of each class are declared at the top of the entry
// once the walk is done. The text depends on the walk alone, so it is deterministic. f32
// arithmetic is written with explicit rounding (add.rn, mul.rn), which ptxas never contracts
// into fma: the kernels round where the CPU kernels round.
//
// Only the PTX subset that runtime/sim accepts is emitted (its doc.go is the contract):
// .u64 parameters, ld.param/ld.global(.nc)/st.global/ld.shared/st.shared, integer and f32
// arithmetic, setp/selp, cvt, bra, bar.sync, shfl.sync.bfly, and the two mma.sync forms
// (m16n8k8 tf32, m16n8k16 bf16). No f64: statistics that the CPU sums in float64 are summed here
// as compensated float32 pairs (reduce.go).
//
// # Kernels
//
//	ConvForward         y = conv(pre(x), w) (+ res)                         FP32, TF32, BF16
//	ConvBackwardData    dz (+)= col2im(w^T dy)                              FP32, TF32, BF16
//	ConvBackwardWeight  dw = sum over images of dy * cols(pre(x))^T         FP32, TF32, BF16
//	BNTrain             batch mean, invstd, scale, shift, running stats     fp32, compensated
//	BNInfer             scale, shift from the running stats                 fp32
//	BNReLUBackward      dx (+)= BN-ReLU(-dropout) backward, dgamma, dbeta   fp32, compensated
//	BNBackward          dx (+)= BN backward (no ReLU), dgamma, dbeta        fp32, compensated
//	MaxPoolForward      y = maxpool(pre(x)), pre none or BN-ReLU            fp32, exact
//	MaxPoolBackward     dz = dy gathered to each window's first maximum     fp32, CPU's order
//	AddReLUForward      y = relu(bn(x) + res or bn(res))                    fp32, CPU's rounding
//	AddReLUBackward     dz = dy where y > 0                                 fp32, exact
//	HeadForward         pooled = avgpool(relu(bn(x))), logits = FC          fp32, compensated
//	HeadForwardRaw      pooled = avgpool(x), logits = FC                    fp32, compensated
//	HeadBackwardFC      dfcW, dfcB                                          fp32, compensated
//	HeadBackwardDz      dz = (dlogits * fcW) / HW broadcast                 fp32, compensated
//	SoftmaxCE           per-image loss and correct flag, dlogits            fp32
//	SGDStep             torch.optim.SGD over the flat parameters            fp32, bit-exact
//
// The convolutions are implicit GEMMs (gemm.go): a block computes a tile of output channels x
// pixels (weight gradient: output channels x C*R*R), staging k-major tiles of both operands in
// shared memory, the BN-ReLU and dropout of the input applied as it is loaded (Pre, with
// nn.Keep's splitmix64 mask in 64-bit integer arithmetic), the residual added or the gradient
// accumulated as the tile is stored.
//
// The imagenet family's kernels (pool.go, addrelu.go) are elementwise: one thread per output
// element of an image (grid x, 256 a block), the images along grid z. The max pool's backward
// pass gathers: each input element recomputes the windows that contain it and adds the dy of
// those it wins, in the order of the CPU's scatter, so it needs no atomics.
//
// # Calling convention
//
// Every parameter is a .u64 (gorgonia.org/cu copies each launch argument as 8 bytes): device
// pointers; n, the images of the call, where a kernel needs it; seeds as they are; floats as
// their float32 bits. Kernel.Params names them in order; Kernel.GridFor(n) and Kernel.Block
// give the launch shape (no dynamic shared memory). Indices are 32-bit: a call's tensors
// must hold under 2^32 elements (every builder refuses an image of 2^24 elements or more, so
// up to 256 images are always fine), and n*HW of a BN under 2^24. Module assembles entries under the header
// .version 7.8 (the ceiling of CUDA 11.8's ptxas, Debian bookworm's), .target sm_80 or sm_90,
// .address_size 64.
package ptx
