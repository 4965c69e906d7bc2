// Package compiler turns a parsed .wrn file into wrnc's IR: it checks every rule of DSL.md,
// reporting each problem as FILE:LINE:COL: message, builds the layers of the network, and
// runs the pass pipeline over them.
package compiler

import (
	"sort"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/wrnc/wrnc/compiler/ir"
	"github.com/wrnc/wrnc/dsl"
)

// checker collects every problem of one file.
type checker struct {
	file string
	errs dsl.ErrorList
}

func (c *checker) errorf(pos lexer.Position, format string, args ...any) {
	if pos.Filename == "" {
		pos.Filename = c.file
	}
	c.errs = append(c.errs, dsl.Errorf(pos, format, args...))
}

// err returns the problems found, sorted by position, or nil.
func (c *checker) err() error {
	if len(c.errs) == 0 {
		return nil
	}
	sort.SliceStable(c.errs, func(i, j int) bool {
		a, b := c.errs[i].Pos, c.errs[j].Pos
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	return c.errs
}

// Lower checks f against DSL.md and builds its program: layers, parameters and recipe.
// The error, when not nil, is a dsl.ErrorList holding every problem of the file.
func Lower(f *dsl.File) (*ir.Program, error) {
	c := &checker{file: f.Pos.Filename}
	s := c.settings(f)
	if s == nil {
		return nil, c.err()
	}
	c.checkNetwork(s)
	if err := c.err(); err != nil {
		return nil, err
	}
	p := s.program()
	if s.family == ir.ImageNet {
		buildImageNet(p)
	} else {
		buildCifar(p)
	}
	return p, nil
}
