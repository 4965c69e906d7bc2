// Package sim is a PTX simulator: it runs the PTX kernels that wrnc's
// emitter (codegen/ptx) writes on the CPU, thread by thread, so that the GPU
// code path (kernels, launch geometry, argument marshalling, the device
// memory plan) is tested on machines without a GPU.
//
// It accepts exactly the subset of PTX listed below, which is the contract
// between this package and the emitter. Anything else (an instruction,
// directive, type, modifier or operand form not listed) is an error when the
// module is loaded, reported as "LINE: message"; nothing is silently ignored.
//
// # Use
//
//	m, err := sim.Load(ptxText)            // parse, check and decode every kernel
//	k, err := m.Kernel("conv3x3_bnrelu")
//	mem := sim.NewMemory()                 // global memory: one flat byte space
//	x, err := mem.Alloc(n * 4)             // 256-byte aligned device address, never 0
//	err = mem.WriteFloat32(x, data)
//	err = k.Launch(mem, sim.Dim3{X: 64, Y: 1, Z: 1}, sim.Dim3{X: 256, Y: 1, Z: 1}, 0, x, y, uint64(n))
//
// Every kernel parameter is a .u64: pass pointers as device addresses,
// integers as their value, a float32 as uint64(math.Float32bits(f)).
//
// # Module and kernels
//
// A module is, in this order: ".version 7.x" or "8.x" (the emitter writes
// 7.8), ".target sm_80" or ".target sm_90" (also sm_86, sm_87, sm_89,
// sm_90a; one target, no options), ".address_size 64" (required), then
// module-scope shared declarations and kernels. A kernel is
//
//	.visible .entry NAME(.param .u64 P0, .param .u64 P1, ...)
//	.maxntid X[, Y[, Z]]     // optional; a launch with more threads is refused
//	.reqntid X[, Y[, Z]]     // optional; a launch with another block shape is refused
//	{ BODY }
//
// (.entry without .visible is accepted too). Parameters have no .ptr,
// .align or other attributes. No .func, .global, .const, .local, .file,
// .loc, .pragma or .weak.
//
// The body holds declarations, labels and instructions, and may contain
// nested { } blocks, which scope the registers declared in them:
//
//	.reg .TYPE %name<N>;                  // %name0 .. %name(N-1)
//	.reg .TYPE %a, %b, %c<4>;             // several names
//	.shared .align A .b8 name[SIZE];      // static shared memory (also .u8 .b16 .u16 .b32 .u32 .s32 .f32 .b64 .u64 .s64 elements)
//	.extern .shared .align A .b8 name[];  // dynamic shared memory (also at module scope)
//	LABEL:
//	@%p INSTRUCTION;  @!%p INSTRUCTION;  INSTRUCTION;
//
// Register types: .pred .b16 .b32 .b64 .u16 .u32 .u64 .s32 .s64 .f32.
// bf16 and tf32 values exist only as bits in .b32 registers (see cvt and mma).
// Comments are // and /* */. Names follow PTX (labels such as $L__BB0_1
// are fine). Static shared variables are laid out in order of first use,
// each at its alignment; dynamic shared memory starts after them, aligned to
// max(16, the .extern alignment); all .extern names alias it. A block has
// at most 228 KiB of shared memory, static plus dynamic.
//
// # Operands
//
// Registers; immediates; special registers (only as the source of mov);
// the name of a shared variable (only as the source of mov.u32/.u64/.b32/
// .b64/.s32/.s64, giving its shared address); addresses [%reg],
// [%reg+IMM], [%reg+-IMM], [%reg-IMM], [sharedvar], [sharedvar+IMM], [IMM];
// vectors {%a, %b, ...} for .v2/.v4 and mma; and %d|%p for shfl.
//
// Integer immediates: decimal, 0x hex, 0b binary, octal with a leading 0, an
// optional U suffix and a leading minus; they must fit the instruction type
// (negative ones as two's complement). Float (.f32) immediates: 0fXXXXXXXX
// (exactly 8 hex digits), 0dXXXXXXXXXXXXXXXX (rounded to f32), or a decimal
// number with a point or exponent (1.0, 2e-3). A plain integer literal is not
// accepted as a .f32 operand. mov.b32 also takes 0fXXXXXXXX.
//
// Types follow PTX's relaxed rule: a register may be used where its type
// equals the instruction type, or has the same size and either is a bit type
// (.bN), or has the same size and both are integers (.uN/.sN). A 16-bit ld or
// st may use a 32-bit integer register (zero-extended on load, truncated on
// store). Global addresses must be 64-bit registers; shared addresses may be
// 32- or 64-bit registers.
//
// Special registers (all .u32): %tid.{x,y,z} %ntid.{x,y,z} %ctaid.{x,y,z}
// %nctaid.{x,y,z} %laneid %warpid. Lanes and warps are numbered by the
// linear thread index x + y*ntid.x + z*ntid.x*ntid.y; %warpid is that index / 32
// (on hardware %warpid names a physical warp slot and may differ: compute
// warp indices from %tid).
//
// # Instructions
//
// Modifiers must appear in the order shown; [x] is optional, {x,y} one of.
// INT is {.s32,.u32,.s64,.u64}.
//
//	mov{.pred,.b16,.u16,.b32,.u32,.s32,.f32,.b64,.u64,.s64}   d, a      register, immediate, special register, shared name
//	ld.param.u64          d, [PARAM]                                   also ld.param.b64
//	cvta.to.global.u64    d, a                                         identity: global addresses are generic addresses
//	ld.{global,shared}[.nc][.v2,.v4].T    d, [addr]                    .nc only with .global
//	st.{global,shared}[.v2,.v4].T         [addr], a                    a: a register or immediate, or a vector of registers
//	    T: .b16 .u16 .b32 .u32 .s32 .f32 .b64 .u64 .s64; vectors of 32- or 64-bit
//	    elements, at most 16 bytes; every access aligned to its full size
//	atom.{global,shared}.add.{f32,u32,s32,u64}   d, [addr], b          d receives the old value
//	red.{global,shared}.add.{f32,u32,s32,u64}    [addr], b
//	add, sub INT                d, a, b
//	mul{.lo,.hi} INT            d, a, b
//	mul.wide{.s32,.u32}         d, a, b         d is 64-bit
//	mad.lo INT                  d, a, b, c
//	mad.wide{.s32,.u32}         d, a, b, c      d and c are 64-bit
//	div, rem INT                d, a, b         x/0 gives all ones, x%0 gives x
//	min, max INT                d, a, b
//	neg, abs{.s32,.s64}         d, a
//	add, sub, mul[.rn][.ftz][.sat].f32     d, a, b
//	fma.rn[.ftz][.sat].f32                 d, a, b, c
//	div{.approx,.full,.rn}[.ftz].f32       d, a, b
//	neg, abs, min, max[.ftz].f32           d, a[, b]
//	sqrt{.approx,.rn}[.ftz].f32            d, a
//	rcp{.approx,.rn}[.ftz].f32             d, a
//	rsqrt.approx[.ftz].f32, ex2.approx[.ftz].f32, lg2.approx[.ftz].f32   d, a
//	setp.CMP[.ftz].T            p, a, b
//	    CMP: eq ne lt le gt ge for .s32 .s64 .f32 (.f32 ordered: false on NaN);
//	    eq ne lt le gt ge lo ls hi hs for .u32 .u64 (all unsigned); eq ne only
//	    for .b32 .b64; .ftz only with .f32. No .and/.or/.xor forms, no second
//	    predicate, no unordered (equ, neu, ...) comparisons.
//	selp{.b16,.u16,.b32,.u32,.s32,.f32,.b64,.u64,.s64}  d, a, b, p
//	and, or, xor{.pred,.b32,.b64}   d, a, b     bit types only, as ptxas requires
//	not{.pred,.b32,.b64}            d, a        (and.u32, shl.u32, add.b32 are errors)
//	shl{.b32,.b64}                  d, a, b     b is .u32; amounts >= width give 0
//	shr{.b32,.b64,.u32,.s32,.u64,.s64}  d, a, b     .s is arithmetic, .b and .u logical
//	cvt[.RND][.ftz][.sat].D.S       d, a        D, S in .f32 .s32 .u32 .s64 .u64 .u16
//	    f32 -> int: RND one of .rni .rzi .rmi .rpi (required); out-of-range values
//	      saturate, NaN gives 0
//	    int -> f32: RND one of .rn .rz .rm .rp (required)
//	    f32 -> f32: RND .rni .rzi .rmi .rpi or none (.ftz, .sat allowed)
//	    int -> int: no RND; widening zero- or sign-extends by the source type,
//	      narrowing truncates; .sat clamps to the destination range and is
//	      allowed only where a value can be out of range (as ptxas requires)
//	cvt.rna.tf32.f32            d, a        d .b32: keep 10 mantissa bits, round to
//	                                        nearest, ties away from zero; NaN -> quiet NaN
//	cvt.rn.bf16x2.f32           d, a, b     d .b32: bf16(a) in the upper half, bf16(b) in
//	                                        the lower half, round to nearest even; NaN -> 0x7fff
//	bra[.uni]                   LABEL
//	ret[.uni], exit
//	bar[.cta].sync N, barrier[.cta].sync[.aligned] N    N an immediate 0..15, no thread count
//	shfl.sync.{bfly,down,up,idx}.b32   d[|p], a, b, c, 0xffffffff   membermask must be 0xffffffff
//	mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32     {d0..d3}, {a0..a3}, {b0,b1}, {c0..c3}
//	mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32    {d0..d3}, {a0..a3}, {b0,b1}, {c0..c3}
//
// Any instruction may carry a guard @%p or @!%p, except bar, shfl and mma.
// Falling off the end of a kernel exits the thread. Registers are checked
// statically: reading a register that no instruction writes is a load error.
// Registers start at zero (on hardware their first value is undefined).
//
// Not supported (an error if used): 16-bit arithmetic; .f16/.f64 types;
// .u8/.s8/.s16 accesses; ld/st without a state space (generic addressing);
// cvta other than to.global; mad.f32 (use fma.rn.f32); unordered compares;
// atomics other than add; warp votes, match, redux, ldmatrix, cp.async,
// wgmma; local memory; calls; textures.
//
// # Semantics
//
// Integers wrap as on the hardware. Float32 arithmetic is IEEE single
// precision, round to nearest even: add, sub, mul, div (all three flavors,
// including .approx and .full, compute the correctly rounded quotient), fma
// (fused, correctly rounded: the float64 sum is rounded to odd before the
// final rounding, so there is no double rounding), sqrt and rcp. The .approx
// functions use the exact function rounded to float32 (rsqrt, ex2, lg2),
// which is within the hardware's error bounds. .ftz flushes subnormal inputs
// and results to a zero of the same sign; .sat clamps to [0, 1], NaN and -0
// giving +0.
// min/max return the non-NaN operand if one is NaN, and order -0 below +0.
// Float atomics add with round to nearest even and keep subnormals.
//
// mma follows the fragment layouts of the PTX ISA (sections "Matrix
// Fragments for mma.m16n8k8" and "mma.m16n8k16", groupID = %laneid>>2,
// threadID_in_group = %laneid%4): D = A*B + C, A 16xK row-major, B Kx8
// column-major. tf32 operands use only the top 19 bits of their .b32
// register (the low 13 bits are ignored, as on the hardware); bf16 operands
// are the halves of .b32 registers, the lower-indexed element in the low 16
// bits. Accumulation order: every product is exact in float64, and D[i][j] is
// C[i][j] + A[i][0]*B[0][j] + ... + A[i][K-1]*B[K-1][j], summed left to right
// in float64 and rounded once to float32, which is at least as accurate as
// the hardware.
//
// # Execution
//
// Load decodes each instruction once into a compact form (an opcode and
// register-file slots; immediates, parameters, special registers and shared
// addresses are preloaded slots), so execution does no string work. Blocks
// of a grid run in parallel on Config.Workers goroutines (default: all
// CPUs). Within a block, threads run one at a time, each until it exits or
// reaches a synchronization point: at bar.sync it waits for the whole
// block; at shfl.sync or mma.sync for its warp, whose lanes must all reach
// the same instruction (full warps only for mma), and then the collective
// runs. Threads run in order of their linear index, so results are
// deterministic except for the order of float atomics across blocks.
//
// # Errors
//
// A launch fails with an *ExecError naming the kernel, PTX line, block and
// thread for: an out-of-bounds or misaligned global or shared access (global
// memory is [Memory.Base, Memory.Base+Memory.Used), padding between
// allocations included); a barrier that some thread of the block never
// reaches (it exited, or waits at another barrier); a warp collective that
// some lane of the warp does not reach; a shfl that reads a lane a partial
// warp lacks. Unless Config.NoRaceCheck is set, shared memory is also
// checked: reading a word that no thread of the block wrote, and any
// read/write or write/write of the same word by two threads between two
// barriers, are errors (16-bit accesses are not checked; atomics are only
// checked for initialization). A launch is refused before it starts for a
// wrong parameter count, a block of more than 1024 threads (or over
// .maxntid, or unlike .reqntid), a bad grid, or more than 228 KiB of shared
// memory. A thread that executes more than Config.MaxThreadInstructions
// instructions (default 2^32) is stopped with an error, so an endless loop
// fails instead of hanging.
//
// Test kernels in testdata are checked with ptxas -arch=sm_80 (or the
// file's .target) when ptxas is found in $CUDA_HOME/bin, /usr/local/cuda/bin
// or $PATH, and so is every instruction form of the ALU tests.
package sim
