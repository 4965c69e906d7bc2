// Package runtime carries the source of what generated binaries link (its subpackages), so
// that wrnc can write it next to a generated package and build the binary offline.
package runtime

import (
	"embed"
	"io/fs"
	"path"
	"strings"
)

//go:embed cli ckpt contract cpu data dist gpu model nn onnx optim plot progress runlog sim sysmem
var source embed.FS

// Requires are the modules every generated binary links besides the runtime
// (google.golang.org/protobuf's protowire, for ONNX export and TensorBoard event files).
var Requires = []string{"google.golang.org/protobuf v1.36.12"}

// ModuleSum is the go.sum that builds of generated networks verify their requirements
// with: wrnc's own (`go generate ./runtime` copies it), which covers Requires and
// CUDAModule.
//
//go:generate cp ../go.sum module.sum
//go:embed module.sum
var ModuleSum []byte

// CUDAModule is the module that the cuda device links.
const CUDAModule = "gorgonia.org/cu v0.9.6"

// Module is the module path of the runtime's packages.
const Module = "github.com/wrnc/wrnc"

// Files calls fn for every file a build needs, with its path relative to the module root
// (e.g. "runtime/cpu/gemm.go"): Go sources and assembly, without tests, test data or the
// generators of committed code.
func Files(fn func(name string, data []byte) error) error {
	return fs.WalkDir(source, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if base := path.Base(p); base == "testdata" || base == "asmgen" {
				return fs.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(p, "_test.go") || !(strings.HasSuffix(p, ".go") || strings.HasSuffix(p, ".s") || strings.HasSuffix(p, ".h")) {
			return nil
		}
		data, err := source.ReadFile(p)
		if err != nil {
			return err
		}
		return fn(path.Join("runtime", p), data)
	})
}
