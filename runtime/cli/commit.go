package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/wrnc/wrnc/runtime/ckpt"
)

// An epoch's results commit as one unit: train writes RUN/last.safetensors (atomically;
// it holds the epoch's log record and the epoch of the best test error so far), then
// RUN/best.safetensors when the epoch improved (the same file), then appends the log
// line. last is the commit point: whatever a crash leaves after it, completeRun redoes
// from last alone when the run is resumed, and an epoch that never reached it is trained
// again.

// metaBestEpoch is the checkpoint metadata key of the epoch whose test error is
// best_test_error.
const metaBestEpoch = "best_epoch"

// cleanStale removes the temporary files of atomic writes that a kill left in the run
// folder (ckpt.WriteFileAtomic names them ".NAME.tmp-*"), and says so.
func cleanStale(dir string, warn io.Writer) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range ents {
		n := e.Name()
		if e.Type().IsRegular() && isRunTemp(n) {
			if err := os.Remove(filepath.Join(dir, n)); err != nil {
				return err
			}
			fmt.Fprintf(warn, "removed %s, left by an interrupted write\n", filepath.Join(dir, n))
		}
	}
	return nil
}

// isRunTemp reports whether n is the temporary file of an atomic write of a run file.
func isRunTemp(n string) bool {
	for _, f := range runFiles {
		if strings.HasPrefix(n, "."+f+".tmp-") {
			return true
		}
	}
	return false
}

// runFiles are the files train writes atomically in a run folder.
var runFiles = []string{lastFile, bestFile, logFile, metricsFile, curvesFile}

// completeRun finishes the commit of the checkpoint's epoch, which a crash may have cut
// short, before a resumed run goes on: the log gets that epoch's record if it lacks it,
// loses records of later epochs (written by a run whose checkpoint did not survive) and
// duplicates, and best.safetensors is rewritten from last when last says its epoch was
// the best and best holds another.
func (t *trainer) completeRun() error {
	f := t.resumed
	if err := t.repairLog(); err != nil {
		return err
	}
	be, err := strconv.Atoi(f.Meta[metaBestEpoch])
	if err != nil || be != t.start {
		return nil // a checkpoint of before best_epoch was recorded, or best is older
	}
	best := filepath.Join(t.o.out, bestFile)
	if bf, err := ckpt.Read(best); err == nil && bf.Meta[metaEpoch] == f.Meta[metaEpoch] {
		return nil
	}
	b, err := os.ReadFile(f.Path)
	if err != nil {
		return err
	}
	if err := ckpt.WriteFileAtomic(best, func(w io.Writer) error { _, err := w.Write(b); return err }); err != nil {
		return err
	}
	fmt.Fprintf(t.c.env.Stderr, "restored %s from %s: epoch %d was the best, and a crash kept it from being written\n", best, f.Path, t.start)
	return nil
}

// repairLog makes log.jsonl hold exactly one record of each epoch 1..t.start, in
// order, as far as they were written: it drops records of epochs after the checkpoint's
// and repeated ones, and adds the checkpoint's own record when a crash lost it.
func (t *trainer) repairLog() error {
	path := filepath.Join(t.o.out, logFile)
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	var kept [][]byte
	last, dropped := 0, 0
	for line := range bytes.Lines(b) {
		text := bytes.TrimSpace(line)
		if len(text) == 0 {
			continue
		}
		var rec struct {
			Epoch *int `json:"epoch"`
		}
		if !bytes.HasSuffix(line, []byte("\n")) && !json.Valid(text) {
			dropped++ // torn by a crash
			continue
		}
		if err := json.Unmarshal(text, &rec); err != nil || rec.Epoch == nil {
			return fmt.Errorf("%s: a line is not a record of an epoch (%.80q); repair or remove the log", path, text)
		}
		if *rec.Epoch <= last || *rec.Epoch > t.start {
			dropped++
			continue
		}
		kept = append(kept, append(append([]byte(nil), text...), '\n'))
		last = *rec.Epoch
	}
	added := false
	if last < t.start {
		if rec, ok := parseRecord(t.resumed.Meta[metaLog]); ok && rec.Epoch == t.start {
			enc, err := json.Marshal(rec)
			if err != nil {
				return err
			}
			kept = append(kept, append(enc, '\n'))
			added = true
		}
	}
	if dropped == 0 && !added {
		return nil
	}
	if dropped > 0 {
		fmt.Fprintf(t.c.env.Stderr, "%s: dropped %d records of epochs after the checkpoint's (%d), repeated or torn by a crash\n", path, dropped, t.start)
	}
	return ckpt.WriteFileAtomic(path, func(w io.Writer) error {
		for _, l := range kept {
			if _, err := w.Write(l); err != nil {
				return err
			}
		}
		return nil
	})
}
