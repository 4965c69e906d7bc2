package cli

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/wrnc/wrnc/runtime/sysmem"
)

// TestThreadsCapped checks that a thread count far past the cores is capped, with a note,
// and that the capped count is the one used.
func TestThreadsCapped(t *testing.T) {
	code, out, stderr := run(t, newTinyNet(), "bench", "--json", "--batch", "2", "--threads", "100000")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	limit := maxThreadsPerCore * runtime.NumCPU()
	if want := fmt.Sprintf("--threads 100000 is more than %d per core", maxThreadsPerCore); !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
	var r benchResult
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%q: %v", out, err)
	}
	if r.Threads != limit {
		t.Errorf("ran on %d threads, want the cap %d", r.Threads, limit)
	}
	if n, note := capThreads(limit); n != limit || note != "" {
		t.Errorf("capThreads(%d) = %d, %q; want it unchanged, without a note", limit, n, note)
	}
}

// TestReserveRefusesTooLarge checks that a batch larger than the machine's memory is
// refused with the sizes before anything is allocated, instead of Go's fatal out-of-memory.
func TestReserveRefusesTooLarge(t *testing.T) {
	if _, _, ok := sysmem.Available(); !ok {
		t.Fatal("neither /proc/meminfo nor the cgroup says how much memory is available")
	}
	code, _, stderr := run(t, newTinyNet(), "bench", "--batch", "100000000000", "--threads", "1")
	if code == 0 {
		t.Fatal("bench at batch 1e11 ran")
	}
	for _, want := range []string{"bench at batch 100000000000", "needs", "GiB", "available"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "fatal error") || strings.Contains(stderr, "goroutine") {
		t.Errorf("crashed:\n%s", stderr)
	}
}
