package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/wrnc/wrnc/runtime/ckpt"
	"github.com/wrnc/wrnc/runtime/plot"
	"github.com/wrnc/wrnc/runtime/progress"
	"github.com/wrnc/wrnc/runtime/runlog"
)

// Besides log.jsonl, a run folder holds files made from it for people and tools:
// metrics.csv and curves.svg, rewritten atomically from all the log's records after
// every epoch (and when a resumed run has repaired the log), and TensorBoard event files,
// one per start of train, appended to as the run goes.

// stepLossEvery is how many optimizer steps apart train/step_loss events are.
const stepLossEvery = 25

// csvRow is the record as a row of metrics.csv: the fields of log.jsonl in its order,
// numbers formatted so that they parse back to the same values.
func (r *epochRecord) csvRow() []string {
	var row []string
	for _, kv := range r.kvs() {
		switch v := kv.Value.(type) {
		case int:
			row = append(row, strconv.Itoa(v))
		case int64:
			row = append(row, strconv.FormatInt(v, 10))
		case float64:
			row = append(row, runlog.FormatFloat(v))
		case string:
			row = append(row, v)
		default:
			row = append(row, fmt.Sprint(v))
		}
	}
	return row
}

// csvHeader is metrics.csv's header: the keys of log.jsonl.
func csvHeader() []string {
	var h []string
	for _, kv := range (&epochRecord{}).kvs() {
		h = append(h, kv.Key)
	}
	return h
}

// readRecords reads the records of a log.jsonl; a number the log holds as null
// (non-finite) or lacks comes back as NaN.
func readRecords(path string) ([]epochRecord, error) {
	maps, err := progress.ReadLog(path)
	if err != nil {
		return nil, err
	}
	recs := make([]epochRecord, len(maps))
	for i, m := range maps {
		r := &recs[i]
		num := func(key string) (float64, error) {
			switch v := m[key].(type) {
			case nil:
				return math.NaN(), nil
			case float64:
				return v, nil
			}
			return 0, fmt.Errorf("%s: record %d: %s is %v, not a number", path, i+1, key, m[key])
		}
		e, err := num("epoch")
		if err != nil || !(e >= 1 && e == math.Trunc(e) && e < 1e9) {
			return nil, fmt.Errorf("%s: record %d is not a record of an epoch (its epoch is %v)", path, i+1, m["epoch"])
		}
		r.Epoch = int(e)
		for _, f := range []struct {
			key string
			v   *float64
		}{{"lr", &r.LR}, {"train_loss", &r.TrainLoss}, {"train_error", &r.TrainError}, {"test_loss", &r.TestLoss},
			{"test_error", &r.TestError}, {"seconds", &r.Seconds}, {"images_per_sec", &r.ImagesPerSec}} {
			if *f.v, err = num(f.key); err != nil {
				return nil, err
			}
		}
		if s, ok := m["seed"].(float64); ok {
			r.Seed = int64(s)
		}
		if s, ok := m["overrides"].(string); ok {
			r.Overrides = s
		}
	}
	return recs, nil
}

// curvesRun is the records as a run of a chart named name.
func curvesRun(name string, recs []epochRecord) plot.Run {
	r := plot.Run{Name: name}
	for _, rec := range recs {
		r.Epoch = append(r.Epoch, float64(rec.Epoch))
		r.TrainLoss = append(r.TrainLoss, rec.TrainLoss)
		r.TestLoss = append(r.TestLoss, rec.TestLoss)
		r.TrainError = append(r.TrainError, rec.TrainError)
		r.TestError = append(r.TestError, rec.TestError)
	}
	return r
}

// writeChart writes the chart atomically at path, as SVG or (path ending in .png) PNG.
func writeChart(path string, c *plot.Chart) error {
	png := strings.EqualFold(filepath.Ext(path), ".png")
	return ckpt.WriteFileAtomic(path, func(w io.Writer) error {
		if png {
			return c.PNG(w)
		}
		return c.SVG(w)
	})
}

// runName is the name of a run folder in charts: its last element.
func runName(dir string) string { return filepath.Base(filepath.Clean(dir)) }

// writeRunFiles rewrites RUN/metrics.csv and RUN/curves.svg from t.records.
func (t *trainer) writeRunFiles() error {
	rows := make([][]string, len(t.records))
	for i := range t.records {
		rows[i] = t.records[i].csvRow()
	}
	if err := runlog.WriteCSV(filepath.Join(t.o.out, metricsFile), csvHeader(), rows); err != nil {
		return err
	}
	name := runName(t.o.out)
	c := plot.Curves(fmt.Sprintf("%s: %s", t.m.spec.Name, name), []plot.Run{curvesRun(name, t.records)})
	return writeChart(filepath.Join(t.o.out, curvesFile), c)
}

// loadRecords reads the run's log into t.records.
func (t *trainer) loadRecords() error {
	recs, err := readRecords(filepath.Join(t.o.out, logFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	t.records = recs
	return nil
}

// removeDerived removes what a fresh run replaces: metrics.csv, curves.svg and the
// event files left by an earlier start that finished no epoch.
func removeDerived(dir string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range ents {
		n := e.Name()
		if e.Type().IsRegular() && (n == metricsFile || n == curvesFile || strings.HasPrefix(n, runlog.EventsPrefix)) {
			if err := os.Remove(filepath.Join(dir, n)); err != nil {
				return err
			}
		}
	}
	return nil
}

// openEvents starts a new TensorBoard event file in the run folder.
func (t *trainer) openEvents() error {
	host, err := os.Hostname()
	if err != nil {
		host = "localhost"
	}
	t.events, err = runlog.CreateEvents(t.o.out, time.Now(), host)
	return err
}

// epochEvents writes the epoch's scalars, at step rec.Epoch.
func (t *trainer) epochEvents(rec *epochRecord) error {
	return t.events.Scalars(int64(rec.Epoch), time.Now(),
		runlog.Scalar{Tag: "train/loss", Value: rec.TrainLoss}, runlog.Scalar{Tag: "train/error", Value: rec.TrainError},
		runlog.Scalar{Tag: "test/loss", Value: rec.TestLoss}, runlog.Scalar{Tag: "test/error", Value: rec.TestError},
		runlog.Scalar{Tag: "lr", Value: rec.LR}, runlog.Scalar{Tag: "images_per_sec", Value: rec.ImagesPerSec})
}

// stepEvent writes the loss of the optimizer step just taken, every stepLossEvery steps.
func (t *trainer) stepEvent(loss float64) error {
	step := t.m.st.Step
	if step%stepLossEvery != 0 {
		return nil
	}
	return t.events.Scalars(int64(step), time.Now(), runlog.Scalar{Tag: "train/step_loss", Value: loss})
}
