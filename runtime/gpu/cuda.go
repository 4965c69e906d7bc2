//go:build cuda

package gpu

import (
	"fmt"
	"runtime"
	"unsafe"

	"gorgonia.org/cu"
)

// CUDA is the cuda device: one NVIDIA GPU through the driver API. Its context lives on one
// locked OS thread; every call runs there.
type CUDA struct {
	work  chan func()
	name  string
	ctx   cu.CUContext
	mods  []cu.Module
	funcs map[string]cu.Function
	mem   []cu.DevicePtr
}

// CUDAAvailable reports whether a GPU is present (the driver initialised when the binary
// started: a cuda binary does not start without libcuda).
func CUDAAvailable() bool {
	n, err := cu.NumDevices()
	return err == nil && n > 0
}

// NewCUDA opens GPU 0.
func NewCUDA() (*CUDA, error) {
	c := &CUDA{work: make(chan func()), funcs: map[string]cu.Function{}}
	ready := make(chan error)
	go func() {
		runtime.LockOSThread()
		dev, err := cu.GetDevice(0)
		if err == nil {
			c.name, _ = dev.Name()
			c.ctx, err = dev.MakeContext(cu.SchedAuto)
		}
		ready <- err
		if err != nil {
			return
		}
		for f := range c.work {
			f()
		}
	}()
	if err := <-ready; err != nil {
		return nil, fmt.Errorf("cuda: opening GPU 0: %w", err)
	}
	return c, nil
}

// do runs f on the context's thread.
func (c *CUDA) do(f func() error) error {
	done := make(chan error)
	c.work <- func() { done <- f() }
	return <-done
}

// Name implements Device.
func (c *CUDA) Name() string { return "cuda (" + c.name + ")" }

// Load implements Device.
func (c *CUDA) Load(ptx string) error {
	return c.do(func() error {
		m, err := cu.LoadData(ptx)
		if err != nil {
			return fmt.Errorf("cuda: loading PTX: %w", err)
		}
		c.mods = append(c.mods, m)
		return nil
	})
}

// Alloc implements Device.
func (c *CUDA) Alloc(bytes int) (uint64, error) {
	var p cu.DevicePtr
	err := c.do(func() error {
		var err error
		if p, err = cu.MemAlloc(int64(bytes)); err != nil {
			return err
		}
		c.mem = append(c.mem, p)
		return cu.MemsetD32(p, 0, int64(bytes/4))
	})
	return uint64(p), err
}

// Write implements Device.
func (c *CUDA) Write(addr uint64, v []float32) error {
	return c.do(func() error {
		return cu.MemcpyHtoD(cu.DevicePtr(addr), unsafe.Pointer(&v[0]), int64(4*len(v)))
	})
}

// Read implements Device.
func (c *CUDA) Read(addr uint64, v []float32) error {
	return c.do(func() error {
		return cu.MemcpyDtoH(unsafe.Pointer(&v[0]), cu.DevicePtr(addr), int64(4*len(v)))
	})
}

// Launch implements Device: every argument is copied as 8 bytes.
func (c *CUDA) Launch(kernel string, grid, block [3]int, args []uint64) error {
	return c.do(func() error {
		fn, ok := c.funcs[kernel]
		if !ok {
			var err error
			for _, m := range c.mods {
				if fn, err = m.Function(kernel); err == nil {
					ok = true
					break
				}
			}
			if !ok {
				return fmt.Errorf("no kernel %s is loaded", kernel)
			}
			c.funcs[kernel] = fn
		}
		params := make([]unsafe.Pointer, len(args))
		for i := range args {
			params[i] = unsafe.Pointer(&args[i])
		}
		// No synchronization: the next copy back to the host waits for the launches
		// before it (the default stream), and reports a failure of any of them.
		return fn.Launch(grid[0], grid[1], grid[2], block[0], block[1], block[2], 0, cu.Stream{}, params)
	})
}

// Close implements Device.
func (c *CUDA) Close() error {
	err := c.do(func() error {
		for _, p := range c.mem {
			cu.MemFree(p)
		}
		for _, m := range c.mods {
			m.Unload()
		}
		return c.ctx.Destroy()
	})
	close(c.work)
	return err
}
