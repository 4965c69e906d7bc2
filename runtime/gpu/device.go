// Package gpu runs a network's generated PTX kernels on a device: the PTX simulator (the
// sim device, on every machine) or an NVIDIA GPU through the CUDA driver API (the cuda
// device, in binaries built with the cuda tag). A network's GPU code is data: its PTX
// module and, for every entry point of model.Net, the list of kernel launches with their
// arguments; Net runs those lists and implements model.Net on top of a Device.
package gpu

// Device is a GPU or its simulator: one flat device memory, loaded PTX kernels, launches.
type Device interface {
	// Name is the device's --device name and a description, e.g. "sim" or "cuda (NVIDIA H100)".
	Name() string
	// Load loads a PTX module; its kernels become launchable by name.
	Load(ptx string) error
	// Alloc returns the device address of bytes of fresh, zeroed device memory.
	Alloc(bytes int) (uint64, error)
	// Write and Read copy float32s between the host and device memory at addr.
	Write(addr uint64, v []float32) error
	Read(addr uint64, v []float32) error
	// Launch runs a kernel; every argument is 8 bytes.
	Launch(kernel string, grid, block [3]int, args []uint64) error
	// Close releases the device.
	Close() error
}
