//go:build !amd64

package cpu

func avx2Kernels() (kernelSet, bool) { return kernelSet{}, false }
