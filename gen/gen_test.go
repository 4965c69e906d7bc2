package gen

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/wrnc/wrnc/codegen"
	"github.com/wrnc/wrnc/compiler"
)

// TestNotStale emits every reference network again and compares it with the committed
// files, which must be exactly what wrnc writes today (run `go generate ./gen`).
func TestNotStale(t *testing.T) {
	dirs := make([]string, 0, len(Networks))
	for d := range Networks {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	for _, dir := range dirs {
		src := Networks[dir]
		t.Run(dir, func(t *testing.T) {
			text, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			p, err := compiler.Compile(src, text)
			if err != nil {
				t.Fatal(err)
			}
			files, err := codegen.Go(p, filepath.Base(src))
			if err != nil {
				t.Fatal(err)
			}
			committed, _ := filepath.Glob(filepath.Join(dir, "*.go"))
			if len(committed) != len(files) {
				t.Errorf("%s holds %d Go files, wrnc emits %d (run go generate ./gen)", dir, len(committed), len(files))
			}
			for _, f := range files {
				var want bytes.Buffer
				if err := f.Code.Render(&want); err != nil {
					t.Fatal(err)
				}
				got, err := os.ReadFile(filepath.Join(dir, f.Name))
				if err != nil {
					t.Fatalf("%v (run go generate ./gen)", err)
				}
				if !bytes.Equal(got, want.Bytes()) {
					t.Errorf("%s/%s is stale: it differs from what wrnc emits now (run go generate ./gen)", dir, f.Name)
				}
			}
		})
	}
}
