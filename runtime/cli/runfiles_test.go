package cli

import (
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"fmt"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wrnc/wrnc/runtime/runlog"
)

// checkMetrics checks that RUN/metrics.csv holds log.jsonl's fields as its header and
// then exactly log.jsonl's records, value for value.
func checkMetrics(t *testing.T, run string) {
	t.Helper()
	f, err := os.Open(filepath.Join(run, metricsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("metrics.csv: %v", err)
	}
	if diff := cmp.Diff(logKeys, rows[0]); diff != "" {
		t.Fatalf("metrics.csv header (-want +got):\n%s", diff)
	}
	recs := readLog(t, run)
	if len(rows)-1 != len(recs) {
		t.Fatalf("metrics.csv has %d rows, log.jsonl %d records", len(rows)-1, len(recs))
	}
	for i, rec := range recs {
		for j, k := range logKeys {
			cell := rows[i+1][j]
			switch want := rec[k].(type) {
			case string:
				if cell != want {
					t.Errorf("row %d %s = %q, log %q", i+1, k, cell, want)
				}
			case float64:
				if got, err := strconv.ParseFloat(cell, 64); err != nil || got != want {
					t.Errorf("row %d %s = %q, log %v", i+1, k, cell, want)
				}
			default:
				t.Errorf("row %d: log.jsonl's %s is %v", i+1, k, rec[k])
			}
		}
	}
}

// checkCurves checks that an SVG chart is well-formed XML with paths paths and the
// texts want, and returns its text.
func checkCurves(t *testing.T, path string, paths int, want ...string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(b))
	n := 0
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: not well-formed: %v", path, err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if tok.Name.Local == "path" {
				n++
			}
		case xml.CharData:
			text.Write(tok)
			text.WriteByte('\n')
		}
	}
	if n != paths {
		t.Errorf("%s: %d <path> elements, want %d", path, n, paths)
	}
	for _, w := range append([]string{"epoch", "cross-entropy loss", "error (%)"}, want...) {
		if !strings.Contains(text.String(), w) {
			t.Errorf("%s: the text lacks %q:\n%s", path, w, text.String())
		}
	}
}

// eventFiles is the run's event files, sorted.
func eventFiles(t *testing.T, run string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(run, runlog.EventsPrefix+"*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// checkEvents checks that the event file holds the file version, then the epoch
// summaries of recs with the step losses between them.
func checkEvents(t *testing.T, path string, recs []map[string]any, steps []int64) {
	t.Helper()
	evs, err := runlog.ReadEvents(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) == 0 || evs[0].FileVersion != "brain.Event:2" {
		t.Fatalf("first event %+v, want file_version brain.Event:2", evs)
	}
	var gotSteps []int64
	epoch := 0
	for _, ev := range evs[1:] {
		if !(ev.WallTime > 1.6e9) {
			t.Errorf("event at step %d: wall time %v", ev.Step, ev.WallTime)
		}
		if len(ev.Scalars) == 1 && ev.Scalars[0].Tag == "train/step_loss" {
			if v := ev.Scalars[0].Value; !(v > 0 && v < 10) {
				t.Errorf("step %d: loss %v", ev.Step, v)
			}
			gotSteps = append(gotSteps, ev.Step)
			continue
		}
		if epoch >= len(recs) {
			t.Fatalf("more epoch events than records: %+v", ev)
		}
		r := recs[epoch]
		epoch++
		if ev.Step != int64(r["epoch"].(float64)) {
			t.Errorf("epoch event at step %d, want %v", ev.Step, r["epoch"])
		}
		var want []runlog.Scalar
		for _, tk := range [][2]string{{"train/loss", "train_loss"}, {"train/error", "train_error"}, {"test/loss", "test_loss"},
			{"test/error", "test_error"}, {"lr", "lr"}, {"images_per_sec", "images_per_sec"}} {
			want = append(want, runlog.Scalar{Tag: tk[0], Value: float64(float32(r[tk[1]].(float64)))})
		}
		if diff := cmp.Diff(want, ev.Scalars); diff != "" {
			t.Errorf("epoch %v scalars (-want +got):\n%s", r["epoch"], diff)
		}
	}
	if epoch != len(recs) {
		t.Errorf("%d epoch events, want %d", epoch, len(recs))
	}
	if diff := cmp.Diff(steps, gotSteps); diff != "" {
		t.Errorf("train/step_loss steps (-want +got):\n%s", diff)
	}
}

// TestTrainRunFiles checks metrics.csv, the event file and curves.svg of a run; the
// milestones override puts a comma, which CSV quotes, into the overrides field.
func TestTrainRunFiles(t *testing.T) {
	net := newTinyNet()
	data := writeIDX(t, 96, 30)
	run := filepath.Join(t.TempDir(), "myrun")
	mustRun(t, net, "train", "--data", data, "--out", run, "--milestones", "1,2")
	recs := readLog(t, run)
	if len(recs) != 3 || recs[0]["overrides"] != "--milestones 1,2" {
		t.Fatalf("log: %v", recs)
	}
	checkMetrics(t, run)
	if b, _ := os.ReadFile(filepath.Join(run, metricsFile)); !bytes.Contains(b, []byte(`"--milestones 1,2"`)) {
		t.Errorf("the overrides are not quoted:\n%s", b)
	}
	ev := eventFiles(t, run)
	if len(ev) != 1 {
		t.Fatalf("event files %v, want one", ev)
	}
	host, _ := os.Hostname()
	if !strings.HasSuffix(ev[0], "."+host) {
		t.Errorf("event file %s does not end in the host name %s", ev[0], host)
	}
	// 12 steps an epoch: the step losses of steps 25 (and 50, ... in longer runs).
	checkEvents(t, ev[0], recs, []int64{25})
	checkCurves(t, filepath.Join(run, curvesFile), 4, "TINY-1: myrun", "myrun")
}

// TestResumeRunFiles checks that a resumed run rewrites metrics.csv and curves.svg
// from the repaired log, even when nothing is left to train, and that each start
// writes its own event file.
func TestResumeRunFiles(t *testing.T) {
	net := newTinyNet()
	data := writeIDX(t, 40, 12)
	run := filepath.Join(t.TempDir(), "r")
	mustRun(t, net, "train", "--data", data, "--out", run, "--epochs", "2")
	// A crash that lost the log's last record, after a run whose metrics.csv and
	// curves.svg had other contents, and left a temporary file.
	logPath := filepath.Join(run, logFile)
	b, _ := os.ReadFile(logPath)
	lines := strings.SplitAfter(string(b), "\n")
	os.WriteFile(logPath, []byte(lines[0]+`{"epoch":2,"lr`), 0o644)
	os.WriteFile(filepath.Join(run, metricsFile), []byte("epoch\n7\n8\n9\n"), 0o644)
	os.WriteFile(filepath.Join(run, curvesFile), []byte("<svg"), 0o644)
	stale := filepath.Join(run, ".metrics.csv.tmp-99")
	os.WriteFile(stale, []byte("x"), 0o644)

	out := mustRun(t, net, "train", "--data", data, "--out", run, "--resume", "--epochs", "2")
	if !strings.Contains(out, "nothing to train") {
		t.Fatalf("resume: %s", out)
	}
	if n := len(readLog(t, run)); n != 2 {
		t.Fatalf("log has %d records, want 2", n)
	}
	checkMetrics(t, run)
	checkCurves(t, filepath.Join(run, curvesFile), 4)
	if _, err := os.Stat(stale); err == nil {
		t.Error("the stale temporary file of metrics.csv is still there")
	}
	if n := len(eventFiles(t, run)); n != 1 {
		t.Errorf("%d event files after a resume with nothing to train, want 1", n)
	}

	mustRun(t, net, "train", "--data", data, "--out", run, "--resume", "--epochs", "3")
	recs := readLog(t, run)
	if len(recs) != 3 {
		t.Fatalf("log has %d records, want 3", len(recs))
	}
	checkMetrics(t, run)
	checkCurves(t, filepath.Join(run, curvesFile), 4)
	ev := eventFiles(t, run)
	if len(ev) != 2 {
		t.Fatalf("event files %v, want two", ev)
	}
	// The newer file (its name has a later time, or the same one and a suffix) holds epoch 3.
	newer := ev[1]
	if info0, info1 := fileInfo(t, ev[0]), fileInfo(t, ev[1]); info0.ModTime().After(info1.ModTime()) {
		newer = ev[0]
	}
	// 5 steps an epoch: steps 11 to 15 in epoch 3, none a multiple of 25.
	checkEvents(t, newer, recs[2:], nil)
}

func fileInfo(t *testing.T, path string) os.FileInfo {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi
}

// writeRun writes a run folder whose log.jsonl holds n epochs of falling losses.
func writeRun(t *testing.T, dir string, n int) string {
	t.Helper()
	os.MkdirAll(dir, 0o755)
	var b strings.Builder
	for e := 1; e <= n; e++ {
		f := float64(e)
		fmt.Fprintf(&b, `{"epoch":%d,"lr":0.1,"train_loss":%g,"train_error":%g,"test_loss":%g,"test_error":%g,"seconds":10,"images_per_sec":500,"seed":1,"overrides":""}`+"\n",
			e, 2*math.Exp(-f/8)+0.05, 0.8*math.Exp(-f/7), 2*math.Exp(-f/9)+0.3, 0.8*math.Exp(-f/8)+0.05)
	}
	os.WriteFile(filepath.Join(dir, logFile), []byte(b.String()), 0o644)
	return dir
}

func TestPlot(t *testing.T) {
	net := newTinyNet()
	tmp := t.TempDir()
	a, b := writeRun(t, filepath.Join(tmp, "run-a"), 30), writeRun(t, filepath.Join(tmp, "run-b"), 12)

	svg := filepath.Join(tmp, "both.svg")
	out := mustRun(t, net, "plot", a, b, "--out", svg)
	if !strings.Contains(out, "wrote "+svg+": 2 runs, 42 epochs") {
		t.Errorf("stdout %q", out)
	}
	checkCurves(t, svg, 8, "run-a", "run-b")

	pngPath := filepath.Join(tmp, "both.png")
	mustRun(t, net, "plot", "--out", pngPath, a, b)
	f, err := os.Open(pngPath)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if sz := img.Bounds().Size(); sz.X != 1920 || sz.Y < 800 || sz.Y > 1000 {
		t.Errorf("PNG size %v, want 1920 x about 900", sz)
	}
	colours := map[uint32]bool{}
	for y := 0; y < img.Bounds().Dy(); y += 3 {
		for x := 0; x < img.Bounds().Dx(); x += 3 {
			r, g, b, _ := img.At(x, y).RGBA()
			colours[r>>8<<16|g>>8<<8|b>>8] = true
		}
	}
	if len(colours) < 10 {
		t.Errorf("the PNG has %d colours: blank?", len(colours))
	}

	// Runs of the same name are told apart by their paths.
	twin := writeRun(t, filepath.Join(tmp, "other", "run-a"), 3)
	mustRun(t, net, "plot", a, twin, "--out", svg)
	checkCurves(t, svg, 8, a, twin)

	// The default output is curves.svg in the current folder.
	wd, _ := os.Getwd()
	t.Cleanup(func() { os.Chdir(wd) })
	os.Chdir(t.TempDir())
	if out := mustRun(t, net, "plot", a); !strings.Contains(out, "wrote curves.svg: 1 run, 30 epochs") {
		t.Errorf("stdout %q", out)
	}
	checkCurves(t, curvesFile, 4, "run-a")

	notRun := t.TempDir()
	badLog := writeRun(t, filepath.Join(tmp, "bad"), 2)
	os.WriteFile(filepath.Join(badLog, logFile), []byte(`{"epoch":1}`+"\nnot json\n"), 0o644)
	noEpoch := writeRun(t, filepath.Join(tmp, "noepoch"), 2)
	os.WriteFile(filepath.Join(noEpoch, logFile), []byte(`{"lr":1}`+"\n"), 0o644)
	badValue := writeRun(t, filepath.Join(tmp, "badvalue"), 2)
	os.WriteFile(filepath.Join(badValue, logFile), []byte(`{"epoch":1,"test_loss":"x"}`+"\n"), 0o644)
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no runs", nil, ExitUsage, "name at least one run folder"},
		{"bad extension", []string{a, "--out", "x.jpg"}, ExitUsage, "--out x.jpg: name the chart F.svg or F.png"},
		{"no extension", []string{a, "--out", "chart"}, ExitUsage, "name the chart F.svg or F.png"},
		{"missing folder", []string{a, filepath.Join(tmp, "nowhere")}, ExitRefused, filepath.Join(tmp, "nowhere") + ": no such run folder"},
		{"a file", []string{filepath.Join(a, logFile)}, ExitRefused, "not a folder"},
		{"no log", []string{notRun}, ExitRefused, notRun + ": no log.jsonl, so not a run folder written by train"},
		{"malformed log", []string{badLog}, ExitRefused, filepath.Join(badLog, logFile) + ":2: not a JSON object"},
		{"no epoch", []string{noEpoch}, ExitRefused, "record 1 is not a record of an epoch"},
		{"bad value", []string{badValue}, ExitRefused, "record 1: test_loss is x, not a number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := filepath.Join(t.TempDir(), "c.svg")
			args := append([]string{"plot"}, tc.args...)
			if tc.name != "bad extension" && tc.name != "no extension" {
				args = append(args, "--out", target)
			}
			code, _, errOut := run(t, net, args...)
			if code != tc.code || !strings.Contains(errOut, tc.msg) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, tc.code, tc.msg)
			}
			if _, err := os.Stat(target); err == nil {
				t.Error("a refused plot wrote its chart")
			}
		})
	}
}

// TestFreshRunReplacesDerived checks that a fresh run in a folder where an earlier start
// finished no epoch replaces its metrics.csv, curves.svg and event files.
func TestFreshRunReplacesDerived(t *testing.T) {
	net := newTinyNet()
	run := t.TempDir()
	for _, n := range []string{metricsFile, curvesFile, runlog.EventsPrefix + "1.old"} {
		os.WriteFile(filepath.Join(run, n), []byte("left by a start that finished no epoch"), 0o644)
	}
	mustRun(t, net, "train", "--data", writeIDX(t, 24, 9), "--out", run, "--epochs", "1")
	checkMetrics(t, run)
	checkCurves(t, filepath.Join(run, curvesFile), 4)
	ev := eventFiles(t, run)
	if len(ev) != 1 || strings.HasSuffix(ev[0], ".old") {
		t.Fatalf("event files %v, want only the new one", ev)
	}
	checkEvents(t, ev[0], readLog(t, run), nil)
}
