// Package sysmem says how much memory this process may still allocate, so that a reader or
// a command can refuse an input whose allocation cannot fit with a message that names the
// sizes, instead of dying in Go's fatal out-of-memory.
package sysmem

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Available is what this process may still allocate: the kernel's MemAvailable, or
// the cgroup's limit less its usage when that is lower. ok is false where neither is known.
func Available() (bytes int64, from string, ok bool) {
	if v, ok := meminfo("MemAvailable"); ok {
		bytes, from = v, "MemAvailable in /proc/meminfo"
	}
	if limit, ok := readInt("/sys/fs/cgroup/memory.max"); ok {
		used, _ := readInt("/sys/fs/cgroup/memory.current")
		if left := limit - used; from == "" || left < bytes {
			bytes, from = max(left, 0), "the cgroup's memory.max less memory.current"
		}
	}
	return bytes, from, from != ""
}

// Total is the machine's memory (MemTotal of /proc/meminfo); ok is false where unknown.
func Total() (int64, bool) { return meminfo("MemTotal") }

// meminfo reads a field of /proc/meminfo in bytes.
func meminfo(field string) (int64, bool) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != field {
			continue
		}
		fs := strings.Fields(v)
		if len(fs) == 0 {
			return 0, false
		}
		n, err := strconv.ParseInt(fs[0], 10, 64)
		if err != nil {
			return 0, false
		}
		if len(fs) > 1 && fs[1] == "kB" {
			n *= 1024
		}
		return n, true
	}
	return 0, false
}

// readInt reads a file holding one integer ("max" and other words read as unknown).
func readInt(path string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return n, err == nil
}

// Check returns an error naming what, need and what is available when need bytes cannot
// be allocated now; nil when they can or when the available memory is unknown.
func Check(what string, need int64) error {
	avail, from, ok := Available()
	if !ok || need <= avail {
		return nil
	}
	return fmt.Errorf("%s needs %s, but only %s is available (%s)", what, Bytes(need), Bytes(avail), from)
}

// Bytes prints a byte count in the largest binary unit that keeps it at least 1.
func Bytes(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	v, i := float64(n), 0
	for v >= 1024 && i < len(units)-1 {
		v, i = v/1024, i+1
	}
	if i == 0 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}
