package sim

import (
	"encoding/binary"
	"fmt"
	"math"
	"sync"
	"unsafe"
)

// memBase is the device address of the first byte of global memory. It is
// far above 4 GiB so that an address truncated to 32 bits is out of bounds.
const memBase = 1 << 40

// MaxMemory is the most global memory a Memory hands out.
const MaxMemory = 80 << 30

// allocAlign is the alignment of every allocation.
const allocAlign = 256

// Memory is the device's global memory: one flat, growable byte space.
// Allocations are 256-byte aligned and never freed (a network's whole plan is
// one arena). Addresses in [Base, Base+Used) are valid for kernels, including
// the padding between allocations. Memory is safe for concurrent use; a
// launch holds it for reading, so Alloc, Write and Read wait for launches.
type Memory struct {
	mu   sync.RWMutex
	buf  []byte // len(buf) == used; cap(buf) is 8-byte aligned storage
	used int
}

// NewMemory returns an empty global memory.
func NewMemory() *Memory { return &Memory{} }

// Base is the device address of the start of global memory.
func (m *Memory) Base() uint64 { return memBase }

// Used is the number of bytes from Base to the end of the last allocation.
func (m *Memory) Used() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.used
}

// Alloc reserves bytes of zeroed memory and returns its device address.
func (m *Memory) Alloc(bytes int) (uint64, error) {
	if bytes < 0 {
		return 0, fmt.Errorf("sim: negative allocation size %d", bytes)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	start := alignUp(m.used, allocAlign)
	if bytes > MaxMemory-start {
		return 0, fmt.Errorf("sim: allocating %d bytes exceeds the device memory of %d bytes (%d in use)", bytes, MaxMemory, m.used)
	}
	end := start + bytes
	if end > cap(m.buf) {
		nc := max(end, 2*cap(m.buf), 1<<12)
		if nc > MaxMemory {
			nc = end
		}
		nb := alignedBytes(nc)
		copy(nb, m.buf)
		m.buf = nb[:len(m.buf)]
	}
	m.buf = m.buf[:end]
	m.used = end
	return memBase + uint64(start), nil
}

// alignedBytes allocates n zero bytes aligned to 8 bytes, so that 4- and
// 8-byte atomics on aligned device addresses are aligned in host memory.
func alignedBytes(n int) []byte {
	words := make([]uint64, (n+7)/8)
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(words))), n)
}

// span checks that [addr, addr+n) is allocated and returns its offset.
func (m *Memory) span(addr uint64, n int, what string) (int, error) {
	off := addr - memBase
	if addr < memBase || off > uint64(m.used) || uint64(m.used)-off < uint64(n) {
		return 0, fmt.Errorf("sim: %s of %d bytes at 0x%x is outside device memory [0x%x, 0x%x)", what, n, addr, uint64(memBase), memBase+uint64(m.used))
	}
	return int(off), nil
}

// WriteBytes copies b to device memory at addr.
func (m *Memory) WriteBytes(addr uint64, b []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	off, err := m.span(addr, len(b), "write")
	if err != nil {
		return err
	}
	copy(m.buf[off:], b)
	return nil
}

// ReadBytes copies device memory at addr into b.
func (m *Memory) ReadBytes(addr uint64, b []byte) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	off, err := m.span(addr, len(b), "read")
	if err != nil {
		return err
	}
	copy(b, m.buf[off:])
	return nil
}

// WriteFloat32 stores v (little-endian) at addr.
func (m *Memory) WriteFloat32(addr uint64, v []float32) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	off, err := m.span(addr, 4*len(v), "write")
	if err != nil {
		return err
	}
	for i, f := range v {
		binary.LittleEndian.PutUint32(m.buf[off+4*i:], math.Float32bits(f))
	}
	return nil
}

// ReadFloat32 loads len(v) float32 values from addr.
func (m *Memory) ReadFloat32(addr uint64, v []float32) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	off, err := m.span(addr, 4*len(v), "read")
	if err != nil {
		return err
	}
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(m.buf[off+4*i:]))
	}
	return nil
}

// WriteUint32 stores v (little-endian) at addr.
func (m *Memory) WriteUint32(addr uint64, v []uint32) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	off, err := m.span(addr, 4*len(v), "write")
	if err != nil {
		return err
	}
	for i, x := range v {
		binary.LittleEndian.PutUint32(m.buf[off+4*i:], x)
	}
	return nil
}

// ReadUint32 loads len(v) uint32 values from addr.
func (m *Memory) ReadUint32(addr uint64, v []uint32) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	off, err := m.span(addr, 4*len(v), "read")
	if err != nil {
		return err
	}
	for i := range v {
		v[i] = binary.LittleEndian.Uint32(m.buf[off+4*i:])
	}
	return nil
}
