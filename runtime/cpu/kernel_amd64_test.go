package cpu

import (
	"os"
	"strings"
	"testing"
)

// TestDetectMatchesCPUInfo checks the CPUID/XGETBV probe against the flags
// that Linux reports for the first processor (the kernel also masks out
// features that the OS does not enable).
func TestDetectMatchesCPUInfo(t *testing.T) {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skip("no /proc/cpuinfo:", err)
	}
	flags := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		if name, list, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "flags" {
			for _, f := range strings.Fields(list) {
				flags[f] = true
			}
			break
		}
	}
	if len(flags) == 0 {
		t.Skip("no flags line in /proc/cpuinfo")
	}
	got := detect()
	if got.avx2 != flags["avx2"] || got.fma != flags["fma"] || got.avx512f != flags["avx512f"] {
		t.Errorf("detect() = %+v, /proc/cpuinfo has avx2=%v fma=%v avx512f=%v",
			got, flags["avx2"], flags["fma"], flags["avx512f"])
	}
	_, ok := kernelsFor(kernelAVX2)
	if want := flags["avx2"] && flags["fma"]; ok != want {
		t.Errorf("AVX2 kernels available = %v, want %v", ok, want)
	}
	_, ok = kernelsFor(kernelAVX512)
	if want := flags["avx512f"] && flags["avx2"] && flags["fma"]; ok != want {
		t.Errorf("AVX-512 kernels available = %v, want %v", ok, want)
	}
}
