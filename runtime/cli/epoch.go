package cli

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/wrnc/wrnc/runtime/ckpt"
	"github.com/wrnc/wrnc/runtime/data"
	"github.com/wrnc/wrnc/runtime/dist"
	"github.com/wrnc/wrnc/runtime/model"
	"github.com/wrnc/wrnc/runtime/nn"
	"github.com/wrnc/wrnc/runtime/optim"
	"github.com/wrnc/wrnc/runtime/progress"
	"github.com/wrnc/wrnc/runtime/runlog"
)

// Metadata keys of a checkpoint written by train (besides the normalization's).
const (
	metaNetwork = "network"         // Spec.Name
	metaEpoch   = "epoch"           // epochs completed
	metaEpochs  = "epochs"          // epochs the run was asked for
	metaStep    = "step"            // optimizer steps taken
	metaBest    = "best_test_error" // the lowest test error of the run so far
	metaClasses = "classes"         // class names, a JSON array (when the data set has them)
	metaLog     = "log"             // the log.jsonl record of this epoch
)

// trainer is one training run.
type trainer struct {
	c     *cmd
	o     trainOpts
	r     model.Recipe      // the compiled recipe with the overrides applied
	given map[string]string // the overrides, flag name to value
	ds    *dataset
	m     *machine
	norm  *data.Norm

	loader batches    // the training split, shuffled and augmented (this rank's shard)
	comm   dist.Comm  // the ranks of a data-parallel run, nil for one process
	sigs   *interrupt // SIGINT and SIGTERM

	traffic traffic  // the communication of the ranks (nothing for one process)
	overlap *overlap // the gradient buckets of a data-parallel run with an Async Comm, or nil

	start     int        // epochs already done
	best      float64    // best test error so far (2 before any)
	bestEpoch int        // the epoch of best (0 before any, or not recorded)
	resumed   *ckpt.File // the checkpoint resumed from, or nil

	records []epochRecord  // log.jsonl's records, those of this start included
	events  *runlog.Events // this start's TensorBoard event file
}

// epochRecord is one line of log.jsonl.
type epochRecord struct {
	Epoch        int     `json:"epoch"`
	LR           float64 `json:"lr"`
	TrainLoss    float64 `json:"train_loss"`
	TrainError   float64 `json:"train_error"`
	TestLoss     float64 `json:"test_loss"`
	TestError    float64 `json:"test_error"`
	Seconds      float64 `json:"seconds"`
	ImagesPerSec float64 `json:"images_per_sec"`
	Seed         int64   `json:"seed"`
	Overrides    string  `json:"overrides"` // the overrides of the compiled recipe as flags, "" for none
}

// kvs is the record in the order log.jsonl lists its keys.
func (r *epochRecord) kvs() []progress.KV {
	return []progress.KV{{Key: "epoch", Value: r.Epoch}, {Key: "lr", Value: r.LR},
		{Key: "train_loss", Value: r.TrainLoss}, {Key: "train_error", Value: r.TrainError},
		{Key: "test_loss", Value: r.TestLoss}, {Key: "test_error", Value: r.TestError},
		{Key: "seconds", Value: r.Seconds}, {Key: "images_per_sec", Value: r.ImagesPerSec},
		{Key: "seed", Value: r.Seed}, {Key: "overrides", Value: r.Overrides}}
}

// parseRecord reads a record back from checkpoint metadata.
func parseRecord(s string) (epochRecord, bool) {
	var r epochRecord
	err := json.Unmarshal([]byte(s), &r)
	return r, err == nil && s != ""
}

// run trains the remaining epochs.
func (t *trainer) run() error {
	out := t.c.env.Stdout
	if !t.lead() {
		return t.follow()
	}
	if err := cleanStale(t.o.out, t.c.env.Stderr); err != nil {
		return err
	}
	if t.resumed != nil {
		if err := t.completeRun(); err != nil {
			return err
		}
		// metrics.csv and curves.svg follow the repaired log.
		if err := t.loadRecords(); err != nil {
			return err
		}
		if err := t.writeRunFiles(); err != nil {
			return err
		}
	} else if err := removeDerived(t.o.out); err != nil {
		return err
	}
	if t.start >= t.r.Epochs {
		fmt.Fprintf(out, "%s already holds epoch %d of %d: nothing to train (raise --epochs to go on)\n",
			filepath.Join(t.o.out, lastFile), t.start, t.r.Epochs)
		return nil
	}
	if err := os.MkdirAll(t.o.out, 0o755); err != nil {
		return err
	}
	log, err := t.openLog()
	if err != nil {
		return err
	}
	defer log.Close()
	if err := t.openEvents(); err != nil {
		return err
	}
	defer t.events.Close()
	if err := t.newLoader(); err != nil {
		return err
	}
	defer t.loader.Close()
	fmt.Fprintf(out, "%s: %d training and %d test images (%s) in batches of %d, %d threads; run folder %s\n",
		t.m.spec.Name, t.ds.trainLen(), t.ds.testLen(), t.ds.format(), t.m.spec.Batch, t.c.threads, t.o.out)
	if n := t.ranks(); n > 1 {
		fmt.Fprintf(out, "data-parallel over %d ranks: global batches of %d (%d per rank), gradients averaged; the learning rate is the recipe's, not rescaled\n",
			n, n*t.m.spec.Batch, t.m.spec.Batch)
		if t.o.syncBN {
			fmt.Fprintf(out, "--sync-bn: batch normalization with the statistics of the global batch of %d\n", n*t.m.spec.Batch)
		}
		fmt.Fprintf(out, "comm: broadcast %.1f MB from rank 0 in %.3f s at the start\n",
			float64(t.traffic.broadcastBytes)/1e6, t.traffic.broadcast.Seconds())
	}
	if len(t.given) > 0 {
		fmt.Fprintf(out, "overriding the compiled recipe: %s\n", overridesString(t.given))
	}
	if t.resumed != nil {
		fmt.Fprintf(out, "resuming %s at epoch %d of %d\n", t.o.out, t.start+1, t.r.Epochs)
	}
	for e := t.start; e < t.r.Epochs; e++ {
		if err := t.epoch(e, log); err != nil {
			return err
		}
		if err := t.sigs.check(fmt.Sprintf("stopped after epoch %d of %d; %s holds it; continue with --resume", e+1, t.r.Epochs, filepath.Join(t.o.out, lastFile))); err != nil {
			return err
		}
	}
	return nil
}

// newLoader makes the loader of the training split: shuffled and augmented, this
// rank's shard of every global batch.
func (t *trainer) newLoader() error {
	rank, ranks := 0, 1
	if t.comm != nil {
		rank, ranks = t.comm.Rank(), t.comm.Size()
	}
	l, err := t.ds.trainBatches(t.norm, t.r, t.m.spec.Batch, rank, ranks)
	if err != nil {
		return fmt.Errorf("%s: %v", t.o.data, err)
	}
	t.loader = l
	return nil
}

// follow is run for a rank other than 0 of a data-parallel run: the same epochs and
// collectives as rank 0, without writing anything.
func (t *trainer) follow() error {
	if t.start >= t.r.Epochs {
		return nil
	}
	if err := t.newLoader(); err != nil {
		return err
	}
	defer t.loader.Close()
	for e := t.start; e < t.r.Epochs; e++ {
		if err := t.epoch(e, nil); err != nil {
			return err
		}
		if err := t.sigs.check(fmt.Sprintf("stopped after epoch %d of %d", e+1, t.r.Epochs)); err != nil {
			return err
		}
	}
	return nil
}

// abandon is the error of a run stopped by a signal in epoch e (0-based), before that
// epoch's results were written.
func (t *trainer) abandon(e int) error {
	kept := "no checkpoint was written yet; start again"
	if e > 0 {
		kept = fmt.Sprintf("%s holds epoch %d; continue with --resume", filepath.Join(t.o.out, lastFile), e)
	}
	return t.sigs.check(fmt.Sprintf("stopped in epoch %d, whose results are abandoned; %s", e+1, kept))
}

// epoch trains epoch e (0-based), evaluates, saves the checkpoints and logs.
func (t *trainer) epoch(e int, log *progress.Log) error {
	spec, st := t.m.spec, t.m.st
	d, b := t.m.imageSize(), spec.Batch
	x, y := make([]float32, b*d), make([]int32, b)
	lr := optim.StepLR(t.r, e)
	h := model.Hyper{LR: lr, Momentum: t.r.Momentum, Dampening: t.r.Dampening, WeightDecay: t.r.WeightDecay, Nesterov: t.r.Nesterov}
	t0 := time.Now()
	label := fmt.Sprintf("epoch %d/%d", e+1, t.r.Epochs)
	bar := progress.NewBar(t.c.env.Stderr, label+" train", t.ds.trainLen())
	t.loader.Epoch(e)
	var lossSum float64
	var wrong, seen int
	for {
		n, ok := t.loader.Next(x, y)
		if !ok || (n == 1 && b > 1) { // a last batch of one image would give degenerate BN statistics
			break
		}
		ts := time.Now()
		r, err := t.m.net.TrainStep(st, n, x[:n*d], y[:n], h)
		if err != nil {
			return err
		}
		if err := t.abandon(e); err != nil {
			return err
		}
		// The global loss, errors and images of the step (this rank's alone without MPI).
		sums := []float64{r.Loss * float64(n), float64(n - r.Correct), float64(n)}
		if err := t.sumRanks(sums); err != nil {
			return err
		}
		t.traffic.endStep(time.Since(ts))
		if loss := r.Loss; t.lead() {
			if t.comm != nil {
				loss = sums[0] / sums[2]
			}
			if err := t.stepEvent(loss); err != nil {
				return err
			}
		}
		lossSum += sums[0]
		wrong += int(sums[1])
		seen += int(sums[2])
		n = int(sums[2])
		bar.Add(n, progress.Field{Key: "loss", Value: fmt.Sprintf("%.4f", lossSum/float64(seen))},
			progress.Field{Key: "err", Value: pct(float64(wrong) / float64(seen))})
	}
	if err := t.loader.Err(); err != nil {
		return err
	}
	bar.Finish()
	trainSec := time.Since(t0).Seconds()
	traffic := t.traffic.epoch
	t.traffic.epoch = epochTraffic{}
	rec := epochRecord{Epoch: e + 1, LR: lr, TrainLoss: lossSum / float64(seen), TrainError: float64(wrong) / float64(seen),
		ImagesPerSec: float64(seen) / trainSec, Seed: t.r.Seed, Overrides: overridesString(t.given)}
	if math.IsNaN(rec.TrainLoss) || math.IsInf(rec.TrainLoss, 0) {
		return t.diverged(e, fmt.Sprintf("the loss is %v at learning rate %g", rec.TrainLoss, lr))
	}
	if err := t.averageStats(); err != nil {
		return err
	}
	tbar := progress.NewBar(t.c.env.Stderr, label+" test", t.shareOfTest())
	if err := t.abandon(e); err != nil {
		return err
	}
	var err error
	rec.TestLoss, rec.TestError, err = t.evaluateShared(tbar)
	if err != nil {
		return err
	}
	tbar.Finish()
	if math.IsNaN(rec.TestLoss) || math.IsInf(rec.TestLoss, 0) {
		return t.diverged(e, fmt.Sprintf("the test loss is %v", rec.TestLoss))
	}
	if err := t.m.net.Sync(st); err != nil {
		return err
	}
	for _, buf := range []struct {
		what string
		v    []float32
	}{{"weights", st.Params}, {"running statistics", st.Stats}} {
		if j, bad := nonFinite(buf.v); bad {
			return t.diverged(e, fmt.Sprintf("the %s hold %v (%s)", buf.what, buf.v[j], t.paramAt(buf.what == "weights", j)))
		}
	}
	improved := rec.TestError < t.best
	if improved {
		t.best, t.bestEpoch = rec.TestError, e+1
	}
	rec.Seconds = time.Since(t0).Seconds() // training and testing; the checkpoint holds the same record
	if !t.lead() {
		return nil
	}
	if err := t.save(e+1, &rec, improved); err != nil {
		return err
	}
	if err := log.Write(rec.kvs()); err != nil {
		return err
	}
	t.records = append(t.records, rec)
	if err := t.epochEvents(&rec); err != nil {
		return err
	}
	if err := t.writeRunFiles(); err != nil {
		return err
	}
	mark := ""
	if improved {
		mark = "  (best)"
	}
	fmt.Fprintf(t.c.env.Stdout, "%s  lr %.6g  train loss %.4f error %s  test loss %.4f error %s  %.1f s, %.0f img/s%s\n",
		label, lr, rec.TrainLoss, pct(rec.TrainError), rec.TestLoss, pct(rec.TestError), rec.Seconds, rec.ImagesPerSec, mark)
	if t.ranks() > 1 {
		fmt.Fprintln(t.c.env.Stdout, traffic.report())
	}
	return nil
}

// diverged is the error of a run that diverged in epoch e (0-based): nothing of that
// epoch is written, and the last checkpoint, all finite, is kept.
func (t *trainer) diverged(e int, why string) error {
	kept := "no checkpoint was written"
	if e > 0 {
		kept = fmt.Sprintf("%s still holds epoch %d, the last with finite weights", filepath.Join(t.o.out, lastFile), e)
	}
	return fmt.Errorf("training diverged in epoch %d (%s); %s; try a lower --lr", e+1, why, kept)
}

// paramAt names the tensor of Params (or Stats) that holds float j.
func (t *trainer) paramAt(trainable bool, j int) string {
	for i := range t.m.spec.Params {
		p := &t.m.spec.Params[i]
		if p.Trainable() == trainable && j >= p.Offset && j < p.Offset+p.Size() {
			return fmt.Sprintf("tensor %s, index %d", p.Name, j-p.Offset)
		}
	}
	return fmt.Sprintf("index %d", j)
}

// save writes RUN/last.safetensors, and RUN/best.safetensors when improved, after
// epoch epochs.
func (t *trainer) save(epoch int, rec *epochRecord, improved bool) error {
	spec, st := t.m.spec, t.m.st // synced by epoch
	tensors := weightTensors(st, spec)
	if st.Started && t.r.Momentum != 0 {
		tensors = append(tensors, momentumTensors(st.Momentum, spec)...)
	}
	tensors = append(tensors, normTensors(t.norm)...)
	meta := map[string]string{
		metaNetwork: spec.Name,
		metaEpoch:   strconv.Itoa(epoch),
		metaEpochs:  strconv.Itoa(t.r.Epochs),
		metaStep:    strconv.FormatUint(t.m.st.Step, 10),
		metaBest:    strconv.FormatFloat(t.best, 'g', -1, 64),
	}
	if t.bestEpoch > 0 {
		meta[metaBestEpoch] = strconv.Itoa(t.bestEpoch)
	}
	if b, err := json.Marshal(rec); err == nil {
		meta[metaLog] = string(b)
	}
	if classes := t.ds.classes(); len(classes) > 0 {
		if b, err := json.Marshal(classes); err == nil {
			meta[metaClasses] = string(b)
		}
	}
	maps.Copy(meta, t.norm.Metadata())
	maps.Copy(meta, overridesMeta(t.given, t.r))
	if err := ckpt.Write(filepath.Join(t.o.out, lastFile), tensors, meta); err != nil {
		return err
	}
	if improved {
		return ckpt.Write(filepath.Join(t.o.out, bestFile), tensors, meta)
	}
	return nil
}

// evaluate runs inference on the test examples lo..hi-1 of ds (chunks of the compiled
// batch) and returns the mean loss and the error as a fraction. bar, when not nil, counts
// the images.
func evaluate(m *machine, ds *dataset, lo, hi int, norm *data.Norm, bar *progress.Bar) (loss, errFrac float64, err error) {
	d, k, b := m.imageSize(), m.spec.Classes, m.spec.Batch
	x, y := make([]float32, b*d), make([]int32, b)
	logits, dl := make([]float32, b*k), make([]float32, b*k)
	ld, err := ds.testBatches(norm, b, lo, hi)
	if err != nil {
		return 0, 0, err
	}
	defer ld.Close()
	var sum float64
	var wrong int
	for {
		n, ok := ld.Next(x, y)
		if !ok {
			break
		}
		if err := m.infer(n, x, logits); err != nil {
			return 0, 0, err
		}
		l, correct, err := nn.SoftmaxCE(n, k, logits, y, dl)
		if err != nil {
			return 0, 0, err
		}
		sum += l * float64(n)
		wrong += n - correct
		if bar != nil {
			bar.Add(n)
		}
	}
	if err := ld.Err(); err != nil {
		return 0, 0, err
	}
	return sum / float64(hi-lo), float64(wrong) / float64(hi-lo), nil
}

// pct formats a fraction as a percentage.
func pct(f float64) string { return fmt.Sprintf("%.2f%%", 100*f) }
