package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/wrnc/wrnc/compiler/ir"
	"github.com/wrnc/wrnc/runtime/ckpt"
	"github.com/wrnc/wrnc/runtime/contract"
	"github.com/wrnc/wrnc/runtime/cpu"
	"github.com/wrnc/wrnc/runtime/nn"
)

func runTune(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("tune", "FILE.wrn [-o FILE.tune.json] [--threads N] [--reps N] [--margin F]",
		`Measure, on this machine, every CPU method that computes the forward pass of each
convolution of the network at each batch its binary runs (the compiled batch, and batch 1
for inference), on random data, with as many floats as the network has weights written
between runs (its other layers' traffic), and write the
fastest to a tune file; 'wrnc compile --tune FILE.tune.json' then takes those methods in
place of the selection rules. A method replaces the rules' choice only when it is faster
by more than --margin. Tune on the machine and thread count the binary will run with.`, stdout)
	out := fs.String("o", "", "the tune file to write (default: FILE.tune.json beside FILE.wrn)")
	threads := fs.Int("threads", runtime.NumCPU(), "threads to measure with (the binary's --threads)")
	reps := fs.Int("reps", 5, "timed runs of each method (the median counts)")
	margin := fs.Float64("margin", 0.05, "the fraction by which a method must beat the rules' choice to replace it")
	files, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(files) != 1 {
		return &usageError{fmt.Sprintf("want one .wrn file, got %d", len(files))}
	}
	if *threads < 1 || *threads > 1024 {
		return &usageError{fmt.Sprintf("--threads %d: want 1 to 1024", *threads)}
	}
	if *reps < 1 || *reps > 1000 {
		return &usageError{fmt.Sprintf("--reps %d: want 1 to 1000", *reps)}
	}
	if *margin < 0 || *margin >= 1 {
		return &usageError{fmt.Sprintf("--margin %g: want 0 <= F < 1", *margin)}
	}
	p, err := load(files[0])
	if err != nil {
		return err
	}
	path := *out
	if path == "" {
		path = strings.TrimSuffix(files[0], filepath.Ext(files[0])) + ".tune.json"
	}
	convs := tuneQueries(p)
	// Between runs, write about what the network's other layers read: its weights (and
	// the transforms of them that its methods read, here counted once).
	flush := 0
	for _, x := range p.Params {
		flush += ir.Prod(x.Shape)
	}
	pool := cpu.NewPool(*threads)
	defer pool.Close()
	gemm := cpu.NewGemm(pool)
	tf := &contract.TuneFile{Format: contract.TuneFormat, Network: p.Name, CPU: cpuModel(), Features: cpu.NewKernels().Name(), Threads: *threads}
	fmt.Fprintf(stderr, "tuning %d convolutions of %s on %d threads (%s, %s kernels)\n", len(convs), p.Name, *threads, tf.CPU, tf.Features)
	for i, q := range convs {
		c := q.conv
		ctx := nn.NewCtx(pool, gemm, nn.WorkspaceFor(c))
		t := contract.TunedConv{Conv: c, Batch: q.batch, Rule: q.rule, Micros: map[string]float64{}}
		best, bestT := q.rule, time.Duration(0)
		var ruleT time.Duration
		for _, sel := range c.ForwardCandidates() {
			d, err := nn.TimeForward(ctx, &c, q.batch, sel, q.pre, *reps, flush)
			if err != nil {
				return fmt.Errorf("wrnc tune: %s at batch %d by %s: %w", q.name, q.batch, sel.Label(), err)
			}
			t.Micros[sel.Label()] = float64(d.Nanoseconds()) / 1e3
			if sel == q.rule {
				ruleT = d
			}
			if bestT == 0 || d < bestT {
				best, bestT = sel, d
			}
		}
		t.Choice = q.rule
		if ruleT == 0 || float64(bestT) < (1-*margin)*float64(ruleT) {
			t.Choice = best
		}
		tf.Convs = append(tf.Convs, t)
		mark := ""
		if t.Choice != q.rule {
			mark = fmt.Sprintf(" (rules: %s, %.0f µs)", q.rule.Label(), t.Micros[q.rule.Label()])
		}
		fmt.Fprintf(stderr, "[%d/%d] %s %dx%dx%d -> %d, %dx%d/%d, batch %d: %s %.0f µs%s\n", i+1, len(convs), q.name,
			c.C, c.H, c.W, c.K, c.R, c.R, c.S, q.batch, t.Choice.Label(), t.Micros[t.Choice.Label()], mark)
	}
	data, err := json.MarshalIndent(tf, "", "  ")
	if err != nil {
		return err
	}
	if err := ckpt.WriteFileAtomic(path, func(w io.Writer) error { _, err := w.Write(append(data, '\n')); return err }); err != nil {
		return fmt.Errorf("wrnc tune: %w", err)
	}
	fmt.Fprintf(stderr, "wrote %s; build with: wrnc compile %s --tune %s\n", path, files[0], path)
	return nil
}

// tuneQuery is one convolution at one batch of a phase, as the rules chose it.
type tuneQuery struct {
	name  string
	conv  contract.Conv
	batch int
	pre   bool // the input is loaded through a BN-ReLU
	rule  contract.Selection
}

// tuneQueries lists the distinct (convolution, batch) pairs of p's forward passes, in
// the order the phases run them.
func tuneQueries(p *ir.Program) []tuneQuery {
	var out []tuneQuery
	seen := map[[2]any]bool{}
	for _, ph := range p.Phases {
		for _, st := range ph.Steps {
			if st.Kind != ir.SConvFwd {
				continue
			}
			c := p.Conv(st.K)
			key := [2]any{c, ph.Batch}
			if seen[key] {
				continue
			}
			seen[key] = true
			out = append(out, tuneQuery{name: st.K.Name, conv: c, batch: ph.Batch, pre: st.Pre != nil, rule: st.Sel})
		}
	}
	return out
}

// cpuModel returns this machine's CPU model name (Linux's /proc/cpuinfo), or the
// architecture where there is none.
func cpuModel() string {
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				return strings.TrimSpace(v)
			}
		}
	}
	return runtime.GOARCH
}
