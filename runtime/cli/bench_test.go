package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestBench(t *testing.T) {
	net := newTinyNet()
	t.Run("json", func(t *testing.T) {
		out := mustRun(t, net, "bench", "--json", "--threads", "2", "--batch", "3")
		var fields map[string]any
		if err := json.Unmarshal([]byte(out), &fields); err != nil {
			t.Fatalf("bench --json printed %q: %v", out, err)
		}
		keys := map[string]bool{}
		for k, v := range fields {
			keys[k] = true
			if sub, ok := v.(map[string]any); ok {
				for k2, v2 := range sub {
					keys[k+"."+k2] = true
					if x, _ := v2.(float64); !(x > 0) && !strings.HasSuffix(k2, "_per_step") {
						t.Errorf("%s.%s = %v, want > 0", k, k2, v2)
					}
				}
			}
		}
		want := map[string]bool{"device": true, "threads": true, "batch": true, "inference": true, "train": true,
			"inference.images_per_sec": true, "inference.gflops": true, "train.images_per_sec": true, "train.gflops": true,
			"train.launches_per_step": true, "train.syncs_per_step": true, "train.h2d_bytes_per_step": true, "train.d2h_bytes_per_step": true}
		if diff := cmp.Diff(want, keys); diff != "" {
			t.Fatalf("fields (-want +got):\n%s", diff)
		}
		var r benchResult
		json.Unmarshal([]byte(out), &r)
		if r.Device != "cpu" || r.Threads != 2 || r.Batch != 3 {
			t.Errorf("device %q threads %d batch %d, want cpu 2 3", r.Device, r.Threads, r.Batch)
		}
		// gflops = 2 x MACs x images/s (x3 for training).
		for _, s := range []struct {
			sp     speed
			factor float64
		}{{r.Inference, 2}, {r.Train.speed, 6}} {
			if want := s.factor * float64(net.spec.MACs) * s.sp.ImagesPerSec / 1e9; !closeRel(s.sp.GFLOPS, want, 1e-9) {
				t.Errorf("gflops %g, want %g", s.sp.GFLOPS, want)
			}
		}
	})
	t.Run("cpu counts no transfers", func(t *testing.T) {
		out := mustRun(t, net, "bench", "--json", "--threads", "1")
		var r benchResult
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		if tr := r.Train; tr.LaunchesPerStep != 0 || tr.SyncsPerStep != 0 || tr.H2DBytesPerStep != 0 || tr.D2HBytesPerStep != 0 {
			t.Errorf("the cpu device reports device work per step: %+v", tr)
		}
	})
	t.Run("only", func(t *testing.T) {
		out := mustRun(t, net, "bench", "--threads", "1", "--only", "inference")
		if !strings.Contains(out, "inference  batch 8 ") || strings.Contains(out, "training") {
			t.Errorf("bench --only inference:\n%s", out)
		}
		out = mustRun(t, net, "bench", "--threads", "1", "--only", "training")
		if !strings.Contains(out, "training   batch 8 ") || strings.Contains(out, "inference") {
			t.Errorf("bench --only training:\n%s", out)
		}
	})
	t.Run("text", func(t *testing.T) {
		out := mustRun(t, net, "bench", "--threads", "1")
		for _, want := range []string{"TINY-1 on cpu, 1 threads", "inference  batch 1 ", "inference  batch 8 ", "training   batch 8 "} {
			if !strings.Contains(out, want) {
				t.Errorf("bench output lacks %q:\n%s", want, out)
			}
		}
	})
}

func closeRel(a, b, tol float64) bool {
	d := a - b
	if d < 0 {
		d = -d
	}
	return d <= tol*max(1e-300, b, -b)
}
