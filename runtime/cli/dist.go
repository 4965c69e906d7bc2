package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/wrnc/wrnc/runtime/ckpt"
	"github.com/wrnc/wrnc/runtime/dist"
	"github.com/wrnc/wrnc/runtime/progress"
)

// Data-parallel training (a binary built with `wrnc compile --dist mpi`, started by
// mpirun): every rank holds the whole network and the whole data set, rank 0's initial
// weights are broadcast, every rank trains on its shard of each global batch (Size times
// the compiled batch), the gradients are averaged before every update, the running
// statistics after every epoch, and the evaluation of the test split is shared out.
// Only rank 0 writes the run's files and progress.

// distWeightsEnv names a folder where, when set, every rank of a run writes its final
// weights and statistics as rank-R.safetensors (for tests that they are identical).
const distWeightsEnv = "WRNC_DIST_WEIGHTS"

// lead reports whether this process writes the run's files: the only one, or rank 0.
func (t *trainer) lead() bool { return t.comm == nil || t.comm.Rank() == 0 }

// ranks is the number of processes training together (1 without MPI).
func (t *trainer) ranks() int {
	if t.comm == nil {
		return 1
	}
	return t.comm.Size()
}

// trainDistributed runs train with the processes of comm, when there are several;
// a failure of any rank ends them all (MPI_Abort), with a message naming the rank.
func trainDistributed(c *cmd, o trainOpts, comm dist.Comm, train func(*cmd, trainOpts, dist.Comm) error) error {
	stderr := c.env.Stderr
	if comm.Rank() != 0 {
		c.env.Stdout, c.env.Stderr = io.Discard, io.Discard
	}
	err := func() error {
		if c.device != "cpu" {
			return fmt.Errorf("--device %s: data-parallel training runs on the CPU only in this version; pass --device cpu", c.device)
		}
		return train(c, o, comm)
	}()
	if err != nil {
		code := ExitRefused
		var st *stopped
		if errors.As(err, &st) {
			code = signalExit(st.sig)
		}
		fmt.Fprintf(stderr, "%s %s: rank %d of %d: %v; ending all ranks\n", c.env.Prog, c.verb.name, comm.Rank(), comm.Size(), err)
		comm.Abort(code)
		return err // Abort does not return from MPI; a Comm whose Abort does returns the error
	}
	return comm.Close()
}

// joinRanks makes the ranks start alike: rank 0's weights, running statistics and
// momentum buffers (its fresh initialisation, or the checkpoint every rank loaded) go to
// every rank, and the gradients of every step are averaged before the update. The counts
// of num_batches_tracked (imagenet family) need no broadcast: every rank loaded the same
// checkpoint, or none, and takes the same steps.
func (t *trainer) joinRanks(comm dist.Comm) error {
	t.comm = comm
	st := t.m.st
	t0 := time.Now()
	for _, buf := range [][]float32{st.Params, st.Stats, st.Momentum} {
		if err := comm.Broadcast(buf, 0); err != nil {
			return err
		}
		t.traffic.broadcastBytes += 4 * int64(len(buf))
	}
	t.traffic.broadcast = time.Since(t0)
	if err := t.reduceInBuckets(comm); err != nil {
		return err
	}
	return t.m.net.Loaded(st)
}

// reduceInBuckets sets the hooks of the training step that average the gradients
// over the ranks: with an Async Comm and --bucket-mb above 0, in buckets of that size
// from the end of the gradients (the last layers, whose gradients the backward pass
// finishes first), each started as soon as it is final (State.GradsReady) and all
// waited for before the update (State.ReduceGrads); otherwise one blocking allreduce
// after the backward pass.
func (t *trainer) reduceInBuckets(comm dist.Comm) error {
	st := t.m.st
	scale := 1 / float32(comm.Size())
	async, ok := comm.(dist.Async)
	size := int(t.o.bucketMB * 1e6 / 4)
	if !ok || size < 1 {
		st.ReduceGrads = func(g []float32) error {
			t0 := time.Now()
			err := comm.AllreduceSum(g)
			t.traffic.step.comm += time.Since(t0)
			t.traffic.step.bytes += 4 * int64(len(g))
			if err != nil {
				return err
			}
			for i := range g {
				g[i] *= scale
			}
			return nil
		}
		return nil
	}
	o := &overlap{scale: scale, tr: &t.traffic}
	for hi := len(st.Grads); hi > 0; hi -= size {
		lo := max(hi-size, 0)
		b, err := async.NewBucket(hi - lo)
		if err != nil {
			o.free()
			return err
		}
		o.buckets = append(o.buckets, bucket{lo: lo, hi: hi, b: b})
	}
	t.overlap = o
	st.GradsReady = func(lo int) { o.ready(st.Grads, lo) }
	st.ReduceGrads = o.reduce
	return nil
}

// syncBatchNorm makes the batch normalization of training use the statistics of the
// global batch (--sync-bn): every BN layer sums its per-channel statistics over the
// ranks in the forward pass (the values and their count, then the squared deviations)
// and in the backward pass (the sums of the gradient and of its product with the
// input); a failed sum stops the step before the update.
func (t *trainer) syncBatchNorm(comm dist.Comm) {
	st := t.m.st
	var failed error
	st.Ctx.SetBNSum(func(s []float64) {
		if failed != nil {
			return
		}
		t0 := time.Now()
		failed = comm.AllreduceSum64(s)
		t.traffic.step.comm += time.Since(t0)
		t.traffic.step.bytes += 8 * int64(len(s))
	})
	reduce := st.ReduceGrads
	st.ReduceGrads = func(g []float32) error {
		err := reduce(g)
		if failed != nil {
			err, failed = fmt.Errorf("--sync-bn: the batch statistics over the ranks: %w", failed), nil
		}
		return err
	}
}

// overlap averages the gradients in buckets while the backward pass runs.
type overlap struct {
	buckets []bucket // from the end of the gradients to the start
	next    int      // the first bucket not started in this step
	err     error    // the first failure of a bucket in this step
	scale   float32  // 1 / ranks
	tr      *traffic
}

// bucket is the gradients [lo, hi) and the buffer they are summed in.
type bucket struct {
	lo, hi int
	b      dist.Bucket
}

// ready starts the buckets that Grads[lo:] holds whole, and moves the started ones on.
func (o *overlap) ready(g []float32, lo int) {
	if o.err != nil {
		return
	}
	t0 := time.Now()
	defer func() { o.tr.step.comm += time.Since(t0) }()
	o.start(g, lo)
	for _, b := range o.buckets[:o.next] {
		if _, err := b.b.Test(); err != nil {
			o.err = err
			return
		}
	}
}

// start starts the buckets from o.next that begin at lo or later.
func (o *overlap) start(g []float32, lo int) {
	for ; o.next < len(o.buckets) && o.buckets[o.next].lo >= lo; o.next++ {
		b := &o.buckets[o.next]
		copy(b.b.Data(), g[b.lo:b.hi])
		o.tr.step.bytes += 4 * int64(b.hi-b.lo)
		if err := b.b.Start(); err != nil {
			o.err = err
			return
		}
	}
}

// reduce is State.ReduceGrads: it starts the buckets not started yet (all of them when
// the backward pass does not announce its gradients), waits for every one and puts the
// averages back into g.
func (o *overlap) reduce(g []float32) error {
	t0 := time.Now()
	defer func() { o.tr.step.comm += time.Since(t0) }()
	if o.err == nil {
		o.start(g, 0)
	}
	for _, b := range o.buckets[:o.next] {
		if err := b.b.Wait(); err != nil && o.err == nil {
			o.err = err
		}
		for i, v := range b.b.Data() {
			g[b.lo+i] = v * o.scale
		}
	}
	err := o.err
	o.next, o.err = 0, nil
	return err
}

// free releases the buckets.
func (o *overlap) free() {
	for _, b := range o.buckets {
		b.b.Free()
	}
	o.buckets = nil
}

// sumRanks adds v over the ranks, in place (counted as the communication of the
// current step).
func (t *trainer) sumRanks(v []float64) error {
	if t.comm == nil {
		return nil
	}
	t0 := time.Now()
	err := t.comm.AllreduceSum64(v)
	t.traffic.step.comm += time.Since(t0)
	t.traffic.step.bytes += 8 * int64(len(v))
	return err
}

// traffic is what the ranks of a data-parallel run sent each other: at the start, and
// in the training steps of the current epoch.
type traffic struct {
	broadcast      time.Duration // rank 0's weights, statistics and momentum to every rank
	broadcastBytes int64
	step           stepTraffic // the current step, folded into epoch by endStep
	epoch          epochTraffic
}

// stepTraffic is the communication of one training step.
type stepTraffic struct {
	comm  time.Duration // in allreduces (the gradients, the step's loss and counts)
	bytes int64         // allreduced, per rank
}

// epochTraffic adds the steps of one epoch up.
type epochTraffic struct {
	steps         int
	compute, comm time.Duration
	bytes         int64
}

// endStep folds the step that took total (its computation and communication) into
// the epoch's sums.
func (tr *traffic) endStep(total time.Duration) {
	e := &tr.epoch
	e.steps++
	e.comm += tr.step.comm
	e.compute += max(total-tr.step.comm, 0)
	e.bytes += tr.step.bytes
	tr.step = stepTraffic{}
}

// report is the epoch's line of communication, like
// "comm: 38 steps, compute 1.23 s, allreduce 0.21 s (15%), 11.0 MB per step"; the
// allreduce time includes waiting for the slowest rank.
func (e *epochTraffic) report() string {
	steps := max(e.steps, 1)
	frac := 0.0
	if tot := e.compute + e.comm; tot > 0 {
		frac = 100 * e.comm.Seconds() / tot.Seconds()
	}
	return fmt.Sprintf("comm: %d steps, compute %.2f s, allreduce %.2f s (%.0f%%), %.1f MB per step",
		e.steps, e.compute.Seconds(), e.comm.Seconds(), frac, float64(e.bytes)/float64(steps)/1e6)
}

// averageStats makes the running statistics of BN the mean over the ranks (each
// computed its own from its shards' batch statistics), so that every rank evaluates and
// saves the same network.
func (t *trainer) averageStats() error {
	if t.ranks() == 1 {
		return nil
	}
	st := t.m.st
	if err := t.m.net.Sync(st); err != nil {
		return err
	}
	if err := t.comm.AllreduceSum(st.Stats); err != nil {
		return err
	}
	scale := 1 / float32(t.ranks())
	for i := range st.Stats {
		st.Stats[i] *= scale
	}
	return t.m.net.Loaded(st)
}

// evaluateShared evaluates the test split, each rank its contiguous share of it, and
// returns the mean loss and the error fraction over the whole split. bar counts the
// lead's images.
func (t *trainer) evaluateShared(bar *progress.Bar) (loss, errFrac float64, err error) {
	total := t.ds.testLen()
	if t.ranks() == 1 {
		return evaluate(t.m, t.ds, 0, total, t.norm, bar)
	}
	r, n := t.comm.Rank(), t.ranks()
	lo, hi := r*total/n, (r+1)*total/n
	sums := make([]float64, 2) // loss and wrong images
	if hi > lo {
		l, e, err := evaluate(t.m, t.ds, lo, hi, t.norm, bar)
		if err != nil {
			return 0, 0, err
		}
		sums[0], sums[1] = l*float64(hi-lo), float64(int(e*float64(hi-lo)+0.5))
	}
	if err := t.comm.AllreduceSum64(sums); err != nil {
		return 0, 0, err
	}
	return sums[0] / float64(total), sums[1] / float64(total), nil
}

// shareOfTest is the number of test images the lead evaluates.
func (t *trainer) shareOfTest() int {
	n := t.ranks()
	return t.ds.testLen() / n
}

// dumpRankWeights writes this rank's weights and statistics to $WRNC_DIST_WEIGHTS/rank-R.safetensors
// when the variable is set.
func (t *trainer) dumpRankWeights() error {
	dir := os.Getenv(distWeightsEnv)
	if dir == "" {
		return nil
	}
	if err := t.m.net.Sync(t.m.st); err != nil {
		return err
	}
	rank := 0
	if t.comm != nil {
		rank = t.comm.Rank()
	}
	return ckpt.Write(filepath.Join(dir, "rank-"+strconv.Itoa(rank)+".safetensors"), weightTensors(t.m.st, t.m.spec), nil)
}
