package cli

import (
	"fmt"
	"runtime"

	"github.com/wrnc/wrnc/runtime/model"
	"github.com/wrnc/wrnc/runtime/sysmem"
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
	avail, from, ok := sysmem.Available()
	if !ok || need <= avail {
		return nil
	}
	return fmt.Errorf("%s needs %s (%s for the network's weights, statistics, arena and workspace%s, plus %s of data), but %s",
		spec.Name, sysmem.Bytes(need), sysmem.Bytes(machineBytes(spec, train)), map[bool]string{true: ", gradients and momentum", false: ""}[train],
		sysmem.Bytes(extra), fmt.Sprintf("only %s is available (%s)", sysmem.Bytes(avail), from))
}
