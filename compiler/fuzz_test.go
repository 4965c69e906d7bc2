package compiler_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/wrnc/wrnc/compiler"
	"github.com/wrnc/wrnc/compiler/ir"
	"github.com/wrnc/wrnc/dsl"
)

// FuzzCompile asserts that no input crashes the compiler and that every refusal is a list
// of positioned errors. Its seeds are every .wrn file of testdata/.
func FuzzCompile(f *testing.F) {
	for _, pattern := range []string{"*.wrn", "errors/*.wrn"} {
		files, _ := filepath.Glob(filepath.Join("..", "testdata", pattern))
		for _, path := range files {
			src, err := os.ReadFile(path)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(src)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		p, err := compiler.Compile("fuzz.wrn", src)
		if err == nil {
			if err := ir.Verify(p); err != nil {
				t.Fatalf("accepted program fails verification: %v", err)
			}
			if compiler.Params(p) <= 0 || compiler.MACs(p) <= 0 {
				t.Fatalf("accepted program with %d params and %d MACs", compiler.Params(p), compiler.MACs(p))
			}
			return
		}
		var list dsl.ErrorList
		if !errors.As(err, &list) || len(list) == 0 {
			t.Fatalf("refusal is not a positioned error list: %T %v", err, err)
		}
		for _, e := range list {
			if e.Pos.Filename != "fuzz.wrn" || e.Pos.Line < 1 || e.Pos.Column < 1 || e.Msg == "" {
				t.Fatalf("refusal without a position: %q at %+v", e.Msg, e.Pos)
			}
		}
	})
}
