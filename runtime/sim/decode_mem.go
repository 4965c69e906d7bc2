package sim

import "strings"

var memTypes = []string{"b16", "u16", "b32", "u32", "s32", "f32", "b64", "u64", "s64"}

func (d *decoder) specialSlot(sp int) int32 {
	if d.k.special[sp] < 0 {
		d.k.special[sp] = d.newSlot(0)
	}
	return d.k.special[sp]
}

func (d *decoder) mov(s *stmt, mods []string) error {
	m, err := d.mods(s.op, mods, []string{"pred", "b16", "u16", "b32", "u32", "s32", "f32", "b64", "u64", "s64"})
	if err != nil {
		return err
	}
	t := typeNames[m[0]]
	if err := d.nops(s, 2); err != nil {
		return err
	}
	dst, err := d.dst(s.ops[0], t)
	if err != nil {
		return err
	}
	o := s.ops[1]
	var src int32
	sp, isSpecial := specialNames[o.name]
	switch {
	case o.kind == oReg && isSpecial:
		if !compatible(t, tyU32) {
			return d.errf("special register %s is .u32, found mov%s", o.name, strings.TrimPrefix(s.op, "mov"))
		}
		src = d.specialSlot(sp)
	case o.kind == oSym:
		if !(t.isInt() || t.isBits()) || t.size() < 4 {
			return d.errf("the address of %s needs a 32- or 64-bit integer mov", o.name)
		}
		var ok bool
		if src, ok = d.sharedVar(o.name); !ok {
			return d.errf("undeclared shared variable %s", o.name)
		}
	default:
		if src, err = d.src(o, t); err != nil {
			return err
		}
	}
	d.emit(inst{op: opMov, d: dst, a: src})
	return nil
}

// dataRegs resolves the data operand of ld (dst) or st (source): a register,
// or for .v2/.v4 a vector of n registers stored in the pool.
func (d *decoder) dataRegs(o operand, t ptype, n int, isDst bool) (int32, error) {
	one := func(o operand) (int32, error) {
		if isDst {
			r, err := d.reg(o)
			if err != nil {
				return 0, err
			}
			if !memCompatible(t, r.typ) {
				return 0, d.errf("register %s has type %v, the instruction needs %v", o.name, r.typ, t)
			}
			d.written[r.slot] = true
			return r.slot, nil
		}
		return d.srcReg(o, t, memCompatible)
	}
	if n == 1 {
		if !isDst && o.kind == oImm {
			return d.src(o, t)
		}
		return one(o)
	}
	if o.kind != oVec || len(o.elems) != n {
		return 0, d.errf("expected a vector of %d registers { }", n)
	}
	off := int32(len(d.k.pool))
	for _, e := range o.elems {
		r, err := one(e)
		if err != nil {
			return 0, err
		}
		d.k.pool = append(d.k.pool, r)
	}
	return off, nil
}

// memCompatible: 16-bit accesses may use 32-bit registers (zero-extended on load,
// truncated on store); otherwise the relaxed type rule applies.
func memCompatible(inst, reg ptype) bool {
	if inst.size() == 2 && reg.size() == 4 && (reg.isInt() || reg.isBits()) {
		return true
	}
	return compatible(inst, reg)
}

func vecCount(v string) int {
	switch v {
	case "v2":
		return 2
	case "v4":
		return 4
	}
	return 1
}

func (d *decoder) ld(s *stmt, mods []string) error {
	m, err := d.mods(s.op, mods, []string{"global", "shared", "param"}, []string{"?", "nc"}, []string{"?", "v2", "v4"}, memTypes)
	if err != nil {
		return err
	}
	space, nc, n, t := m[0], m[1], vecCount(m[2]), typeNames[m[3]]
	if err := d.nops(s, 2); err != nil {
		return err
	}
	if space == "param" {
		if nc != "" || n != 1 || (t != tyU64 && t != tyB64) {
			return d.errf("parameters are read with ld.param.u64 only")
		}
		o := s.ops[1]
		slot, ok := d.params[o.name]
		if o.kind != oAddr || !ok || o.off != 0 {
			return d.errf("ld.param needs [NAME] of a kernel parameter")
		}
		dst, err := d.dst(s.ops[0], t)
		if err != nil {
			return err
		}
		d.emit(inst{op: opMov, d: dst, a: slot})
		return nil
	}
	if nc != "" && space != "global" {
		return d.errf(".nc applies to ld.global only")
	}
	if n > 1 && t.size() < 4 {
		return d.errf("vector loads need 32- or 64-bit elements")
	}
	if n*t.size() > 16 {
		return d.errf("vector accesses are at most 16 bytes")
	}
	base, off, err := d.address(s.ops[1], space)
	if err != nil {
		return err
	}
	dst, err := d.dataRegs(s.ops[0], t, n, true)
	if err != nil {
		return err
	}
	op := memOp(space == "global", true, t.size(), n)
	d.emit(inst{op: op, d: dst, a: base, c: int32(n), imm: off})
	return nil
}

func (d *decoder) st(s *stmt, mods []string) error {
	m, err := d.mods(s.op, mods, []string{"global", "shared"}, []string{"?", "v2", "v4"}, memTypes)
	if err != nil {
		return err
	}
	space, n, t := m[0], vecCount(m[1]), typeNames[m[2]]
	if err := d.nops(s, 2); err != nil {
		return err
	}
	if n > 1 && t.size() < 4 {
		return d.errf("vector stores need 32- or 64-bit elements")
	}
	if n*t.size() > 16 {
		return d.errf("vector accesses are at most 16 bytes")
	}
	base, off, err := d.address(s.ops[0], space)
	if err != nil {
		return err
	}
	src, err := d.dataRegs(s.ops[1], t, n, false)
	if err != nil {
		return err
	}
	op := memOp(space == "global", false, t.size(), n)
	d.emit(inst{op: op, a: base, b: src, c: int32(n), imm: off})
	return nil
}

func memOp(global, load bool, size, n int) opcode {
	type key struct {
		global, load bool
		size         int
		vec          bool
	}
	return map[key]opcode{
		{true, true, 2, false}: opLdG16, {true, true, 4, false}: opLdG32, {true, true, 8, false}: opLdG64,
		{true, true, 4, true}: opLdGV32, {true, true, 8, true}: opLdGV64,
		{true, false, 2, false}: opStG16, {true, false, 4, false}: opStG32, {true, false, 8, false}: opStG64,
		{true, false, 4, true}: opStGV32, {true, false, 8, true}: opStGV64,
		{false, true, 2, false}: opLdS16, {false, true, 4, false}: opLdS32, {false, true, 8, false}: opLdS64,
		{false, true, 4, true}: opLdSV32, {false, true, 8, true}: opLdSV64,
		{false, false, 2, false}: opStS16, {false, false, 4, false}: opStS32, {false, false, 8, false}: opStS64,
		{false, false, 4, true}: opStSV32, {false, false, 8, true}: opStSV64,
	}[key{global, load, size, n > 1}]
}

func (d *decoder) atom(s *stmt, base string, mods []string) error {
	m, err := d.mods(s.op, mods, []string{"global", "shared"}, []string{"add"}, []string{"f32", "u32", "s32", "u64"})
	if err != nil {
		return err
	}
	global, t := m[0] == "global", typeNames[m[2]]
	op := map[ptype][2]opcode{
		tyF32: {opAtomSAddF, opAtomGAddF}, tyU32: {opAtomSAddU32, opAtomGAddU32},
		tyS32: {opAtomSAddU32, opAtomGAddU32}, tyU64: {opAtomSAddU64, opAtomGAddU64},
	}[t][map[bool]int{false: 0, true: 1}[global]]
	ops := s.ops
	in := inst{op: op, d: -1}
	if base == "atom" {
		if err := d.nops(s, 3); err != nil {
			return err
		}
		if in.d, err = d.dst(ops[0], t); err != nil {
			return err
		}
		ops = ops[1:]
	} else if err := d.nops(s, 2); err != nil {
		return err
	}
	if in.a, in.imm, err = d.address(ops[0], m[0]); err != nil {
		return err
	}
	if in.b, err = d.src(ops[1], t); err != nil {
		return err
	}
	d.emit(in)
	return nil
}

func (d *decoder) cvta(s *stmt, mods []string) error {
	if _, err := d.mods(s.op, mods, []string{"to"}, []string{"global"}, []string{"u64"}); err != nil {
		return err
	}
	if err := d.nops(s, 2); err != nil {
		return err
	}
	dst, err := d.dst(s.ops[0], tyU64)
	if err != nil {
		return err
	}
	src, err := d.srcReg(s.ops[1], tyU64, compatible)
	if err != nil {
		return err
	}
	d.emit(inst{op: opMov, d: dst, a: src})
	return nil
}

func (d *decoder) control(s *stmt, base string, mods []string) error {
	switch base {
	case "bra":
		if _, err := d.mods(s.op, mods, []string{"?", "uni"}); err != nil {
			return err
		}
		if err := d.nops(s, 1); err != nil {
			return err
		}
		if s.ops[0].kind != oSym {
			return d.errf("bra needs a label")
		}
		d.fixups = append(d.fixups, fixup{pc: len(d.k.code), label: s.ops[0].name, line: d.line})
		d.emit(inst{op: opBra})
		return nil
	case "ret", "exit":
		groups := [][]string{}
		if base == "ret" {
			groups = append(groups, []string{"?", "uni"})
		}
		if _, err := d.mods(s.op, mods, groups...); err != nil {
			return err
		}
		if err := d.nops(s, 0); err != nil {
			return err
		}
		d.emit(inst{op: opExit})
		return nil
	}
	groups := [][]string{{"?", "cta"}, {"sync"}}
	if base == "barrier" {
		groups = append(groups, []string{"?", "aligned"})
	}
	if _, err := d.mods(s.op, mods, groups...); err != nil {
		return err
	}
	if len(s.ops) != 1 || s.ops[0].kind != oImm {
		return d.errf("%s takes one immediate barrier number (a thread count is not supported)", s.op)
	}
	id, err := d.immediate(s.ops[0].imm, tyU32)
	if err != nil || id > 15 {
		return d.errf("barrier number must be 0..15")
	}
	d.emit(inst{op: opBar, imm: int64(id)})
	return nil
}

func (d *decoder) shfl(s *stmt, mods []string) error {
	m, err := d.mods(s.op, mods, []string{"sync"}, []string{"bfly", "down", "up", "idx"}, []string{"b32"})
	if err != nil {
		return err
	}
	if err := d.nops(s, 5); err != nil {
		return err
	}
	in := inst{op: opShfl}
	in.flags = map[string]uint8{"bfly": shflBfly, "down": shflDown, "up": shflUp, "idx": shflIdx}[m[1]]
	dst := s.ops[0]
	if dst.kind == oPair {
		p, err := d.dst(dst.elems[1], tyPred)
		if err != nil {
			return err
		}
		in.imm = int64(p) + 1
		dst = dst.elems[0]
	}
	if in.d, err = d.dst(dst, tyB32); err != nil {
		return err
	}
	if in.a, err = d.src(s.ops[1], tyB32); err != nil {
		return err
	}
	if in.b, err = d.src(s.ops[2], tyB32); err != nil {
		return err
	}
	if in.c, err = d.src(s.ops[3], tyB32); err != nil {
		return err
	}
	if mask := s.ops[4]; mask.kind != oImm {
		return d.errf("shfl.sync membermask must be the immediate 0xffffffff")
	} else if v, err := d.immediate(mask.imm, tyB32); err != nil || v != 0xffffffff {
		return d.errf("shfl.sync membermask must be 0xffffffff, found %s", mask.imm)
	}
	d.emit(in)
	return nil
}

func (d *decoder) mma(s *stmt, mods []string) error {
	var kind uint8
	switch strings.Join(mods, ".") {
	case "sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32":
		kind = mmaTF32
	case "sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32":
		kind = mmaBF16
	default:
		return d.errf("unsupported mma form %s (supported: mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 and mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32)", s.op)
	}
	if err := d.nops(s, 4); err != nil {
		return err
	}
	off := int32(len(d.k.pool))
	for i, want := range []int{4, 4, 2, 4} {
		o := s.ops[i]
		if o.kind != oVec || len(o.elems) != want {
			return d.errf("mma operand %d must be a vector of %d registers", i+1, want)
		}
		for _, e := range o.elems {
			var r int32
			var err error
			switch i {
			case 0:
				r, err = d.dst(e, tyF32)
			case 3:
				r, err = d.srcReg(e, tyF32, compatible)
			default:
				r, err = d.srcReg(e, tyB32, compatible)
			}
			if err != nil {
				return err
			}
			d.k.pool = append(d.k.pool, r)
		}
	}
	d.emit(inst{op: opMma, a: off, flags: kind})
	return nil
}
