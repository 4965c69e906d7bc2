package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// aluCase tests one instruction: a generated kernel loads a, b, c (as u64)
// for each input, converts them to registers of the given types, runs the
// instruction and stores d. ref computes the expected d from the inputs
// (32-bit values in the low bits).
type aluCase struct {
	inst    string // with %d %a %b %c
	d       string // register types, e.g. "s32"; "" for an unused operand
	a, b, c string
	ref     func(a, b, c uint64) uint64
	tol     float64 // float results: allowed relative error (0: exact, NaN matches NaN)
}

// aluKernel writes the kernel for one case.
func aluKernel(c aluCase) string {
	var s strings.Builder
	s.WriteString(".version 7.8\n.target sm_80\n.address_size 64\n")
	s.WriteString(".visible .entry alu(.param .u64 in, .param .u64 out, .param .u64 n)\n{\n")
	s.WriteString("\t.reg .pred %p<2>;\n\t.reg .b32 %r<4>;\n\t.reg .b64 %rd<12>;\n")
	for _, r := range [][2]string{{"%d", c.d}, {"%a", c.a}, {"%b", c.b}, {"%c", c.c}} {
		if r[1] != "" {
			fmt.Fprintf(&s, "\t.reg .%s %s;\n", r[1], r[0])
		}
	}
	s.WriteString(`	ld.param.u64 %rd1, [in];
	ld.param.u64 %rd2, [out];
	ld.param.u64 %rd3, [n];
	mov.u32 %r1, %ctaid.x;
	mov.u32 %r2, %ntid.x;
	mov.u32 %r3, %tid.x;
	mad.lo.s32 %r1, %r1, %r2, %r3;
	cvt.u64.u32 %rd4, %r1;
	setp.ge.u64 %p1, %rd4, %rd3;
	@%p1 exit;
	mul.lo.s64 %rd5, %rd4, 24;
	add.s64 %rd5, %rd1, %rd5;
	ld.global.u64 %rd6, [%rd5];
	ld.global.u64 %rd7, [%rd5+8];
	ld.global.u64 %rd8, [%rd5+16];
`)
	for _, r := range [][3]string{{"%a", c.a, "%rd6"}, {"%b", c.b, "%rd7"}, {"%c", c.c, "%rd8"}} {
		switch r[1] {
		case "":
		case "pred":
			fmt.Fprintf(&s, "\tsetp.ne.u64 %s, %s, 0;\n", r[0], r[2])
		case "u16", "b16":
			fmt.Fprintf(&s, "\tcvt.u16.u64 %s, %s;\n", r[0], r[2])
		case "b64", "u64", "s64":
			fmt.Fprintf(&s, "\tmov.b64 %s, %s;\n", r[0], r[2])
		default:
			fmt.Fprintf(&s, "\tcvt.u32.u64 %%r2, %s;\n\tmov.b32 %s, %%r2;\n", r[2], r[0])
		}
	}
	fmt.Fprintf(&s, "\t%s\n", c.inst)
	switch c.d {
	case "pred":
		s.WriteString("\tselp.u64 %rd9, 1, 0, %d;\n")
	case "u16", "b16":
		s.WriteString("\tcvt.u64.u16 %rd9, %d;\n")
	case "b64", "u64", "s64":
		s.WriteString("\tmov.b64 %rd9, %d;\n")
	default:
		s.WriteString("\tmov.b32 %r2, %d;\n\tcvt.u64.u32 %rd9, %r2;\n")
	}
	s.WriteString("\tshl.b64 %rd10, %rd4, 3;\n\tadd.s64 %rd10, %rd2, %rd10;\n\tst.global.u64 [%rd10], %rd9;\n\tret;\n}\n")
	return s.String()
}

// Edge values of each kind of operand.
var (
	edgeInts = []uint64{0, 1, 2, 3, 7, 31, 32, 33, 63, 64, 65, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe,
		1 << 32, 1<<63 - 1, 1 << 63, math.MaxUint64, math.MaxUint64 - 1, 0x123456789abcdef0}
	edgeFloats = []float32{0, float32(math.Copysign(0, -1)), 1, -1, 0.5, 1.5, 2.5, -2.5, 3, -0.49999997, 0.50000006,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), math.MaxFloat32, -math.MaxFloat32,
		0x1p-126, -0x1p-126, 0x1p-149, -0x1p-149, 1e-40, -3e-39, 16777217, 2147483520, 2147483648, -2147483648,
		-2147483904, 4294967040, 4294967296, 1e19, 9.3e18, -9.3e18, 2e19, -1e20, 1e30, 0.1, -7.75, 1000.5}
)

// operandValues returns the inputs for one operand type: edge values and random ones.
func operandValues(t string, rng *rand.Rand, n int) []uint64 {
	var v []uint64
	switch t {
	case "f32":
		for _, f := range edgeFloats {
			v = append(v, uint64(math.Float32bits(f)))
		}
		for len(v) < n {
			if rng.IntN(2) == 0 {
				v = append(v, uint64(rng.Uint32()))
			} else {
				v = append(v, uint64(math.Float32bits(float32(rng.NormFloat64()*math.Pow(2, float64(rng.IntN(40)-20))))))
			}
		}
	case "pred":
		v = []uint64{0, 1}
	default:
		mask := uint64(math.MaxUint64)
		switch t {
		case "b16", "u16":
			mask = 0xffff
		case "b32", "u32", "s32":
			mask = 0xffffffff
		}
		for _, x := range edgeInts {
			v = append(v, x&mask)
		}
		for len(v) < n {
			x := rng.Uint64()
			if rng.IntN(2) == 0 {
				x >>= rng.IntN(64)
			}
			if rng.IntN(4) == 0 {
				x = -x
			}
			v = append(v, x&mask)
		}
	}
	return v
}

func typeMask(t string) uint64 {
	switch t {
	case "pred":
		return 1
	case "b16", "u16":
		return 0xffff
	case "b64", "u64", "s64":
		return math.MaxUint64
	}
	return 0xffffffff
}

func runALU(t *testing.T, cases []aluCase) {
	for _, c := range cases {
		t.Run(c.inst, func(t *testing.T) {
			m, err := Load(aluKernel(c))
			if err != nil {
				t.Fatalf("%v\n%s", err, aluKernel(c))
			}
			assemble(t, c.inst, aluKernel(c))
			k := kernel(t, m, "alu")
			rng := rand.New(rand.NewPCG(10, uint64(len(c.inst))))
			va, vb, vc := []uint64{0}, []uint64{0}, []uint64{0}
			if c.a != "" {
				va = operandValues(c.a, rng, 80)
			}
			if c.b != "" {
				vb = operandValues(c.b, rng, 50)
			}
			if c.c != "" {
				vc = operandValues(c.c, rng, 12)
			}
			var in []uint64
			for _, a := range va {
				for _, b := range vb {
					for _, x := range vc {
						in = append(in, a, b, x)
					}
				}
			}
			n := len(in) / 3
			mem := NewMemory()
			din, _ := mem.Alloc(8 * len(in))
			dout, _ := mem.Alloc(8 * n)
			buf := make([]byte, 8*len(in))
			for i, x := range in {
				le.PutUint64(buf[8*i:], x)
			}
			if err := mem.WriteBytes(din, buf); err != nil {
				t.Fatal(err)
			}
			if err := k.Launch(mem, Dim3{(n + 127) / 128, 1, 1}, Dim3{128, 1, 1}, 0, din, dout, uint64(n)); err != nil {
				t.Fatal(err)
			}
			out := make([]byte, 8*n)
			if err := mem.ReadBytes(dout, out); err != nil {
				t.Fatal(err)
			}
			bad := 0
			for i := 0; i < n && bad < 10; i++ {
				a, b, x := in[3*i], in[3*i+1], in[3*i+2]
				got := le.Uint64(out[8*i:])
				want := c.ref(a, b, x) & typeMask(c.d)
				if !sameResult(c, got, want) {
					bad++
					t.Errorf("a=%#x b=%#x c=%#x: got %#x, want %#x%s", a, b, x, got, want, floatNote(c, a, b, got, want))
				}
			}
		})
	}
}

func sameResult(c aluCase, got, want uint64) bool {
	if got == want {
		return true
	}
	if c.d != "f32" {
		return false
	}
	g, w := f32(got), f32(want)
	if g != g && w != w {
		return true
	}
	if c.tol > 0 && !math.IsInf(float64(w), 0) {
		return math.Abs(float64(g)-float64(w)) <= c.tol*math.Abs(float64(w))
	}
	return false
}

func floatNote(c aluCase, a, b, got, want uint64) string {
	if c.d != "f32" && c.a != "f32" {
		return ""
	}
	return fmt.Sprintf(" (a=%g b=%g got=%g want=%g)", f32(a), f32(b), f32(got), f32(want))
}
