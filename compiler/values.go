package compiler

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/wrnc/wrnc/dsl"
)

// This file reads the arguments of a statement: how many there are, and each value as a
// whole number, a real number, a word from a list or a boolean, reporting what was expected.

// args splits the arguments of st into positional values and named arguments, reporting a
// named argument given twice or one whose key is not in keys.
func (c *checker) args(st *dsl.Statement, keys []string, example string) (pos []*dsl.Value, named map[string]*dsl.Arg) {
	named = map[string]*dsl.Arg{}
	for _, a := range st.Args {
		if a.Key == "" {
			pos = append(pos, a.Values...)
			continue
		}
		if !contains(keys, a.Key) {
			if len(keys) == 0 {
				c.errorf(a.Pos, "%s takes no named arguments, got %s= (write e.g. `%s`)", st.Key, a.Key, example)
			} else {
				c.errorf(a.Pos, "unknown argument %q of %s%s; it takes %s", a.Key, st.Key, didYouMean(a.Key, keys), strings.Join(keys, ", "))
			}
			continue
		}
		if prev, ok := named[a.Key]; ok {
			c.errorf(a.Pos, "%s= given twice in %s (first at %d:%d)", a.Key, st.Key, prev.Pos.Line, prev.Pos.Column)
			continue
		}
		named[a.Key] = a
	}
	return pos, named
}

// one returns the single value of a named argument, or reports a list.
func (c *checker) one(a *dsl.Arg) *dsl.Value {
	if len(a.Values) != 1 {
		c.errorf(a.Values[1].Pos, "%s= takes one value, got %d", a.Key, len(a.Values))
		return nil
	}
	return a.Values[0]
}

// single returns the only positional value of a statement that takes exactly one.
func (c *checker) single(st *dsl.Statement, example string) *dsl.Value {
	pos, _ := c.args(st, nil, example)
	if len(pos) != 1 || len(st.Args) != 1 {
		hint := ""
		// A misspelt statement key on the same line reads as one more value.
		for _, a := range st.Args[min(1, len(st.Args)):] {
			if a.Key == "" && len(a.Values) == 1 && a.Values[0].Ident != nil {
				if m := didYouMean(*a.Values[0].Ident, statementKeys); m != "" {
					hint = fmt.Sprintf("; %q at %d:%d is not a statement%s", *a.Values[0].Ident, a.Pos.Line, a.Pos.Column, m)
					break
				}
			}
		}
		c.errorf(st.Pos, "%s takes one value, e.g. `%s`%s", st.Key, example, hint)
		return nil
	}
	return pos[0]
}

// integer reads v as a whole number in [lo, hi].
func (c *checker) integer(v *dsl.Value, what string, lo, hi int64) (int64, bool) {
	if v == nil {
		return 0, false
	}
	if v.Number == nil || strings.ContainsAny(*v.Number, ".eE") {
		c.errorf(v.Pos, "%s must be a whole number, got %s", what, show(v))
		return 0, false
	}
	n, err := strconv.ParseInt(*v.Number, 10, 64)
	if err != nil || n < lo || n > hi {
		c.errorf(v.Pos, "%s must be in [%d, %d], got %s", what, lo, hi, show(v))
		return 0, false
	}
	return n, true
}

// real reads v as a number that ok accepts; rng describes the accepted range, e.g. "[0, 1)".
func (c *checker) real(v *dsl.Value, what, rng string, ok func(float64) bool) (float64, bool) {
	if v == nil {
		return 0, false
	}
	if v.Number == nil {
		c.errorf(v.Pos, "%s must be a number, got %s", what, show(v))
		return 0, false
	}
	x, err := strconv.ParseFloat(*v.Number, 64)
	if err != nil || math.IsInf(x, 0) || math.IsNaN(x) || !ok(x) {
		c.errorf(v.Pos, "%s must be in %s, got %s", what, rng, show(v))
		return 0, false
	}
	return x, true
}

// word reads v as one of choices.
func (c *checker) word(v *dsl.Value, what string, choices ...string) (string, bool) {
	if v == nil {
		return "", false
	}
	if v.Ident == nil || !contains(choices, *v.Ident) {
		c.errorf(v.Pos, "%s must be %s, got %s%s", what, orList(choices), show(v), didYouMean(v.Text(), choices))
		return "", false
	}
	return *v.Ident, true
}

// boolean reads v as true or false.
func (c *checker) boolean(v *dsl.Value, what string) (bool, bool) {
	w, ok := c.word(v, what, "true", "false")
	return w == "true", ok
}

// show quotes a value for a message, shortened.
func show(v *dsl.Value) string {
	s := v.Text()
	if len(s) > 40 {
		return strconv.Quote(s[:40] + "...")
	}
	if v.Number != nil {
		return s
	}
	return strconv.Quote(s)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// orList writes "a, b or c".
func orList(words []string) string {
	if len(words) == 1 {
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}
