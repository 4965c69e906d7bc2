package compiler

import (
	"github.com/wrnc/wrnc/compiler/ir"
	"github.com/wrnc/wrnc/compiler/pass"
	"github.com/wrnc/wrnc/dsl"
)

// Compile parses, checks and lowers a .wrn file and runs the default pass pipeline on it.
// Problems with the file come back as a dsl.ErrorList; anything else is an internal error.
func Compile(filename string, src []byte) (*ir.Program, error) {
	f, err := dsl.Parse(filename, src)
	if err != nil {
		return nil, err
	}
	p, err := Lower(f)
	if err != nil {
		return nil, err
	}
	if err := pass.Default.Execute(p); err != nil {
		return nil, err
	}
	return p, nil
}
