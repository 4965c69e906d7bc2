package cli

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"slices"
	"time"

	"github.com/wrnc/wrnc/runtime/model"
	"github.com/wrnc/wrnc/runtime/optim"
)

const benchAbout = `Measure the speed of inference and of one training step (forward, backward and
SGD update at the compiled batch size) on random weights and random normal inputs. Each
figure is the median of several timed runs after a warm-up; GFLOP/s counts 2 x MACs x
images/s, and a training step 3x the forward MACs. Without --batch, inference is measured
at batch 1 and at the compiled batch (--json reports the compiled batch).
--json prints {"device", "threads", "batch", "inference": {"images_per_sec", "gflops"},
"train": {"images_per_sec", "gflops", "launches_per_step", "syncs_per_step",
"h2d_bytes_per_step", "d2h_bytes_per_step"}}: what one training step asks of the device
(kernel launches, synchronizations, bytes copied each way; 0 on the CPU).`

// Timing: every run repeats the work until it takes at least benchRunTime, and the
// figure is the median of benchRuns runs (benchRunsSlow when one call exceeds benchSlow).
const (
	benchRunTime  = 200 * time.Millisecond
	benchRuns     = 5
	benchRunsSlow = 3
	benchSlow     = 2 * time.Second
)

// speed is one measured figure.
type speed struct {
	ImagesPerSec float64 `json:"images_per_sec"`
	GFLOPS       float64 `json:"gflops"`
}

// trainSpeed is the figure of a training step and what it asks of the device.
type trainSpeed struct {
	speed
	LaunchesPerStep float64 `json:"launches_per_step"`
	SyncsPerStep    float64 `json:"syncs_per_step"`
	H2DBytesPerStep float64 `json:"h2d_bytes_per_step"`
	D2HBytesPerStep float64 `json:"d2h_bytes_per_step"`
}

// benchResult is the JSON form of bench.
type benchResult struct {
	Device    string     `json:"device"`
	Threads   int        `json:"threads"`
	Batch     int        `json:"batch"`
	Inference speed      `json:"inference"`
	Train     trainSpeed `json:"train"`
}

// counters is what net's device has done so far (zero on the CPU).
func counters(net model.Net) model.Counters {
	if c, ok := net.(model.Counted); ok {
		return c.Counters()
	}
	return model.Counters{}
}

func runBench(c *cmd) func() error {
	batch := c.fs.Int("batch", 0, "inference batch `N` (default: 1 and the compiled batch)")
	asJSON := c.fs.Bool("json", false, "print the figures as one JSON object")
	profile := c.fs.String("cpuprofile", "", "write a CPU profile of the measurements to `FILE` (go tool pprof reads it)")
	only := c.fs.String("only", "", "measure only `PHASE`: inference or training (default: both; the other figures are then 0 in --json)")
	c.computeFlags()
	return func() error {
		if err := c.noArgs(); err != nil {
			return err
		}
		if *batch < 0 {
			return usagef("--batch must be at least 1, got %d", *batch)
		}
		if *only != "" && *only != "inference" && *only != "training" {
			return usagef("--only must be inference or training, got %q", *only)
		}
		if *profile != "" {
			f, err := os.Create(*profile)
			if err != nil {
				return err
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				f.Close()
				return err
			}
			defer f.Close()
			defer pprof.StopCPUProfile()
		}
		return bench(c, *batch, *asJSON, *only)
	}
}

func bench(c *cmd, batch int, asJSON bool, only string) error {
	spec := c.net.Spec()
	batches := []int{batch}
	switch {
	case batch == 0 && asJSON:
		batches = []int{spec.Batch}
	case batch == 0 && spec.Batch > 1:
		batches = []int{1, spec.Batch}
	case batch == 0:
		batches = []int{1}
	}
	if err := c.reserve(true, 4*int64(max(slices.Max(batches), spec.Batch))*int64(spec.Input[0]*spec.Input[1]*spec.Input[2]+spec.Classes)); err != nil {
		return fmt.Errorf("bench at batch %d: %w", slices.Max(batches), err)
	}
	m := newMachine(c.net, c.threads, true)
	defer m.close()
	if err := optim.Init(spec, m.st.Params, m.st.Stats, 1); err != nil {
		return err
	}
	if err := c.net.Loaded(m.st); err != nil {
		return err
	}
	d, k := m.imageSize(), spec.Classes
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, max(slices.Max(batches), spec.Batch)*d)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	labels := make([]int32, spec.Batch)
	for i := range labels {
		labels[i] = int32(rng.IntN(k))
	}
	res := benchResult{Device: c.device, Threads: c.threads, Batch: batches[len(batches)-1]}
	var lines []string
	if only == "training" {
		batches = nil
	}
	for _, b := range batches {
		fmt.Fprintf(c.env.Stderr, "measuring inference at batch %d ...\n", b)
		logits := make([]float32, b*k)
		var inferErr error
		sec := measure(func() { inferErr = m.infer(b, x, logits) })
		if inferErr != nil {
			return inferErr
		}
		res.Inference = speed{ImagesPerSec: float64(b) / sec}
		res.Inference.GFLOPS = gflops(spec.MACs, res.Inference.ImagesPerSec)
		lines = append(lines, fmt.Sprintf("inference  batch %-5d %10.1f images/s %8.1f GFLOP/s", b, res.Inference.ImagesPerSec, res.Inference.GFLOPS))
	}
	if only != "inference" {
		line, err := benchTrain(c, m, &res, x[:spec.Batch*d], labels)
		if err != nil {
			return err
		}
		lines = append(lines, line)
	}
	if asJSON {
		b, err := json.Marshal(res)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(c.env.Stdout, string(b))
		return err
	}
	fmt.Fprintf(c.env.Stdout, "%s on cpu, %d threads, %.3f GMAC per image forward\n", spec.Name, c.threads, float64(spec.MACs)/1e9)
	for _, l := range lines {
		fmt.Fprintln(c.env.Stdout, l)
	}
	return nil
}

// gflops is 2 x macs x images per second, in GFLOP/s.
func gflops(macs int64, imagesPerSec float64) float64 {
	return 2 * float64(macs) * imagesPerSec / 1e9
}

// benchTrain measures a training step at the compiled batch on images x, into res.Train,
// and returns the line that reports it.
func benchTrain(c *cmd, m *machine, res *benchResult, x []float32, labels []int32) (string, error) {
	spec := c.net.Spec()
	fmt.Fprintf(c.env.Stderr, "measuring a training step at batch %d ...\n", spec.Batch)
	r := spec.Recipe
	// A zero learning rate: the update costs the same and the weights stay put.
	h := model.Hyper{Momentum: r.Momentum, Dampening: r.Dampening, WeightDecay: r.WeightDecay, Nesterov: r.Nesterov}
	var stepErr error
	steps := 0
	step := func() {
		if _, err := c.net.TrainStep(m.st, spec.Batch, x, labels, h); err != nil {
			stepErr = err
		}
		steps++
	}
	step() // the first step also uploads the weights to a device
	c0, s0 := counters(c.net), steps
	sec := measure(step)
	if stepErr != nil {
		return "", stepErr
	}
	c1, per := counters(c.net), float64(steps-s0)
	res.Train = trainSpeed{speed: speed{ImagesPerSec: float64(spec.Batch) / sec},
		LaunchesPerStep: float64(c1.Launches-c0.Launches) / per, SyncsPerStep: float64(c1.Syncs-c0.Syncs) / per,
		H2DBytesPerStep: float64(c1.H2DBytes-c0.H2DBytes) / per, D2HBytesPerStep: float64(c1.D2HBytes-c0.D2HBytes) / per}
	res.Train.GFLOPS = gflops(3*spec.MACs, res.Train.ImagesPerSec) // training counts 3x the forward MACs
	return fmt.Sprintf("training   batch %-5d %10.1f images/s %8.1f GFLOP/s (forward, backward, SGD step)", spec.Batch, res.Train.ImagesPerSec, res.Train.GFLOPS), nil
}

// measure returns the seconds one call of f takes: the median of several timed runs
// after a warm-up call, each run repeating f until it lasts benchRunTime. The repeats are
// sized on a second call: the first one's page faults and workspace growth made it
// several times slower than the rest (WRN-16-4 at batch 1: 7 repeats a run instead of
// some 60, runs of 25 ms at the mercy of any neighbour on the machine).
func measure(f func()) float64 {
	f()
	t0 := time.Now()
	f()
	one := time.Since(t0)
	reps := 1
	if one < benchRunTime {
		reps = int(benchRunTime/max(one, time.Microsecond)) + 1
	}
	runs := benchRuns
	if one > benchSlow {
		runs = benchRunsSlow
	}
	times := make([]float64, runs)
	for r := range times {
		t := time.Now()
		for range reps {
			f()
		}
		times[r] = time.Since(t).Seconds() / float64(reps)
	}
	slices.Sort(times)
	return times[len(times)/2]
}
