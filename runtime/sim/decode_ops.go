package sim

import "strings"

var (
	intTypes   = []string{"s32", "u32", "s64", "u64"}
	floatGroup = []string{"f32"}
	optFtz     = []string{"?", "ftz"}
	optSat     = []string{"?", "sat"}
	optRn      = []string{"?", "rn"}
)

// inst decodes one instruction statement.
func (d *decoder) inst(s *stmt) error {
	parts := strings.Split(s.op, ".")
	base, mods := parts[0], parts[1:]
	for _, m := range mods {
		if m == "" {
			return d.errf("malformed instruction %s", s.op)
		}
	}
	var guard int32
	if s.guard != "" {
		p, err := d.pred(operand{kind: oReg, name: s.guard})
		if err != nil {
			return err
		}
		guard = p + 1
		if s.guardNeg {
			guard = -guard
		}
	}
	n := len(d.k.code)
	var err error
	switch base {
	case "mov":
		err = d.mov(s, mods)
	case "ld":
		err = d.ld(s, mods)
	case "st":
		err = d.st(s, mods)
	case "atom", "red":
		err = d.atom(s, base, mods)
	case "cvta":
		err = d.cvta(s, mods)
	case "cvt":
		err = d.cvt(s, mods)
	case "add", "sub":
		err = d.addSub(s, base, mods)
	case "mul":
		err = d.mul(s, mods)
	case "mad":
		err = d.mad(s, mods)
	case "fma":
		err = d.fma(s, mods)
	case "div", "rem":
		err = d.divRem(s, base, mods)
	case "neg", "abs":
		err = d.negAbs(s, base, mods)
	case "min", "max":
		err = d.minMax(s, base, mods)
	case "sqrt", "rsqrt", "rcp", "ex2", "lg2":
		err = d.unaryF(s, base, mods)
	case "setp":
		err = d.setp(s, mods)
	case "selp":
		err = d.selp(s, mods)
	case "and", "or", "xor", "not":
		err = d.logic(s, base, mods)
	case "shl", "shr":
		err = d.shift(s, base, mods)
	case "bra", "ret", "exit", "bar", "barrier":
		err = d.control(s, base, mods)
	case "shfl":
		err = d.shfl(s, mods)
	case "mma":
		err = d.mma(s, mods)
	default:
		return d.errf("unknown instruction %s", s.op)
	}
	if err != nil {
		return err
	}
	if guard != 0 {
		for i := n; i < len(d.k.code); i++ {
			switch d.k.code[i].op {
			case opBar, opShfl, opMma:
				return d.errf("%s cannot be predicated", s.op)
			}
			d.k.code[i].guard = guard
		}
	}
	return nil
}

func lastMod(mods []string) string {
	if len(mods) == 0 {
		return ""
	}
	return mods[len(mods)-1]
}

func floatFlags(m ...string) uint8 {
	var f uint8
	for _, v := range m {
		switch v {
		case "ftz":
			f |= flagFtz
		case "sat":
			f |= flagSat
		}
	}
	return f
}

// by32 picks the 32- or 64-bit opcode for an integer type.
func by32(t ptype, op32, op64 opcode) opcode {
	if t.size() == 8 {
		return op64
	}
	return op32
}

// signed picks the signed or unsigned opcode.
func signed(t ptype, s, u opcode) opcode {
	if t.isSigned() {
		return s
	}
	return u
}

// binary emits d = a OP b with d, a and b of type t.
func (d *decoder) binary(s *stmt, op opcode, t ptype, flags uint8) error {
	return d.nary(s, op, flags, t, t, t)
}

// nary emits an instruction whose first operand is the destination (type
// dt) and whose other operands are sources of the given types.
func (d *decoder) nary(s *stmt, op opcode, flags uint8, dt ptype, srcs ...ptype) error {
	if err := d.nops(s, 1+len(srcs)); err != nil {
		return err
	}
	in := inst{op: op, flags: flags}
	dst, err := d.dst(s.ops[0], dt)
	if err != nil {
		return err
	}
	in.d = dst
	slots := []*int32{&in.a, &in.b, &in.c}
	for i, t := range srcs {
		if *slots[i], err = d.src(s.ops[1+i], t); err != nil {
			return err
		}
	}
	d.emit(in)
	return nil
}

func (d *decoder) addSub(s *stmt, base string, mods []string) error {
	if lastMod(mods) == "f32" {
		m, err := d.mods(s.op, mods, optRn, optFtz, optSat, floatGroup)
		if err != nil {
			return err
		}
		return d.binary(s, map[string]opcode{"add": opAddF, "sub": opSubF}[base], tyF32, floatFlags(m...))
	}
	m, err := d.mods(s.op, mods, intTypes)
	if err != nil {
		return err
	}
	t := typeNames[m[0]]
	if base == "add" {
		return d.binary(s, by32(t, opAdd32, opAdd64), t, 0)
	}
	return d.binary(s, by32(t, opSub32, opSub64), t, 0)
}

func (d *decoder) mul(s *stmt, mods []string) error {
	if lastMod(mods) == "f32" {
		m, err := d.mods(s.op, mods, optRn, optFtz, optSat, floatGroup)
		if err != nil {
			return err
		}
		return d.binary(s, opMulF, tyF32, floatFlags(m...))
	}
	m, err := d.mods(s.op, mods, []string{"lo", "hi", "wide"}, intTypes)
	if err != nil {
		return err
	}
	t := typeNames[m[1]]
	switch m[0] {
	case "lo":
		return d.binary(s, by32(t, opMulLo32, opMulLo64), t, 0)
	case "hi":
		return d.binary(s, by32(t, signed(t, opMulHiS32, opMulHiU32), signed(t, opMulHiS64, opMulHiU64)), t, 0)
	}
	if t.size() != 4 {
		return d.errf("mul.wide needs a 32-bit type, found .%s", m[1])
	}
	return d.nary(s, signed(t, opMulWideS32, opMulWideU32), 0, wide(t), t, t)
}

// wide is the 64-bit type of the same signedness.
func wide(t ptype) ptype {
	if t.isSigned() {
		return tyS64
	}
	return tyU64
}

func (d *decoder) mad(s *stmt, mods []string) error {
	if lastMod(mods) == "f32" {
		return d.errf("%s is not supported: use fma.rn.f32", s.op)
	}
	m, err := d.mods(s.op, mods, []string{"lo", "wide"}, intTypes)
	if err != nil {
		return err
	}
	t := typeNames[m[1]]
	if m[0] == "lo" {
		return d.nary(s, by32(t, opMadLo32, opMadLo64), 0, t, t, t, t)
	}
	if t.size() != 4 {
		return d.errf("mad.wide needs a 32-bit type, found .%s", m[1])
	}
	return d.nary(s, signed(t, opMadWideS32, opMadWideU32), 0, wide(t), t, t, wide(t))
}

func (d *decoder) fma(s *stmt, mods []string) error {
	m, err := d.mods(s.op, mods, []string{"rn"}, optFtz, optSat, floatGroup)
	if err != nil {
		return err
	}
	return d.nary(s, opFmaF, floatFlags(m...), tyF32, tyF32, tyF32, tyF32)
}

func (d *decoder) divRem(s *stmt, base string, mods []string) error {
	if base == "div" && lastMod(mods) == "f32" {
		m, err := d.mods(s.op, mods, []string{"approx", "full", "rn"}, optFtz, floatGroup)
		if err != nil {
			return err
		}
		return d.binary(s, opDivF, tyF32, floatFlags(m...))
	}
	m, err := d.mods(s.op, mods, intTypes)
	if err != nil {
		return err
	}
	t := typeNames[m[0]]
	if base == "div" {
		return d.binary(s, by32(t, signed(t, opDivS32, opDivU32), signed(t, opDivS64, opDivU64)), t, 0)
	}
	return d.binary(s, by32(t, signed(t, opRemS32, opRemU32), signed(t, opRemS64, opRemU64)), t, 0)
}

func (d *decoder) negAbs(s *stmt, base string, mods []string) error {
	if lastMod(mods) == "f32" {
		m, err := d.mods(s.op, mods, optFtz, floatGroup)
		if err != nil {
			return err
		}
		op := opNegF
		if base == "abs" {
			op = opAbsF
		}
		return d.nary(s, op, floatFlags(m...), tyF32, tyF32)
	}
	m, err := d.mods(s.op, mods, []string{"s32", "s64"})
	if err != nil {
		return err
	}
	t := typeNames[m[0]]
	if base == "neg" {
		return d.nary(s, by32(t, opNeg32, opNeg64), 0, t, t)
	}
	return d.nary(s, by32(t, opAbsS32, opAbsS64), 0, t, t)
}

func (d *decoder) minMax(s *stmt, base string, mods []string) error {
	if lastMod(mods) == "f32" {
		m, err := d.mods(s.op, mods, optFtz, floatGroup)
		if err != nil {
			return err
		}
		op := opMinF
		if base == "max" {
			op = opMaxF
		}
		return d.binary(s, op, tyF32, floatFlags(m...))
	}
	m, err := d.mods(s.op, mods, intTypes)
	if err != nil {
		return err
	}
	t := typeNames[m[0]]
	if base == "min" {
		return d.binary(s, by32(t, signed(t, opMinS32, opMinU32), signed(t, opMinS64, opMinU64)), t, 0)
	}
	return d.binary(s, by32(t, signed(t, opMaxS32, opMaxU32), signed(t, opMaxS64, opMaxU64)), t, 0)
}

func (d *decoder) unaryF(s *stmt, base string, mods []string) error {
	rounding := map[string][]string{
		"sqrt": {"approx", "rn"}, "rsqrt": {"approx"}, "rcp": {"approx", "rn"},
		"ex2": {"approx"}, "lg2": {"approx"},
	}[base]
	m, err := d.mods(s.op, mods, rounding, optFtz, floatGroup)
	if err != nil {
		return err
	}
	op := map[string]opcode{"sqrt": opSqrtF, "rsqrt": opRsqrtF, "rcp": opRcpF, "ex2": opEx2F, "lg2": opLg2F}[base]
	return d.nary(s, op, floatFlags(m...), tyF32, tyF32)
}

func (d *decoder) setp(s *stmt, mods []string) error {
	m, err := d.mods(s.op, mods,
		[]string{"eq", "ne", "lt", "le", "gt", "ge", "lo", "ls", "hi", "hs"}, optFtz,
		[]string{"b32", "b64", "u32", "s32", "u64", "s64", "f32"})
	if err != nil {
		return err
	}
	cmp, t := m[0], typeNames[m[2]]
	if m[1] != "" && t != tyF32 {
		return d.errf("%s: .ftz needs .f32", s.op)
	}
	switch {
	case t.isBits() && cmp != "eq" && cmp != "ne":
		return d.errf("%s: bit types compare only with eq or ne", s.op)
	case !t.isUnsigned() && !t.isBits() && (cmp == "lo" || cmp == "ls" || cmp == "hi" || cmp == "hs"):
		return d.errf("%s: .%s compares unsigned integers only", s.op, cmp)
	}
	var op opcode
	swap := cmp == "gt" || cmp == "ge" || cmp == "hi" || cmp == "hs"
	strict := cmp == "lt" || cmp == "gt" || cmp == "lo" || cmp == "hi"
	switch {
	case t == tyF32:
		op = map[string]opcode{"eq": opSetEqF, "ne": opSetNeF}[cmp]
		if op == 0 {
			op = map[bool]opcode{true: opSetLtF, false: opSetLeF}[strict]
		}
	case cmp == "eq":
		op = by32(t, opSetEq32, opSetEq64)
	case cmp == "ne":
		op = by32(t, opSetNe32, opSetNe64)
	case t.isSigned():
		op = map[bool]opcode{true: by32(t, opSetLtS32, opSetLtS64), false: by32(t, opSetLeS32, opSetLeS64)}[strict]
	default:
		op = map[bool]opcode{true: by32(t, opSetLtU32, opSetLtU64), false: by32(t, opSetLeU32, opSetLeU64)}[strict]
	}
	if err := d.nary(s, op, floatFlags(m[1]), tyPred, t, t); err != nil {
		return err
	}
	if swap {
		in := &d.k.code[len(d.k.code)-1]
		in.a, in.b = in.b, in.a
	}
	return nil
}

func (d *decoder) selp(s *stmt, mods []string) error {
	m, err := d.mods(s.op, mods, []string{"b16", "u16", "b32", "u32", "s32", "f32", "b64", "u64", "s64"})
	if err != nil {
		return err
	}
	t := typeNames[m[0]]
	return d.nary(s, opSelp, 0, t, t, t, tyPred)
}

func (d *decoder) logic(s *stmt, base string, mods []string) error {
	m, err := d.mods(s.op, mods, []string{"pred", "b32", "b64"})
	if err != nil {
		return err
	}
	t := typeNames[m[0]]
	switch base {
	case "and":
		return d.binary(s, opAnd, t, 0)
	case "or":
		return d.binary(s, opOr, t, 0)
	case "xor":
		return d.binary(s, opXor, t, 0)
	}
	op := by32(t, opNot32, opNot64)
	if t == tyPred {
		op = opNotPred
	}
	return d.nary(s, op, 0, t, t)
}

func (d *decoder) shift(s *stmt, base string, mods []string) error {
	if base == "shl" {
		m, err := d.mods(s.op, mods, []string{"b32", "b64"})
		if err != nil {
			return err
		}
		t := typeNames[m[0]]
		return d.nary(s, by32(t, opShl32, opShl64), 0, t, t, tyU32)
	}
	m, err := d.mods(s.op, mods, []string{"b32", "b64", "u32", "s32", "u64", "s64"})
	if err != nil {
		return err
	}
	t := typeNames[m[0]]
	return d.nary(s, by32(t, signed(t, opShrS32, opShrU32), signed(t, opShrS64, opShrU64)), 0, t, t, tyU32)
}
