package sysmem

import (
	"strings"
	"testing"
)

func TestAvailableAndCheck(t *testing.T) {
	avail, from, ok := Available()
	if !ok || avail <= 0 || from == "" {
		t.Fatalf("Available() = %d, %q, %v: this Linux machine has /proc/meminfo", avail, from, ok)
	}
	if err := Check("a small buffer", 1<<20); err != nil {
		t.Errorf("1 MiB: %v", err)
	}
	err := Check("a huge buffer", 1<<60)
	if err == nil || !strings.Contains(err.Error(), "a huge buffer needs 1048576.0 TiB") {
		t.Errorf("1 EiB: %v", err)
	}
	if err == nil || !strings.Contains(err.Error(), "is available ("+from+")") {
		t.Errorf("the message does not say what is available and from where: %v", err)
	}
}

func TestBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 3 << 29: "1.5 GiB"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestTotal(t *testing.T) {
	total, ok := Total()
	avail, _, _ := Available()
	if !ok || total < avail || total < 1<<26 {
		t.Errorf("Total() = %d, %v; available %d", total, ok, avail)
	}
}
