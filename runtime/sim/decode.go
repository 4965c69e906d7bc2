package sim

import (
	"fmt"
	"strings"
)

type regInfo struct {
	slot int32
	typ  ptype
}

// decoder turns one entry's statements into a Kernel.
type decoder struct {
	mod     *module
	k       *Kernel
	scopes  []map[string]regInfo
	consts  map[uint64]int32
	shared  map[string]*sharedDecl // kernel-scope shared variables
	offsets map[*sharedDecl]int32  // const slot holding each laid-out variable's address
	dynSlot int32                  // slot of the dynamic shared base, -1 until used
	labels  map[string]int32
	fixups  []fixup
	written []bool    // per slot: some instruction writes it
	reads   []regRead // first read of each register slot, in program order
	readSet map[int32]bool
	params  map[string]int32
	line    int
}

type fixup struct {
	pc    int
	label string
	line  int
}

type regRead struct {
	slot int32
	name string
	line int
}

func decodeEntry(mod *module, e *entry) (*Kernel, error) {
	k := &Kernel{name: e.name, dynAlign: 16}
	for i := range k.special {
		k.special[i] = -1
	}
	d := &decoder{
		mod: mod, k: k, consts: map[uint64]int32{}, shared: map[string]*sharedDecl{},
		offsets: map[*sharedDecl]int32{}, dynSlot: -1, labels: map[string]int32{},
		readSet: map[int32]bool{}, params: map[string]int32{},
		scopes: []map[string]regInfo{{}},
	}
	for _, p := range e.params {
		if _, dup := d.params[p.name]; dup {
			return nil, errorf(p.line, "duplicate parameter %s", p.name)
		}
		s := d.newSlot(0)
		d.params[p.name] = s
		k.params = append(k.params, p.name)
		k.paramSlots = append(k.paramSlots, s)
	}
	copy(k.maxntid[:], e.maxntid)
	copy(k.reqntid[:], e.reqntid)
	if err := checkNtid(e); err != nil {
		return nil, err
	}
	for i := range e.body {
		s := &e.body[i]
		d.line = s.line
		var err error
		switch s.kind {
		case sOpen:
			d.scopes = append(d.scopes, map[string]regInfo{})
		case sClose:
			d.scopes = d.scopes[:len(d.scopes)-1]
		case sLabel:
			if _, dup := d.labels[s.name]; dup {
				return nil, errorf(s.line, "duplicate label %s", s.name)
			}
			d.labels[s.name] = int32(len(k.code))
		case sReg:
			err = d.declare(s)
		case sShared:
			if _, dup := d.shared[s.shared.name]; dup {
				return nil, errorf(s.line, "duplicate shared variable %s", s.shared.name)
			}
			d.shared[s.shared.name] = s.shared
		case sInst:
			err = d.inst(s)
		}
		if err != nil {
			return nil, err
		}
	}
	d.line = e.endLine
	d.emit(inst{op: opExit})
	for _, f := range d.fixups {
		pc, ok := d.labels[f.label]
		if !ok {
			return nil, errorf(f.line, "undefined label %s", f.label)
		}
		k.code[f.pc].imm = int64(pc)
	}
	for _, r := range d.reads {
		if !d.written[r.slot] {
			return nil, errorf(r.line, "register %s is read but never written", r.name)
		}
	}
	if d.dynSlot >= 0 {
		k.template[d.dynSlot] = uint64(alignUp(k.static, k.dynAlign))
	}
	if k.static > maxShared {
		return nil, errorf(e.line, "kernel %s uses %d bytes of static shared memory, more than %d", e.name, k.static, maxShared)
	}
	return k, nil
}

func checkNtid(e *entry) error {
	for _, dims := range [][]int{e.maxntid, e.reqntid} {
		n := 1
		for _, v := range dims {
			if v <= 0 {
				return errorf(e.line, ".maxntid/.reqntid dimensions must be positive")
			}
			n *= v
		}
		if n > 1024 {
			return errorf(e.line, ".maxntid/.reqntid allow at most 1024 threads, have %d", n)
		}
	}
	return nil
}

func alignUp(n, a int) int { return (n + a - 1) &^ (a - 1) }

// newSlot adds a register-file slot with an initial value.
func (d *decoder) newSlot(v uint64) int32 {
	d.k.template = append(d.k.template, v)
	d.written = append(d.written, true)
	d.k.nslots++
	return int32(d.k.nslots - 1)
}

func (d *decoder) constSlot(v uint64) int32 {
	if s, ok := d.consts[v]; ok {
		return s
	}
	s := d.newSlot(v)
	d.consts[v] = s
	return s
}

func (d *decoder) emit(in inst) {
	d.k.code = append(d.k.code, in)
	d.k.lines = append(d.k.lines, int32(d.line))
}

func (d *decoder) declare(s *stmt) error {
	t, ok := regTypes[s.regType]
	if !ok {
		return errorf(s.line, "unsupported register type %s", s.regType)
	}
	scope := d.scopes[len(d.scopes)-1]
	add := func(name string) error {
		if _, dup := scope[name]; dup {
			return errorf(s.line, "duplicate register %s", name)
		}
		if _, sp := specialNames[name]; sp {
			return errorf(s.line, "%s is a special register", name)
		}
		slot := d.newSlot(0)
		d.written[slot] = false
		scope[name] = regInfo{slot: slot, typ: t}
		return nil
	}
	for _, it := range s.regs {
		if it.count == 0 {
			if err := add(it.name); err != nil {
				return err
			}
			continue
		}
		for i := 0; i < it.count; i++ {
			if err := add(fmt.Sprintf("%s%d", it.name, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// lookup finds a declared register by name in the innermost scope.
func (d *decoder) lookup(name string) (regInfo, bool) {
	for i := len(d.scopes) - 1; i >= 0; i-- {
		if r, ok := d.scopes[i][name]; ok {
			return r, true
		}
	}
	return regInfo{}, false
}

func (d *decoder) reg(o operand) (regInfo, error) {
	if o.kind != oReg {
		return regInfo{}, d.errf("expected a register, found %s", describe(o))
	}
	r, ok := d.lookup(o.name)
	if !ok {
		if _, sp := specialNames[o.name]; sp {
			return regInfo{}, d.errf("special register %s can only be read with mov", o.name)
		}
		return regInfo{}, d.errf("undeclared register %s", o.name)
	}
	return r, nil
}

// dst resolves a destination register of instruction type t.
func (d *decoder) dst(o operand, t ptype) (int32, error) {
	r, err := d.reg(o)
	if err != nil {
		return 0, err
	}
	if !compatible(t, r.typ) {
		return 0, d.errf("register %s has type %v, the instruction needs %v", o.name, r.typ, t)
	}
	d.written[r.slot] = true
	return r.slot, nil
}

// srcReg resolves a source register of instruction type t.
func (d *decoder) srcReg(o operand, t ptype, compat func(ptype, ptype) bool) (int32, error) {
	r, err := d.reg(o)
	if err != nil {
		return 0, err
	}
	if !compat(t, r.typ) {
		return 0, d.errf("register %s has type %v, the instruction needs %v", o.name, r.typ, t)
	}
	if !d.readSet[r.slot] {
		d.readSet[r.slot] = true
		d.reads = append(d.reads, regRead{slot: r.slot, name: o.name, line: d.line})
	}
	return r.slot, nil
}

// src resolves a source operand of type t: a register or an immediate.
func (d *decoder) src(o operand, t ptype) (int32, error) {
	if o.kind == oImm {
		v, err := d.immediate(o.imm, t)
		if err != nil {
			return 0, err
		}
		return d.constSlot(v), nil
	}
	return d.srcReg(o, t, compatible)
}

// pred resolves a predicate source register.
func (d *decoder) pred(o operand) (int32, error) {
	return d.srcReg(o, tyPred, compatible)
}

// sharedVar finds a shared variable by name and returns the slot holding its
// address, laying it out on first use.
func (d *decoder) sharedVar(name string) (int32, bool) {
	v, ok := d.shared[name]
	if !ok {
		for _, m := range d.mod.shared {
			if m.name == name {
				v, ok = m, true
				break
			}
		}
	}
	if !ok {
		return 0, false
	}
	if v.extern {
		if v.align > d.k.dynAlign {
			d.k.dynAlign = v.align
		}
		if d.dynSlot < 0 {
			d.dynSlot = d.newSlot(0)
		}
		return d.dynSlot, true
	}
	if s, done := d.offsets[v]; done {
		return s, true
	}
	off := alignUp(d.k.static, v.align)
	d.k.static = off + v.size
	s := d.constSlot(uint64(off))
	d.offsets[v] = s
	return s, true
}

// address resolves [base+off] for a state space: the slot holding the base
// and the offset.
func (d *decoder) address(o operand, space string) (int32, int64, error) {
	if o.kind != oAddr {
		return 0, 0, d.errf("expected an address [ ], found %s", describe(o))
	}
	if o.name == "" {
		return d.constSlot(0), o.off, nil
	}
	if !strings.HasPrefix(o.name, "%") {
		if space != "shared" {
			return 0, 0, d.errf("symbol %s cannot be addressed in the %s space", o.name, space)
		}
		s, ok := d.sharedVar(o.name)
		if !ok {
			return 0, 0, d.errf("undeclared shared variable %s", o.name)
		}
		return s, o.off, nil
	}
	r, err := d.reg(operand{kind: oReg, name: o.name})
	if err != nil {
		return 0, 0, err
	}
	ok := r.typ == tyU64 || r.typ == tyB64 || r.typ == tyS64
	if space == "shared" {
		ok = ok || r.typ == tyU32 || r.typ == tyB32 || r.typ == tyS32
	}
	if !ok {
		return 0, 0, d.errf("address register %s has type %v; %s addresses need a 64-bit integer register", o.name, r.typ, space)
	}
	s, err := d.srcReg(operand{kind: oReg, name: o.name}, r.typ, compatible)
	return s, o.off, err
}

func (d *decoder) errf(format string, args ...any) error {
	return errorf(d.line, format, args...)
}

func describe(o operand) string {
	switch o.kind {
	case oReg:
		return "register " + o.name
	case oImm:
		return "immediate " + o.imm
	case oSym:
		return "name " + o.name
	case oAddr:
		return "an address"
	case oVec:
		return "a vector { }"
	case oPair:
		return "a pair a|b"
	}
	return "an operand"
}

// mods matches the modifiers of a mnemonic against groups in order. Each
// group lists its allowed values; a group starting with "?" is optional.
// It returns the value chosen in each group ("" for an absent optional one).
func (d *decoder) mods(op string, mods []string, groups ...[]string) ([]string, error) {
	out := make([]string, len(groups))
	i := 0
	for g, group := range groups {
		opt := len(group) > 0 && group[0] == "?"
		if opt {
			group = group[1:]
		}
		if i < len(mods) && contains(group, mods[i]) {
			out[g] = mods[i]
			i++
			continue
		}
		if !opt {
			found := "nothing"
			if i < len(mods) {
				found = "." + mods[i]
			}
			return nil, d.errf("%s: expected one of .%s, found %s", op, strings.Join(group, " ."), found)
		}
	}
	if i < len(mods) {
		return nil, d.errf("%s: unsupported modifier .%s", op, mods[i])
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func (d *decoder) nops(s *stmt, n int) error {
	if len(s.ops) != n {
		return d.errf("%s takes %d operands, found %d", s.op, n, len(s.ops))
	}
	return nil
}
