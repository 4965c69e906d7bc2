package gpu

import (
	"fmt"

	"github.com/wrnc/wrnc/runtime/sim"
)

// Sim is the sim device: the PTX simulator of runtime/sim on the CPU.
type Sim struct {
	mem     *sim.Memory
	kernels map[string]*sim.Kernel
}

// NewSim makes a sim device.
func NewSim() *Sim { return &Sim{mem: sim.NewMemory(), kernels: map[string]*sim.Kernel{}} }

// Name implements Device.
func (s *Sim) Name() string { return "sim (PTX simulator on the CPU)" }

// Load implements Device.
func (s *Sim) Load(ptx string) error {
	m, err := sim.Load(ptx)
	if err != nil {
		return fmt.Errorf("sim: loading PTX: %w", err)
	}
	for _, name := range m.Kernels() {
		k, err := m.Kernel(name)
		if err != nil {
			return err
		}
		s.kernels[name] = k
	}
	return nil
}

// Alloc implements Device.
func (s *Sim) Alloc(bytes int) (uint64, error) { return s.mem.Alloc(bytes) }

// Write implements Device.
func (s *Sim) Write(addr uint64, v []float32) error { return s.mem.WriteFloat32(addr, v) }

// Read implements Device.
func (s *Sim) Read(addr uint64, v []float32) error { return s.mem.ReadFloat32(addr, v) }

// Launch implements Device.
func (s *Sim) Launch(kernel string, grid, block [3]int, args []uint64) error {
	k := s.kernels[kernel]
	if k == nil {
		return fmt.Errorf("sim: no kernel %s is loaded", kernel)
	}
	return k.Launch(s.mem, sim.Dim3{X: grid[0], Y: grid[1], Z: grid[2]}, sim.Dim3{X: block[0], Y: block[1], Z: block[2]}, 0, args...)
}

// Close implements Device.
func (s *Sim) Close() error { return nil }
