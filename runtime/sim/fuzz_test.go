package sim

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad checks that Load never panics and that whatever it accepts
// launches (one small block) without panicking.
func FuzzLoad(f *testing.F) {
	for _, pat := range []string{"*.ptx", "errors/*.ptx"} {
		files, _ := filepath.Glob(filepath.Join("testdata", pat))
		for _, file := range files {
			src, err := os.ReadFile(file)
			if err == nil {
				f.Add(string(src))
			}
		}
	}
	f.Fuzz(func(t *testing.T, src string) {
		m, err := Load(src)
		if err != nil {
			return
		}
		mem := NewMemory()
		buf, err := mem.Alloc(1 << 12)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range m.Kernels() {
			k, err := m.Kernel(name)
			if err != nil {
				t.Fatal(err)
			}
			args := make([]uint64, len(k.Params()))
			for i := range args {
				args[i] = buf
			}
			cfg := Config{Grid: Dim3{2, 1, 1}, Block: Dim3{32, 1, 1}, MaxThreadInstructions: 1 << 14, Workers: 1}
			if k.reqntid[0] > 0 {
				cfg.Block = Dim3{k.reqntid[0], max(k.reqntid[1], 1), max(k.reqntid[2], 1)}
			}
			_, _ = k.Run(mem, cfg, args...)
		}
	})
}
