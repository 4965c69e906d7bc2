package ptx

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/wrnc/wrnc/runtime/sim"
)

// device runs emitted kernels on the PTX simulator: named buffers in one simulated memory.
type device struct {
	t    *testing.T
	mem  *sim.Memory
	args map[string]uint64
	lens map[string]int
}

func newDevice(t *testing.T) *device {
	return &device{t: t, mem: sim.NewMemory(), args: map[string]uint64{}, lens: map[string]int{}}
}

// f32 allocates buffer name holding v.
func (d *device) f32(name string, v []float32) {
	d.t.Helper()
	a, err := d.mem.Alloc(max(len(v), 1) * 4)
	if err != nil {
		d.t.Fatal(err)
	}
	if err := d.mem.WriteFloat32(a, v); err != nil {
		d.t.Fatal(err)
	}
	d.args[name], d.lens[name] = a, len(v)
}

// u32 allocates buffer name holding v.
func (d *device) u32(name string, v []uint32) {
	d.t.Helper()
	a, err := d.mem.Alloc(max(len(v), 1) * 4)
	if err != nil {
		d.t.Fatal(err)
	}
	if err := d.mem.WriteUint32(a, v); err != nil {
		d.t.Fatal(err)
	}
	d.args[name], d.lens[name] = a, len(v)
}

// poison allocates an output buffer of n floats filled with NaN, so that an element the kernel
// does not write fails the comparison.
func (d *device) poison(name string, n int) {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(math.NaN())
	}
	d.f32(name, v)
}

// alias makes name refer to the buffer of other.
func (d *device) alias(name, other string) { d.args[name], d.lens[name] = d.args[other], d.lens[other] }

// scalar sets a non-pointer parameter.
func (d *device) scalar(name string, v uint64) { d.args[name] = v }

// read returns buffer name.
func (d *device) read(name string) []float32 {
	d.t.Helper()
	v := make([]float32, d.lens[name])
	if err := d.mem.ReadFloat32(d.args[name], v); err != nil {
		d.t.Fatal(err)
	}
	return v
}

func (d *device) readU32(name string) []uint32 {
	d.t.Helper()
	v := make([]uint32, d.lens[name])
	if err := d.mem.ReadUint32(d.args[name], v); err != nil {
		d.t.Fatal(err)
	}
	return v
}

// launch loads e (in an sm_80 module) and runs it for n images with the buffers named by its
// parameters.
func (d *device) launch(e Entry, n int) {
	d.t.Helper()
	text, err := Module(SM80, e)
	if err != nil {
		d.t.Fatal(err)
	}
	m, err := sim.Load(text)
	if err != nil {
		d.t.Fatalf("sim.Load %s: %v", e.Name, err)
	}
	k, err := m.Kernel(e.Name)
	if err != nil {
		d.t.Fatal(err)
	}
	args := make([]uint64, len(e.Params))
	for i, p := range e.Params {
		v, ok := d.args[p]
		if !ok {
			d.t.Fatalf("%s: no argument %s", e.Name, p)
		}
		args[i] = v
	}
	g := e.GridFor(n)
	grid := sim.Dim3{X: g[0], Y: g[1], Z: g[2]}
	block := sim.Dim3{X: e.Block[0], Y: e.Block[1], Z: e.Block[2]}
	if err := k.Launch(d.mem, grid, block, 0, args...); err != nil {
		d.t.Fatalf("%s: %v", e.Name, err)
	}
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x707478)) }

// randF32 returns n uniform values in [lo, hi).
func randF32(r *rand.Rand, n int, lo, hi float64) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(lo + (hi-lo)*r.Float64())
	}
	return s
}

// relErr is max|got - want| / max|want| (as runtime/nn's tests measure), +Inf when a value
// is NaN or the lengths differ.
func relErr(got, want []float32) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	var num, den float64
	for i := range got {
		g, w := float64(got[i]), float64(want[i])
		if math.IsNaN(g) || math.IsNaN(w) {
			return math.Inf(1)
		}
		num = math.Max(num, math.Abs(g-w))
		den = math.Max(den, math.Abs(w))
	}
	if den == 0 {
		return num
	}
	return num / den
}

// check compares a kernel's output with the CPU's.
func check(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	e := relErr(got, want)
	t.Logf("%s: relative error %.3g (bound %.3g)", what, e, tol)
	if e > tol {
		i := worst(got, want)
		t.Errorf("%s: relative error %.3g > %.3g (worst at %d: got %g, want %g)", what, e, tol, i, got[i], want[i])
	}
}

func worst(got, want []float32) int {
	w, best := 0, -1.0
	for i := range got {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if math.IsNaN(d) {
			return i
		}
		if d > best {
			w, best = i, d
		}
	}
	return w
}
