package sim

// ptype is a PTX type of a register or an instruction.
type ptype uint8

const (
	tyNone ptype = iota
	tyPred
	tyB16
	tyB32
	tyB64
	tyU16
	tyU32
	tyU64
	tyS32
	tyS64
	tyF32
	tyTF32   // only in cvt.rna.tf32.f32 and mma
	tyBF16   // only in mma
	tyBF16x2 // only in cvt.rn.bf16x2.f32
)

var typeNames = map[string]ptype{
	"pred": tyPred, "b16": tyB16, "b32": tyB32, "b64": tyB64, "u16": tyU16, "u32": tyU32,
	"u64": tyU64, "s32": tyS32, "s64": tyS64, "f32": tyF32, "tf32": tyTF32, "bf16": tyBF16, "bf16x2": tyBF16x2,
}

func (t ptype) String() string {
	for n, v := range typeNames {
		if v == t {
			return "." + n
		}
	}
	return "(none)"
}

// regTypes are the types a .reg declaration may have.
var regTypes = map[string]ptype{
	".pred": tyPred, ".b16": tyB16, ".b32": tyB32, ".b64": tyB64, ".u16": tyU16, ".u32": tyU32,
	".u64": tyU64, ".s32": tyS32, ".s64": tyS64, ".f32": tyF32,
}

// size is the width of a type in bytes (0 for .pred).
func (t ptype) size() int {
	switch t {
	case tyB16, tyU16, tyBF16:
		return 2
	case tyB32, tyU32, tyS32, tyF32, tyTF32, tyBF16x2:
		return 4
	case tyB64, tyU64, tyS64:
		return 8
	}
	return 0
}

func (t ptype) isBits() bool   { return t == tyB16 || t == tyB32 || t == tyB64 }
func (t ptype) isSigned() bool { return t == tyS32 || t == tyS64 }
func (t ptype) isUnsigned() bool {
	return t == tyU16 || t == tyU32 || t == tyU64
}
func (t ptype) isInt() bool   { return t.isSigned() || t.isUnsigned() }
func (t ptype) isFloat() bool { return t == tyF32 }

// compatible reports whether a register of type reg may be an operand of an
// instruction of type inst, following PTX's relaxed type-checking: the same
// type; or the same size when either is a bit type (.bN); or the same size
// when both are integers (signed and unsigned mix).
func compatible(inst, reg ptype) bool {
	if inst == reg {
		return true
	}
	if inst == tyPred || reg == tyPred || inst.size() != reg.size() {
		return false
	}
	if inst.isBits() || reg.isBits() {
		return true
	}
	return inst.isInt() && reg.isInt()
}

// compatibleMem is compatible for the data register of ld and st: in
// addition, an integer or bit register may be wider than the access type.
func compatibleMem(inst, reg ptype) bool {
	if compatible(inst, reg) {
		return true
	}
	intish := func(t ptype) bool { return t.isInt() || t.isBits() }
	return intish(inst) && intish(reg) && reg.size() > inst.size()
}
