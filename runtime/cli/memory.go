package cli

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/wrnc/wrnc/runtime/model"
)

// maxThreadsPerCore caps --threads: more threads than this many per core only add memory
// (each has its own stacks and scratch) and switching.
const maxThreadsPerCore = 4

// capThreads returns the thread count to use for n (n >= 1), with a note when it was capped.
func capThreads(n int) (int, string) {
	limit := maxThreadsPerCore * runtime.NumCPU()
	if n <= limit {
		return n, ""
	}
	return limit, fmt.Sprintf("--threads %d is more than %d per core on this machine's %d cores; using %d", n, maxThreadsPerCore, runtime.NumCPU(), limit)
}

// machineBytes is what newMachine allocates for spec: parameters and running statistics,
// gradients and momentum when training, the arena and the kernels' workspace.
func machineBytes(spec *model.Spec, train bool) int64 {
	floats := int64(spec.ParamsSize) + int64(spec.StatsSize) + int64(spec.Workspace) + int64(max(spec.InferArena, spec.Infer1Arena))
	if train {
		floats += 2*int64(spec.ParamsSize) + max(0, int64(spec.TrainArena)-int64(max(spec.InferArena, spec.Infer1Arena)))
	}
	return 4 * floats
}

// reserve checks that the machine for what (train, eval, ...) and extra bytes of input and
// output fit in the memory this process may use, so that a network or a batch too large
// for the machine ends in a message that names the sizes, not in Go's fatal out-of-memory.
func (c *cmd) reserve(train bool, extra int64) error {
	spec := c.net.Spec()
	need := machineBytes(spec, train) + extra
	avail, from, ok := availableMemory()
	if !ok || need <= avail {
		return nil
	}
	return fmt.Errorf("%s needs %s (%s for the network's weights, statistics, arena and workspace%s, plus %s of data), but %s",
		spec.Name, bytesString(need), bytesString(machineBytes(spec, train)), map[bool]string{true: ", gradients and momentum", false: ""}[train],
		bytesString(extra), fmt.Sprintf("only %s is available (%s)", bytesString(avail), from))
}

// availableMemory is what this process may still allocate: the kernel's MemAvailable, or
// the cgroup's limit less its usage when that is lower. ok is false where neither is known.
func availableMemory() (bytes int64, from string, ok bool) {
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
