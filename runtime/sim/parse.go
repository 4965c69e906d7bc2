package sim

import "strconv"

// parser turns tokens into a module. It checks syntax only.
type parser struct {
	toks []token
	pos  int
}

func (p *parser) peek() token { return p.toks[p.pos] }
func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tEOF {
		p.pos++
	}
	return t
}

func (p *parser) isPunct(s string) bool {
	t := p.peek()
	return t.kind == tPunct && t.text == s
}

func (p *parser) accept(s string) bool {
	if p.isPunct(s) {
		p.pos++
		return true
	}
	return false
}

func (p *parser) expect(s string) error {
	t := p.next()
	if t.kind != tPunct || t.text != s {
		return errorf(t.line, "expected %q, found %v", s, t)
	}
	return nil
}

func (p *parser) word() (token, error) {
	t := p.next()
	if t.kind != tWord {
		return t, errorf(t.line, "expected a name, found %v", t)
	}
	return t, nil
}

func (p *parser) int() (int, error) {
	t := p.next()
	if t.kind != tNum {
		return 0, errorf(t.line, "expected an integer, found %v", t)
	}
	v, err := strconv.ParseInt(t.text, 0, 64)
	if err != nil || v < 0 || v > 1<<31 {
		return 0, errorf(t.line, "bad integer %q", t.text)
	}
	return int(v), nil
}

// parse reads a whole module.
func parse(src string) (*module, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	m := &module{}
	for p.peek().kind != tEOF {
		t := p.next()
		if t.kind != tWord {
			return nil, errorf(t.line, "expected a directive, found %v", t)
		}
		switch t.text {
		case ".version":
			v := p.next()
			if v.kind != tNum {
				return nil, errorf(v.line, "expected a version number after .version, found %v", v)
			}
			if m.version != "" {
				return nil, errorf(t.line, "duplicate .version")
			}
			m.version = v.text
		case ".target":
			w, err := p.word()
			if err != nil {
				return nil, err
			}
			if m.target != "" {
				return nil, errorf(t.line, "duplicate .target")
			}
			m.target = w.text
			if p.isPunct(",") {
				return nil, errorf(t.line, ".target takes exactly one architecture (sm_80 or sm_90)")
			}
		case ".address_size":
			n, err := p.int()
			if err != nil {
				return nil, err
			}
			m.addrSize = n
		case ".visible", ".entry":
			if t.text == ".visible" {
				e, err := p.word()
				if err != nil {
					return nil, err
				}
				if e.text != ".entry" {
					return nil, errorf(e.line, "only .visible .entry is supported, found .visible %s", e.text)
				}
			}
			e, err := p.entry(t.line)
			if err != nil {
				return nil, err
			}
			m.entries = append(m.entries, e)
		case ".shared", ".extern":
			d, err := p.shared(t)
			if err != nil {
				return nil, err
			}
			m.shared = append(m.shared, d)
		default:
			return nil, errorf(t.line, "unsupported directive %s", t.text)
		}
	}
	return m, nil
}

// entry parses the rest of ".entry NAME ( params ) directives { body }".
func (p *parser) entry(line int) (*entry, error) {
	name, err := p.word()
	if err != nil {
		return nil, err
	}
	e := &entry{name: name.text, line: line}
	if err := p.expect("("); err != nil {
		return nil, err
	}
	for !p.accept(")") {
		if len(e.params) > 0 {
			if err := p.expect(","); err != nil {
				return nil, err
			}
		}
		t, err := p.word()
		if err != nil {
			return nil, err
		}
		if t.text != ".param" {
			return nil, errorf(t.line, "expected .param, found %s", t.text)
		}
		ty, err := p.word()
		if err != nil {
			return nil, err
		}
		if ty.text != ".u64" {
			return nil, errorf(ty.line, "kernel parameters must be .param .u64, found %s", ty.text)
		}
		n, err := p.word()
		if err != nil {
			return nil, err
		}
		e.params = append(e.params, param{name: n.text, line: n.line})
	}
	for {
		t := p.peek()
		if t.kind == tPunct && t.text == "{" {
			break
		}
		if t.kind != tWord || (t.text != ".maxntid" && t.text != ".reqntid") {
			return nil, errorf(t.line, "expected .maxntid, .reqntid or {, found %v", t)
		}
		p.next()
		var dims []int
		for {
			n, err := p.int()
			if err != nil {
				return nil, err
			}
			dims = append(dims, n)
			if !p.accept(",") {
				break
			}
		}
		if len(dims) > 3 {
			return nil, errorf(t.line, "%s takes at most 3 dimensions", t.text)
		}
		if t.text == ".maxntid" {
			e.maxntid = dims
		} else {
			e.reqntid = dims
		}
	}
	p.next() // {
	depth := 1
	for depth > 0 {
		t := p.peek()
		switch {
		case t.kind == tEOF:
			return nil, errorf(t.line, "missing } at the end of entry %s", e.name)
		case t.kind == tPunct && t.text == "{":
			p.next()
			depth++
			e.body = append(e.body, stmt{kind: sOpen, line: t.line})
		case t.kind == tPunct && t.text == "}":
			p.next()
			depth--
			if depth == 0 {
				e.endLine = t.line
			} else {
				e.body = append(e.body, stmt{kind: sClose, line: t.line})
			}
		default:
			s, err := p.stmt()
			if err != nil {
				return nil, err
			}
			e.body = append(e.body, s)
		}
	}
	return e, nil
}

// shared parses ".shared .align N .TYPE name[SIZE];" or
// ".extern .shared .align N .TYPE name[];" after its first word t.
func (p *parser) shared(t token) (*sharedDecl, error) {
	d := &sharedDecl{line: t.line, align: 1}
	if t.text == ".extern" {
		d.extern = true
		s, err := p.word()
		if err != nil {
			return nil, err
		}
		if s.text != ".shared" {
			return nil, errorf(s.line, "only .extern .shared is supported, found .extern %s", s.text)
		}
	}
	w, err := p.word()
	if err != nil {
		return nil, err
	}
	if w.text == ".align" {
		if d.align, err = p.int(); err != nil {
			return nil, err
		}
		if d.align <= 0 || d.align&(d.align-1) != 0 || d.align > 1024 {
			return nil, errorf(w.line, ".align must be a power of two up to 1024")
		}
		if w, err = p.word(); err != nil {
			return nil, err
		}
	}
	elem := map[string]int{".b8": 1, ".u8": 1, ".b16": 2, ".u16": 2, ".b32": 4, ".u32": 4, ".s32": 4, ".f32": 4, ".b64": 8, ".u64": 8, ".s64": 8}[w.text]
	if elem == 0 {
		return nil, errorf(w.line, "unsupported .shared element type %s", w.text)
	}
	n, err := p.word()
	if err != nil {
		return nil, err
	}
	d.name = n.text
	if err := p.expect("["); err != nil {
		return nil, err
	}
	if d.extern {
		if err := p.expect("]"); err != nil {
			return nil, errorf(n.line, ".extern .shared arrays take no size: write %s[]", d.name)
		}
	} else {
		size, err := p.int()
		if err != nil {
			return nil, err
		}
		if err := p.expect("]"); err != nil {
			return nil, err
		}
		if size <= 0 {
			return nil, errorf(n.line, "shared array %s needs a positive size", d.name)
		}
		d.size = size * elem
	}
	if err := p.expect(";"); err != nil {
		return nil, err
	}
	return d, nil
}
