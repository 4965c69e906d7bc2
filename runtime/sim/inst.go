package sim

// opcode is a decoded operation. Each PTX instruction form maps to one
// opcode, so that execution is a single switch with no string work.
type opcode uint8

const (
	opInvalid opcode = iota

	opMov  // d = a
	opSelp // d = c != 0 ? a : b

	// Integer arithmetic. 32-bit results are stored zero-extended.
	opAdd32
	opSub32
	opMulLo32
	opMulHiS32
	opMulHiU32
	opMulWideS32
	opMulWideU32
	opMadLo32
	opMadWideS32
	opMadWideU32
	opDivS32
	opDivU32
	opRemS32
	opRemU32
	opMinS32
	opMinU32
	opMaxS32
	opMaxU32
	opAbsS32
	opNeg32
	opAdd64
	opSub64
	opMulLo64
	opMulHiS64
	opMulHiU64
	opMadLo64
	opDivS64
	opDivU64
	opRemS64
	opRemU64
	opMinS64
	opMinU64
	opMaxS64
	opMaxU64
	opAbsS64
	opNeg64

	// Logic and shifts (and/or/xor work for every width: operands are canonical).
	opAnd
	opOr
	opXor
	opNot32
	opNot64
	opNotPred
	opShl32
	opShl64
	opShrU32
	opShrS32
	opShrU64
	opShrS64

	// Comparisons into a predicate (gt/ge are lt/le with swapped operands).
	opSetEq32
	opSetNe32
	opSetLtS32
	opSetLeS32
	opSetLtU32
	opSetLeU32
	opSetEq64
	opSetNe64
	opSetLtS64
	opSetLeS64
	opSetLtU64
	opSetLeU64
	opSetEqF
	opSetNeF
	opSetLtF
	opSetLeF

	// Float32 arithmetic; flags may carry flagFtz and flagSat.
	opAddF
	opSubF
	opMulF
	opFmaF
	opDivF
	opNegF
	opAbsF
	opMinF
	opMaxF
	opSqrtF
	opRsqrtF
	opRcpF
	opEx2F
	opLg2F

	// Conversions.
	opCvtZext32 // u64 <- u32 (and u32 <- u16): zero extension
	opCvtSext32 // s64 <- s32
	opCvtTrunc32
	opCvtTrunc16
	opCvtF32S32 // cvt.rn.f32.s32
	opCvtF32U32 // cvt.rn.f32.u32
	opCvt       // every other cvt; imm packs the types and modes (cvtSpec)
	opCvtTF32   // cvt.rna.tf32.f32
	opCvtBF16x2 // cvt.rn.bf16x2.f32 d, a, b

	// Memory. Address = regs[a] + imm. Scalar loads write d, stores read b.
	// Vector forms use the pool: d (loads) or b (stores) is the pool offset, c the count.
	opLdG16
	opLdG32
	opLdG64
	opLdGV32
	opLdGV64
	opStG16
	opStG32
	opStG64
	opStGV32
	opStGV64
	opLdS16
	opLdS32
	opLdS64
	opLdSV32
	opLdSV64
	opStS16
	opStS32
	opStS64
	opStSV32
	opStSV64
	opAtomGAddF // d = old (d < 0: red), [a+imm] += b
	opAtomGAddU32
	opAtomGAddU64
	opAtomSAddF
	opAtomSAddU32
	opAtomSAddU64

	// Control and collectives.
	opBra  // pc = imm
	opExit // ret, exit
	opBar  // bar.sync imm
	opShfl // flags: mode; imm: predicate destination slot+1 (0: none)
	opMma  // a: pool offset of d[4], a[4], b[2], c[4]; flags: mmaTF32 or mmaBF16
)

// Instruction flags.
const (
	flagFtz = 1 << 0
	flagSat = 1 << 1
)

// Shuffle modes (in flags of opShfl).
const (
	shflBfly = iota
	shflDown
	shflUp
	shflIdx
)

// Matrix instruction kinds (in flags of opMma).
const (
	mmaTF32 = iota // m16n8k8.row.col.f32.tf32.tf32.f32
	mmaBF16        // m16n8k16.row.col.f32.bf16.bf16.f32
)

// inst is one decoded instruction. Operands are register-file slots:
// immediates, special registers, parameters and symbol addresses are
// preloaded into slots of their own, so every operand is a slot.
type inst struct {
	op    opcode
	flags uint8
	// guard: 0 none; s+1: execute when slot s is true; -(s+1): when false.
	guard int32
	d     int32
	a     int32
	b     int32
	c     int32
	imm   int64
}
