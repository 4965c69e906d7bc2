package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/wrnc/wrnc/runtime/ckpt"
	"github.com/wrnc/wrnc/runtime/dist"
	"github.com/wrnc/wrnc/runtime/optim"
	"github.com/wrnc/wrnc/runtime/progress"
)

const trainAbout = `Train the network with the recipe compiled into this binary (SGD, step schedule,
augmentation, normalization fitted on the training split). After every epoch it evaluates
on the test split, appends one JSON line to RUN/log.jsonl (epoch, lr, train_loss,
train_error, test_loss, test_error, seconds, images_per_sec, seed, overrides), rewrites
RUN/metrics.csv (the same fields) and RUN/curves.svg (loss and error against the epoch)
from it, writes RUN/last.safetensors atomically (weights, optimizer state, normalization)
and RUN/best.safetensors when the test error improves. TensorBoard event files
(RUN/events.out.tfevents.*; tensorboard --logdir RUN) get each epoch's losses, errors,
learning rate and speed, and the training loss every 25 steps. --resume continues an
interrupted run from RUN/last.safetensors; --init starts from weights trained elsewhere
(with a fresh optimizer state). A binary compiled with --dist mpi and started by mpirun
trains data-parallel, one process per rank: global batches of ranks x the compiled batch,
gradients averaged, the learning rate not rescaled; rank 0 writes the run folder.`

// Files of a run folder.
const (
	lastFile    = "last.safetensors"
	bestFile    = "best.safetensors"
	logFile     = "log.jsonl"
	metricsFile = "metrics.csv"
	curvesFile  = "curves.svg"
)

// trainOpts are the flags of train.
type trainOpts struct {
	data, out, init string
	epochs, limit   int
	resume, syncBN  bool
	bucketMB        float64           // data-parallel: the gradient buckets averaged during the backward pass
	given           map[string]string // the overrides of the compiled recipe given, flag name to value
}

func runTrain(c *cmd) func() error {
	var o trainOpts
	c.fs.StringVar(&o.data, "data", "", "data `DIR`: CIFAR-10/100 binary batches, MNIST-style IDX files, SVHN .mat files or train/CLASS/*.png|jpg and test/CLASS/* (or val/CLASS/* with augment resized_crop) (required)")
	c.fs.StringVar(&o.out, "out", "run", "run `folder` for log.jsonl, metrics.csv, curves.svg, event files, last.safetensors and best.safetensors")
	c.fs.IntVar(&o.epochs, "epochs", 0, "epochs to train (default: the recipe's)")
	c.fs.IntVar(&o.limit, "limit", 0, "train on the first `N` training examples only (default: all)")
	c.fs.BoolVar(&o.resume, "resume", false, "continue the run in --out from its last.safetensors")
	c.fs.StringVar(&o.init, "init", "", "start from the weights in `W` (safetensors) instead of a fresh initialisation")
	c.fs.BoolVar(&o.syncBN, "sync-bn", false, "under mpirun: batch normalization with the statistics of the whole global batch, over all ranks (PyTorch's SyncBatchNorm), instead of each rank's own")
	c.fs.Float64Var(&o.bucketMB, "bucket-mb", 25, "under mpirun: average the gradients in buckets of `MB` megabytes, each as soon as the backward pass has finished it (PyTorch DDP's default 25); 0 averages them all after the backward pass")
	given := declareOverrides(c.fs)
	c.computeFlags()
	return func() error {
		if err := c.noArgs(); err != nil {
			return err
		}
		o.given = given()
		epochsSet := false
		c.fs.Visit(func(f *flag.Flag) { epochsSet = epochsSet || f.Name == "epochs" })
		switch {
		case o.data == "":
			return usagef("--data DIR is required")
		case o.epochs < 0 || (epochsSet && o.epochs == 0):
			return usagef("--epochs must be at least 1, got %d", o.epochs)
		case o.limit < 0:
			return usagef("--limit must be positive, got %d", o.limit)
		case !(o.bucketMB >= 0) || o.bucketMB > 4096:
			return usagef("--bucket-mb must be from 0 to 4096, got %g", o.bucketMB)
		case o.resume && o.init != "":
			return usagef("--resume and --init exclude each other (a resumed run already has its weights)")
		case o.out == "":
			return usagef("--out must name a folder")
		}
		if _, err := applyOverrides(c.net.Spec().Recipe, o.given); err != nil {
			return err
		}
		comm, err := dist.Open()
		if err != nil {
			return err
		}
		if comm.Size() > 1 {
			return trainDistributed(c, o, comm, train)
		}
		defer comm.Close()
		return train(c, o, nil)
	}
}

// train runs the training of the run o, alone (comm nil) or as one rank of comm.
func train(c *cmd, o trainOpts, comm dist.Comm) error {
	sigs := watchSignals(c.env.Stderr) // from the start: reading the data may take a while
	defer sigs.stop()
	t, err := newTrainer(c, o)
	if err != nil {
		return err
	}
	defer t.m.close()
	t.sigs = sigs
	if comm != nil {
		err := t.joinRanks(comm)
		if err == nil && o.syncBN {
			t.syncBatchNorm(comm)
		}
		if t.overlap != nil {
			defer t.overlap.free() // before MPI_Finalize
		}
		if err != nil {
			return err
		}
	}
	if o.syncBN && comm == nil {
		fmt.Fprintf(c.env.Stderr, "note: --sync-bn has nothing to do in a single process (its batch statistics are those of the whole batch); it matters under mpirun with several ranks\n")
	}
	if err := t.abandon(t.start); err != nil {
		return err
	}
	if err := t.run(); err != nil {
		return err
	}
	return t.dumpRankWeights()
}

// newTrainer checks the run folder, loads the data and sets up the weights, the
// optimizer and the normalization: fresh, from --init, or from the run's last
// checkpoint.
func newTrainer(c *cmd, o trainOpts) (*trainer, error) {
	spec := c.net.Spec()
	last := filepath.Join(o.out, lastFile)
	exists, err := fileExists(last)
	switch {
	case err != nil:
		return nil, err
	case exists && !o.resume:
		return nil, fmt.Errorf("%s already holds a run (%s exists); continue it with --resume, or choose another --out", o.out, last)
	case !exists && o.resume:
		return nil, fmt.Errorf("--resume: %s does not exist, so there is no run to continue in %s (train without --resume to start one)", last, o.out)
	}
	// The weights come first: a bad file is refused before the data is read.
	var f *ckpt.File
	switch {
	case o.resume:
		f, err = readWeights(last, spec, c.env.Stderr)
	case o.init != "":
		f, err = readWeights(o.init, spec, c.env.Stderr)
	}
	if err != nil {
		return nil, err
	}
	given := o.given
	if o.resume {
		if given, err = checkResumeOverrides(last, f.Meta, o.given); err != nil {
			return nil, err
		}
	}
	r, err := applyOverrides(spec.Recipe, given)
	if err != nil {
		return nil, fmt.Errorf("%s: the recorded overrides %s: %v", last, overridesString(given), err)
	}
	if o.epochs > 0 {
		r.Epochs = o.epochs
	}
	ds, err := loadDataset(o.data, spec, o.limit)
	if err != nil {
		return nil, err
	}
	printNotes(c.env.Stderr, ds)
	if err := ds.checkTrain(o.data); err != nil {
		return nil, err
	}
	t := &trainer{c: c, o: o, r: r, given: given, ds: ds, best: 2}
	if err := c.reserve(true, 0); err != nil {
		return nil, err
	}
	t.m = newMachine(c.net, c.threads, true)
	t.m.st.Seed = uint64(r.Seed)
	if err := t.setup(f); err != nil {
		t.m.close()
		return nil, err
	}
	if err := t.m.net.Loaded(t.m.st); err != nil {
		t.m.close()
		return nil, err
	}
	return t, nil
}

// setup fills the weights, optimizer and normalization of t: from the run's last
// checkpoint f (--resume), from the weights f (--init), or fresh (f nil).
func (t *trainer) setup(f *ckpt.File) error {
	spec, st := t.m.spec, t.m.st
	switch {
	case t.o.resume:
		return t.resumeFrom(f)
	case f != nil:
		if err := loadWeights(st, spec, f); err != nil {
			return err
		}
	default:
		if err := optim.Init(spec, st.Params, st.Stats, uint64(t.r.Seed)); err != nil {
			return err
		}
	}
	n, err := t.ds.fitNorm(t.r.Normalize)
	if err != nil {
		return fmt.Errorf("%s: %v", t.o.data, err)
	}
	t.norm = n
	return nil
}

// resumeFrom restores weights, statistics, momentum, epoch, step, best error,
// normalization and (imagenet family) num_batches_tracked from the run's last
// checkpoint.
func (t *trainer) resumeFrom(f *ckpt.File) error {
	spec, st := t.m.spec, t.m.st
	epoch, err1 := strconv.Atoi(f.Meta[metaEpoch])
	step, err2 := strconv.ParseUint(f.Meta[metaStep], 10, 64)
	best, err3 := strconv.ParseFloat(f.Meta[metaBest], 64)
	if err := errors.Join(err1, err2, err3); err != nil || epoch < 1 {
		return fmt.Errorf("%s: not a checkpoint written by train: its metadata lacks a valid epoch, step or best test error (%q, %q, %q); start a new run, or use it with --init",
			f.Path, f.Meta[metaEpoch], f.Meta[metaStep], f.Meta[metaBest])
	}
	if !(best >= 0 && best <= 1) {
		return fmt.Errorf("%s: its metadata %s is %q, not an error fraction in [0, 1]; the checkpoint is corrupt (start a new run, or use it with --init)",
			f.Path, metaBest, f.Meta[metaBest])
	}
	st.Step = step // first: the counts of num_batches_tracked loaded are those of this step
	if err := loadWeights(st, spec, f); err != nil {
		return err
	}
	buf, err := readMomentum(f, spec)
	if err != nil {
		return err
	}
	if buf != nil {
		copy(st.Momentum, buf)
		st.Started = true
	}
	if buf == nil && t.r.Momentum != 0 && step > 0 {
		return fmt.Errorf("%s: the checkpoint lacks the optimizer state (the momentum buffers), so resuming would silently restart momentum; "+
			"start from these weights with a fresh optimizer with --init %s and a new --out", f.Path, f.Path)
	}
	n, err := normFromWeights(f, spec.Input)
	if err != nil {
		return err
	}
	if n == nil {
		return fmt.Errorf("%s: the metadata lacks the normalization; not a checkpoint written by train", f.Path)
	}
	t.start, t.best, t.norm = epoch, best, n
	t.bestEpoch, _ = strconv.Atoi(f.Meta[metaBestEpoch])
	t.resumed = f
	return nil
}

// fileExists reports whether path exists; errors other than its absence are returned.
func fileExists(path string) (bool, error) {
	_, err := os.Stat(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, err
}

// openLog opens RUN/log.jsonl for appending: a fresh run empties a log left by a run
// that never finished an epoch; a resumed one has had it repaired by completeRun.
func (t *trainer) openLog() (*progress.Log, error) {
	path := filepath.Join(t.o.out, logFile)
	if t.resumed == nil {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	return progress.OpenLog(path)
}

// printNotes prints what the data loader says a user should know, once each.
func printNotes(w io.Writer, ds *dataset) {
	for _, n := range ds.notes() {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}
