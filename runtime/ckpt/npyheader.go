package ckpt

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// npyHeader is the dict in a .npy header.
type npyHeader struct {
	descr   string
	fortran bool
	shape   []int
}

// parseNPYHeader parses the Python dict literal of a .npy header, such as
//
//	{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
//
// followed by padding. It accepts what numpy's own reader accepts short of
// evaluating Python: quoted keys and strings, True/False, a tuple (or list)
// of integers (with Python 2's L suffix), trailing commas, and exactly the
// keys descr, fortran_order and shape.
func parseNPYHeader(s string) (npyHeader, error) {
	p := &pyLit{s: s}
	var h npyHeader
	if !p.eat('{') {
		return h, errors.New("not a Python dict")
	}
	seen := map[string]bool{}
	for !p.eat('}') {
		key, err := p.str()
		if err != nil {
			return h, fmt.Errorf("key: %v", err)
		}
		if seen[key] {
			return h, fmt.Errorf("key %q appears twice", key)
		}
		seen[key] = true
		if !p.eat(':') {
			return h, fmt.Errorf("no ':' after key %q", key)
		}
		switch key {
		case "descr":
			h.descr, err = p.str()
		case "fortran_order":
			h.fortran, err = p.boolean()
		case "shape":
			h.shape, err = p.ints()
		default:
			return h, fmt.Errorf("unexpected key %q", key)
		}
		if err != nil {
			return h, fmt.Errorf("%s: %v", key, err)
		}
		if !p.eat(',') && !p.peek('}') {
			return h, errors.New("expected ',' or '}'")
		}
	}
	if strings.TrimLeft(s[p.i:], " \t\r\n\x00") != "" {
		return h, errors.New("unexpected text after the dict")
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if !seen[k] {
			return h, fmt.Errorf("no %q", k)
		}
	}
	return h, nil
}

// pyLit scans a Python literal.
type pyLit struct {
	s string
	i int
}

func (p *pyLit) skip() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

// peek reports whether the next non-space byte is c.
func (p *pyLit) peek(c byte) bool {
	p.skip()
	return p.i < len(p.s) && p.s[p.i] == c
}

// eat consumes c if it comes next.
func (p *pyLit) eat(c byte) bool {
	if p.peek(c) {
		p.i++
		return true
	}
	return false
}

// str scans a quoted string without escapes (numpy never writes any).
func (p *pyLit) str() (string, error) {
	p.skip()
	if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
		return "", errors.New("expected a quoted string")
	}
	q := p.s[p.i]
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", errors.New("unterminated string")
	}
	v := p.s[p.i+1 : p.i+1+end]
	if strings.IndexByte(v, '\\') >= 0 {
		return "", errors.New("escapes in strings are not supported")
	}
	p.i += end + 2
	return v, nil
}

func (p *pyLit) boolean() (bool, error) {
	p.skip()
	for _, w := range []string{"True", "False"} {
		if strings.HasPrefix(p.s[p.i:], w) {
			p.i += len(w)
			return w == "True", nil
		}
	}
	return false, errors.New("expected True or False")
}

// ints scans a tuple or list of non-negative integers.
func (p *pyLit) ints() ([]int, error) {
	closer := byte(')')
	if p.eat('[') {
		closer = ']'
	} else if !p.eat('(') {
		return nil, errors.New("expected a tuple")
	}
	v := []int{}
	for !p.eat(closer) {
		p.skip()
		j := p.i
		for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
			j++
		}
		if j == p.i {
			return nil, errors.New("expected non-negative integers")
		}
		d, err := strconv.ParseInt(p.s[p.i:j], 10, 64)
		if err != nil || d > math.MaxInt32 {
			return nil, fmt.Errorf("dimension %s is too large: each dimension must be below 2^31", quoteShort(p.s[p.i:j]))
		}
		p.i = j
		if p.i < len(p.s) && p.s[p.i] == 'L' {
			p.i++
		}
		v = append(v, int(d))
		if !p.eat(',') && !p.peek(closer) {
			return nil, fmt.Errorf("expected ',' or '%c'", closer)
		}
	}
	return v, nil
}

// quoteShort is s, cut to a few dozen characters for a message.
func quoteShort(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
