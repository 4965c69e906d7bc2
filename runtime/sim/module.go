package sim

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// maxShared is the most shared memory (static plus dynamic) one block may use.
const maxShared = 228 << 10

// Module is a loaded PTX module: every kernel in it, parsed, checked and
// decoded.
type Module struct {
	kernels []*Kernel
}

// Kernel is one decoded .entry, ready to launch.
type Kernel struct {
	name       string
	params     []string
	code       []inst
	lines      []int32 // PTX line of each instruction
	pool       []int32 // operand lists of vector and mma instructions
	nslots     int
	template   []uint64 // initial register file: constants and symbol addresses
	paramSlots []int32
	special    [numSpecial]int32 // slot of each special register, -1 if unused
	static     int               // bytes of static shared memory
	dynAlign   int               // alignment of dynamic shared memory (the .extern .shared)
	maxntid    [3]int            // 0: not given
	reqntid    [3]int
}

// Special registers.
const (
	spTidX = iota
	spTidY
	spTidZ
	spNtidX
	spNtidY
	spNtidZ
	spCtaidX
	spCtaidY
	spCtaidZ
	spNctaidX
	spNctaidY
	spNctaidZ
	spLaneid
	spWarpid
	numSpecial
)

var specialNames = map[string]int{
	"%tid.x": spTidX, "%tid.y": spTidY, "%tid.z": spTidZ,
	"%ntid.x": spNtidX, "%ntid.y": spNtidY, "%ntid.z": spNtidZ,
	"%ctaid.x": spCtaidX, "%ctaid.y": spCtaidY, "%ctaid.z": spCtaidZ,
	"%nctaid.x": spNctaidX, "%nctaid.y": spNctaidY, "%nctaid.z": spNctaidZ,
	"%laneid": spLaneid, "%warpid": spWarpid,
}

// Load parses and checks PTX text and decodes every kernel in it. Errors
// read "LINE: message".
func Load(ptx string) (*Module, error) {
	mod, err := parse(ptx)
	if err != nil {
		return nil, err
	}
	if err := checkHeader(mod); err != nil {
		return nil, err
	}
	m := &Module{}
	for _, e := range mod.entries {
		if slices.ContainsFunc(m.kernels, func(k *Kernel) bool { return k.name == e.name }) {
			return nil, errorf(e.line, "duplicate kernel %s", e.name)
		}
		k, err := decodeEntry(mod, e)
		if err != nil {
			return nil, err
		}
		if err := k.validate(); err != nil {
			return nil, err
		}
		m.kernels = append(m.kernels, k)
	}
	return m, nil
}

func checkHeader(m *module) error {
	if m.version == "" {
		return errorf(1, "missing .version")
	}
	major, _, ok := strings.Cut(m.version, ".")
	if !ok || (major != "7" && major != "8") {
		return errorf(1, ".version %s is not supported (want 7.x or 8.x)", m.version)
	}
	switch m.target {
	case "sm_80", "sm_86", "sm_87", "sm_89", "sm_90", "sm_90a":
	case "":
		return errorf(1, "missing .target")
	default:
		return errorf(1, ".target %s is not supported (want sm_80 or sm_90)", m.target)
	}
	if m.addrSize != 64 {
		return errorf(1, "missing .address_size 64")
	}
	for i, d := range m.shared {
		for _, o := range m.shared[:i] {
			if o.name == d.name {
				return errorf(d.line, "duplicate shared variable %s", d.name)
			}
		}
	}
	return nil
}

// Kernels lists the kernel names in the order of the PTX text.
func (m *Module) Kernels() []string {
	names := make([]string, len(m.kernels))
	for i, k := range m.kernels {
		names[i] = k.name
	}
	return names
}

// Kernel returns the kernel with the given name.
func (m *Module) Kernel(name string) (*Kernel, error) {
	for _, k := range m.kernels {
		if k.name == name {
			return k, nil
		}
	}
	return nil, fmt.Errorf("sim: no kernel %q in module (have %s)", name, strings.Join(m.Kernels(), ", "))
}

// Name is the kernel's name.
func (k *Kernel) Name() string { return k.name }

// Params lists the names of the kernel's parameters.
func (k *Kernel) Params() []string { return slices.Clone(k.params) }

// StaticShared is the number of bytes of static shared memory a block uses.
func (k *Kernel) StaticShared() int { return k.static }

// Instructions is the number of decoded instructions.
func (k *Kernel) Instructions() int { return len(k.code) }

func dimString(d [3]int) string {
	parts := make([]string, 0, 3)
	for _, v := range d {
		if v > 0 {
			parts = append(parts, strconv.Itoa(v))
		}
	}
	return strings.Join(parts, ",")
}
