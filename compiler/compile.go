package compiler

import (
	"github.com/wrnc/wrnc/compiler/ir"
	"github.com/wrnc/wrnc/compiler/pass"
	"github.com/wrnc/wrnc/dsl"
	"github.com/wrnc/wrnc/runtime/contract"
)

// Compile parses, checks and lowers a .wrn file and runs the default pass pipeline on it.
// Problems with the file come back as a dsl.ErrorList; anything else is an internal error.
func Compile(filename string, src []byte) (*ir.Program, error) {
	return CompileTuned(filename, src, nil)
}

// CompileTuned is Compile with the forward methods of tune (read by
// contract.ReadTuneFile, which checks that each computes its convolution) taking the
// place of the selection rules for the convolutions and batches it names; entries for
// other networks' convolutions are ignored.
func CompileTuned(filename string, src []byte, tune *contract.TuneFile) (*ir.Program, error) {
	f, err := dsl.Parse(filename, src)
	if err != nil {
		return nil, err
	}
	p, err := Lower(f)
	if err != nil {
		return nil, err
	}
	if tune != nil {
		p.Tuned = tune.Convs
	}
	if err := pass.Default.Execute(p); err != nil {
		return nil, err
	}
	return p, nil
}
