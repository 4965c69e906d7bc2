//go:build !amd64

package cpu

func avx2Kernels() (kernelSet, bool) { return kernelSet{}, false }

func avx512Kernels() (kernelSet, bool) { return kernelSet{}, false }

func avx2Wino() (winoSet, bool) { return winoSet{}, false }

func avx512Wino(*winoSet) {}

func avx2Stats() (statsSet, bool) { return statsSet{}, false }
func avx512Stats(*statsSet)       {}
