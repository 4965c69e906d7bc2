package sim

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// lineOf is the 1-based line of the first line of testdata/file containing s.
func lineOf(t *testing.T, file, s string) int {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(src), "\n") {
		if strings.Contains(l, s) {
			return i + 1
		}
	}
	t.Fatalf("%s has no line with %q", file, s)
	return 0
}

// miniKernel wraps a body in a module with one kernel k(p) and registers
// %p<4> %r<8> %f<4> %rd<4>; %r1 is %tid.x and %rd1 the parameter.
func miniKernel(body string) string {
	return `.version 7.8
.target sm_80
.address_size 64
.visible .entry k(.param .u64 p)
{
	.reg .pred %p<4>;
	.reg .b32 %r<8>;
	.reg .f32 %f<4>;
	.reg .b64 %rd<4>;
	.shared .align 4 .b8 s[1024];
	ld.param.u64 %rd1, [p];
	mov.u32 %r1, %tid.x;
` + body + `
	ret;
}
`
}

func execErr(t *testing.T, err error) *ExecError {
	t.Helper()
	var e *ExecError
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want an *ExecError", err)
	}
	return e
}

func TestExecErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		body   string
		block  int
		line   int // line in miniKernel (13 is the first line of the body)
		thread int
		msg    string
	}{
		{"deadlock exit", "\tsetp.eq.s32 %p1, %r1, 5;\n\t@%p1 exit;\n\tbar.sync 0;", 64, 15, 0, "thread (5,0,0) exited at line 14"},
		{"two barriers", "\tsetp.lt.u32 %p1, %r1, 16;\n\t@%p1 bra L;\n\tbar.sync 1;\n\tbra E;\nL:\n\tbar.sync 0;\nE:", 32, 15, 16, "waits at barrier 1 while thread (0,0,0) waits at barrier 0"},
		{"uninitialized shared", "\tmov.u32 %r2, s;\n\tld.shared.f32 %f1, [%r2+8];", 32, 14, 0, "read of uninitialized shared memory"},
		{"write-read race", "\tmov.u32 %r2, s;\n\tshl.b32 %r3, %r1, 2;\n\tadd.s32 %r4, %r2, %r3;\n\tst.shared.u32 [%r4], %r1;\n\tsetp.eq.s32 %p1, %r1, 0;\n\t@%p1 bra E;\n\tld.shared.u32 %r5, [%r4+-4];\nE:", 32, 19, 1, "race: read of 4 bytes at shared offset 0x0, which thread (0,0,0) wrote"},
		{"write-write race", "\tmov.u32 %r2, s;\n\tst.shared.u32 [%r2+12], %r1;", 32, 14, 1, "race: write of 4 bytes at shared offset 0xc, which thread (0,0,0) also wrote"},
		{"read-write race", "\tmov.u32 %r2, s;\n\tsetp.eq.s32 %p1, %r1, 0;\n\t@%p1 st.shared.u32 [%r2], %r1;\n\tbar.sync 0;\n\t@%p1 ld.shared.u32 %r3, [%r2];\n\t@!%p1 st.shared.u32 [%r2], %r1;", 32, 18, 1, "race: write of 4 bytes at shared offset 0x0, which thread (0,0,0) read"},
		{"out-of-bounds shared", "\tmov.u32 %r2, s;\n\tst.shared.u32 [%r2+1024], %r1;", 8, 14, 0, "out-of-bounds 4-byte store to shared memory at 0x400 (valid: [0x0, 0x400))"},
		{"misaligned shared", "\tmov.u32 %r2, s;\n\tld.shared.v2.f32 {%f1, %f2}, [%r2+4];", 8, 14, 0, "misaligned 8-byte load from shared memory at 0x4"},
		{"global null", "\tmov.u64 %rd2, 0;\n\tld.global.f32 %f1, [%rd2];", 8, 14, 0, "out-of-bounds 4-byte load from global memory at 0x0"},
		{"shfl exited lane", "\tsetp.eq.s32 %p1, %r1, 3;\n\t@%p1 exit;\n\tshfl.sync.bfly.b32 %r2, %r1, 1, 31, -1;", 32, 15, 0, "thread (3,0,0) exited"},
		{"shfl diverged", "\tsetp.lt.u32 %p1, %r1, 16;\n\t@%p1 bra L;\n\tshfl.sync.bfly.b32 %r2, %r1, 1, 31, -1;\n\tbra E;\nL:\n\tshfl.sync.bfly.b32 %r2, %r1, 1, 31, -1;\nE:", 32, 18, 0, "warp lanes diverged: thread (16,0,0) is at line 15"},
		{"shfl partial warp", "\tshfl.sync.bfly.b32 %r2, %r1, 16, 31, -1;", 40, 13, 32, "reads lane 16, which this partial warp of 8 threads lacks"},
		{"mma partial warp", "\tmov.f32 %f1, 0f00000000;\n\tmma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%f0,%f1,%f2,%f3}, {%r1,%r1,%r1,%r1}, {%r1,%r1}, {%f1,%f1,%f1,%f1};", 16, 14, 0, "needs a full warp of 32 threads"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Load(miniKernel(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			mem := NewMemory()
			err = kernel(t, m, "k").Launch(mem, Dim3{2, 1, 1}, Dim3{tc.block, 1, 1}, 0, 0)
			e := execErr(t, err)
			want := ExecError{Kernel: "k", Line: tc.line, Block: Dim3{0, 0, 0}, Thread: Dim3{tc.thread, 0, 0}}
			got := *e
			got.Msg = ""
			if got != want || !strings.Contains(e.Msg, tc.msg) {
				t.Errorf("got %v\nwant line %d, thread %d, message with %q", err, tc.line, tc.thread, tc.msg)
			}
		})
	}
}

func TestGlobalOutOfBounds(t *testing.T) {
	k := kernel(t, loadFile(t, "vecadd.ptx"), "vecadd")
	mem := NewMemory()
	x := make([]float32, 100)
	a, b, c := upload(t, mem, x), upload(t, mem, x), upload(t, mem, x)
	// 100 elements each, n = 300: a[100..] and b[100..] fall into padding or
	// the next buffer, c[100] is past the end of memory.
	err := k.Launch(mem, Dim3{3, 1, 1}, Dim3{128, 1, 1}, 0, a, b, c, 300)
	e := execErr(t, err)
	if e.Kernel != "vecadd" || e.Line != lineOf(t, "vecadd.ptx", "st.global.f32") || e.Block != (Dim3{0, 0, 0}) || e.Thread != (Dim3{100, 0, 0}) || !strings.Contains(e.Msg, "out-of-bounds 4-byte store to global memory") {
		t.Errorf("got %v", err)
	}
	if !strings.HasPrefix(err.Error(), "kernel vecadd, line ") {
		t.Errorf("message %q does not start with the kernel and line", err)
	}
	err = k.Launch(mem, Dim3{1, 1, 1}, Dim3{32, 1, 1}, 0, a, b, c+2, 10)
	if e := execErr(t, err); e.Thread != (Dim3{0, 0, 0}) || !strings.Contains(e.Msg, "misaligned 4-byte store") {
		t.Errorf("misaligned: got %v", err)
	}
}

func TestMissingBarrierIsARace(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "reduce.ptx"))
	if err != nil {
		t.Fatal(err)
	}
	racy := strings.Replace(string(src), "$L_skip:\n\tbar.sync \t0;", "$L_skip:", 1)
	if racy == string(src) {
		t.Fatal("barrier not found")
	}
	m, err := Load(racy)
	if err != nil {
		t.Fatal(err)
	}
	k := kernel(t, m, "block_sum")
	mem := NewMemory()
	in, out := upload(t, mem, make([]float32, 256)), upload(t, mem, []float32{0})
	err = k.Launch(mem, Dim3{1, 1, 1}, Dim3{256, 1, 1}, 0, in, out, 256)
	if e := execErr(t, err); !strings.Contains(e.Msg, "shared memory race") {
		t.Errorf("got %v", err)
	}
	// Without the checker the sequential schedule hides the race.
	if _, err := k.Run(mem, Config{Grid: Dim3{1, 1, 1}, Block: Dim3{256, 1, 1}, NoRaceCheck: true}, in, out, 256); err != nil {
		t.Errorf("NoRaceCheck: %v", err)
	}
}

func TestLaunchChecks(t *testing.T) {
	m := loadFile(t, "reduce.ptx")
	sum, dyn := kernel(t, m, "block_sum"), kernel(t, m, "block_sum_dyn")
	sg := kernel(t, loadFile(t, "sgemm.ptx"), "sgemm")
	mem := NewMemory()
	one := Dim3{1, 1, 1}
	for _, tc := range []struct {
		name string
		k    *Kernel
		cfg  Config
		args []uint64
		msg  string
	}{
		{"params", sum, Config{Grid: one, Block: Dim3{32, 1, 1}}, []uint64{1, 2}, "takes 3 parameters, got 2"},
		{"block too big", dyn, Config{Grid: one, Block: Dim3{1025, 1, 1}}, []uint64{1, 2, 3}, "bad block (1025,1,1)"},
		{"block product", dyn, Config{Grid: one, Block: Dim3{32, 32, 2}}, []uint64{1, 2, 3}, "at most 1024 threads"},
		{"block zero", dyn, Config{Grid: one, Block: Dim3{0, 1, 1}}, []uint64{1, 2, 3}, "bad block"},
		{"grid", dyn, Config{Grid: Dim3{1, 70000, 1}, Block: Dim3{32, 1, 1}}, []uint64{1, 2, 3}, "bad grid"},
		{"reqntid", sg, Config{Grid: one, Block: Dim3{16, 8, 1}}, []uint64{1, 2, 3, 4, 5, 6}, "differs from .reqntid 16,16,1"},
		{"shared", dyn, Config{Grid: one, Block: Dim3{32, 1, 1}, DynamicShared: 229 << 10}, []uint64{1, 2, 3}, "exceed 233472"},
		{"static plus dynamic", sum, Config{Grid: one, Block: Dim3{32, 1, 1}, DynamicShared: 225 << 10}, []uint64{1, 2, 3}, "(4096 static + 230400 dynamic)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.k.Run(mem, tc.cfg, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("got %v, want an error with %q", err, tc.msg)
			}
		})
	}
}

func TestEndlessLoop(t *testing.T) {
	m, err := Load(miniKernel("L:\n\tadd.s32 %r1, %r1, 1;\n\tbra L;"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Grid: Dim3{1, 1, 1}, Block: Dim3{4, 1, 1}, MaxThreadInstructions: 1000}
	_, err = kernel(t, m, "k").Run(NewMemory(), cfg, 0)
	if e := execErr(t, err); e.Line != 15 || e.Thread != (Dim3{0, 0, 0}) || !strings.Contains(e.Msg, "more than 1000 instructions") {
		t.Errorf("got %v", err)
	}
}
