package sim

import (
	"strconv"
	"strings"
)

// stmt parses one statement of an entry body.
func (p *parser) stmt() (stmt, error) {
	t := p.next()
	s := stmt{line: t.line}
	if t.kind == tPunct && t.text == "@" {
		s.guardNeg = p.accept("!")
		g, err := p.word()
		if err != nil {
			return s, err
		}
		s.guard = g.text
		t = p.next()
	}
	if t.kind != tWord {
		return s, errorf(t.line, "expected an instruction, found %v", t)
	}
	if s.guard == "" && p.isPunct(":") {
		p.next()
		s.kind, s.name = sLabel, t.text
		return s, nil
	}
	switch t.text {
	case ".reg":
		if s.guard != "" {
			return s, errorf(t.line, "a directive cannot be guarded")
		}
		return p.regDecl(s)
	case ".shared", ".extern":
		if s.guard != "" {
			return s, errorf(t.line, "a directive cannot be guarded")
		}
		d, err := p.shared(t)
		s.kind, s.shared = sShared, d
		return s, err
	}
	if strings.HasPrefix(t.text, ".") {
		return s, errorf(t.line, "unsupported directive %s", t.text)
	}
	if strings.HasPrefix(t.text, "%") {
		return s, errorf(t.line, "expected an instruction, found %s", t.text)
	}
	s.kind, s.op = sInst, t.text
	if p.accept(";") {
		return s, nil
	}
	for {
		o, err := p.operand()
		if err != nil {
			return s, err
		}
		if p.accept("|") {
			o2, err := p.operand()
			if err != nil {
				return s, err
			}
			o = operand{kind: oPair, elems: []operand{o, o2}}
		}
		s.ops = append(s.ops, o)
		if p.accept(";") {
			return s, nil
		}
		if err := p.expect(","); err != nil {
			return s, err
		}
	}
}

func (p *parser) regDecl(s stmt) (stmt, error) {
	s.kind = sReg
	ty, err := p.word()
	if err != nil {
		return s, err
	}
	s.regType = ty.text
	for {
		n, err := p.word()
		if err != nil {
			return s, err
		}
		if !strings.HasPrefix(n.text, "%") {
			return s, errorf(n.line, "register names start with %%: %s", n.text)
		}
		it := regItem{name: n.text}
		if p.accept("<") {
			if it.count, err = p.int(); err != nil {
				return s, err
			}
			if it.count <= 0 || it.count > 1<<16 {
				return s, errorf(n.line, "bad register count %d", it.count)
			}
			if err := p.expect(">"); err != nil {
				return s, err
			}
		}
		s.regs = append(s.regs, it)
		if p.accept(";") {
			return s, nil
		}
		if err := p.expect(","); err != nil {
			return s, err
		}
	}
}

// operand parses a register, immediate, symbol, address or vector.
func (p *parser) operand() (operand, error) {
	t := p.next()
	switch {
	case t.kind == tWord && strings.HasPrefix(t.text, "%"):
		return operand{kind: oReg, name: t.text}, nil
	case t.kind == tWord && !strings.HasPrefix(t.text, "."):
		return operand{kind: oSym, name: t.text}, nil
	case t.kind == tNum:
		return operand{kind: oImm, imm: t.text}, nil
	case t.kind == tPunct && t.text == "-":
		n := p.next()
		if n.kind != tNum {
			return operand{}, errorf(n.line, "expected a number after -, found %v", n)
		}
		return operand{kind: oImm, imm: "-" + n.text}, nil
	case t.kind == tPunct && t.text == "[":
		return p.address(t.line)
	case t.kind == tPunct && t.text == "{":
		var o operand
		o.kind = oVec
		for {
			e, err := p.operand()
			if err != nil {
				return o, err
			}
			o.elems = append(o.elems, e)
			if p.accept("}") {
				return o, nil
			}
			if err := p.expect(","); err != nil {
				return o, err
			}
		}
	}
	return operand{}, errorf(t.line, "expected an operand, found %v", t)
}

// address parses the rest of [reg], [reg+off], [reg+-off], [reg-off],
// [sym], [sym+off] or [imm].
func (p *parser) address(line int) (operand, error) {
	o := operand{kind: oAddr}
	t := p.next()
	switch {
	case t.kind == tWord && !strings.HasPrefix(t.text, "."):
		o.name = t.text
	case t.kind == tNum:
		v, err := parseIntLit(t.text)
		if err != nil {
			return o, errorf(t.line, "bad address %q", t.text)
		}
		o.off = v
		return o, p.expect("]")
	default:
		return o, errorf(t.line, "expected a register or name in [ ], found %v", t)
	}
	if p.accept("]") {
		return o, nil
	}
	neg := false
	if p.accept("-") {
		neg = true
	} else {
		if err := p.expect("+"); err != nil {
			return o, err
		}
		neg = p.accept("-")
	}
	n := p.next()
	if n.kind != tNum {
		return o, errorf(n.line, "expected an offset in [ ], found %v", n)
	}
	v, err := parseIntLit(n.text)
	if err != nil {
		return o, errorf(n.line, "bad address offset %q", n.text)
	}
	if neg {
		v = -v
	}
	o.off = v
	return o, p.expect("]")
}

// parseIntLit parses a PTX integer literal: decimal, 0x hex, 0b binary or 0
// octal, with an optional U suffix. Values up to 2^64-1 are returned as their
// two's complement bit pattern.
func parseIntLit(s string) (int64, error) {
	s = strings.TrimSuffix(s, "U")
	if len(s) > 2 && s[0] == '0' && (s[1] == 'b' || s[1] == 'B') {
		u, err := strconv.ParseUint(s[2:], 2, 64)
		return int64(u), err
	}
	u, err := strconv.ParseUint(s, 0, 64)
	return int64(u), err
}
