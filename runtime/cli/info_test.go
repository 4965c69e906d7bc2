package cli

import (
	"strings"
	"testing"

	"github.com/wrnc/wrnc/runtime/sysmem"
)

func TestInfo(t *testing.T) {
	net := newTinyNet()
	t.Run("text", func(t *testing.T) {
		out := mustRun(t, net, "info")
		for _, want := range []string{
			"network     TINY-1\n",
			"input       1x4x4",
			"classes     3\n",
			"params      51 trainable (+ 2 running statistics) in 4 tensors",
			"MACs        48 per image",
			"peak bytes  1,234",
			"training arena 704 B at batch 8, inference 96 B at batch 8, 12 B at batch 1",
			"sgd lr=0.1 momentum=0.9 nesterov=true weight_decay=0.0005 dampening=0; schedule step gamma=0.2 at=2; augment flip; normalize meanstd; seed 1",
			"devices     cpu\n",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("info lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("json", func(t *testing.T) {
		if out := mustRun(t, net, "info", "--json"); out != net.spec.Info+"\n" {
			t.Errorf("info --json = %q, want Spec.Info %q", out, net.spec.Info)
		}
	})
}

func TestGroupAndBytes(t *testing.T) {
	tests := []struct {
		n           int64
		group, size string
	}{
		{0, "0", "0 B"},
		{999, "999", "999 B"},
		{1000, "1,000", "1000 B"},
		{2748890, "2,748,890", "2.6 MiB"},
		{-1234567, "-1,234,567", "-1234567 B"},
		{5 << 30, "5,368,709,120", "5.0 GiB"},
	}
	for _, tc := range tests {
		if g := group(tc.n); g != tc.group {
			t.Errorf("group(%d) = %q, want %q", tc.n, g, tc.group)
		}
		if s := sysmem.Bytes(tc.n); s != tc.size {
			t.Errorf("sysmem.Bytes(%d) = %q, want %q", tc.n, s, tc.size)
		}
	}
}
