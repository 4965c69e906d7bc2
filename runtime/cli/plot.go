package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/wrnc/wrnc/runtime/plot"
)

const plotAbout = `Draw the training curves of one or several runs on one chart: loss and error (%)
against the epoch, read from each RUN/log.jsonl, one colour per run, training dashed and
test solid, the legend naming each run folder with its last test error. The chart is SVG,
or PNG when --out ends in .png (twice the SVG's size). It needs no weights and no data;
a run still training can be drawn (train itself redraws RUN/curves.svg every epoch).`

func runPlot(c *cmd) func() error {
	out := c.fs.String("out", curvesFile, "chart `F.svg` or F.png to write")
	return func() error {
		if len(c.positional) == 0 {
			return usagef("name at least one run folder (RUN...)")
		}
		switch strings.ToLower(filepath.Ext(*out)) {
		case ".svg", ".png":
		default:
			return usagef("--out %s: name the chart F.svg or F.png", *out)
		}
		var runs []plot.Run
		epochs := 0
		names := runNames(c.positional)
		for i, dir := range c.positional {
			recs, err := readRun(dir)
			if err != nil {
				return err
			}
			if len(recs) == 0 {
				fmt.Fprintf(c.env.Stderr, "%s: %s holds no epoch yet; the chart shows the run without lines\n", dir, filepath.Join(dir, logFile))
			}
			epochs += len(recs)
			runs = append(runs, curvesRun(names[i], recs))
		}
		if err := writeChart(*out, plot.Curves(chartTitle(runs), runs)); err != nil {
			return err
		}
		what := "1 run"
		if len(runs) > 1 {
			what = fmt.Sprintf("%d runs", len(runs))
		}
		fmt.Fprintf(c.env.Stdout, "wrote %s: %s, %d epochs in all\n", filepath.Clean(*out), what, epochs)
		return nil
	}
}

// runNames names the run folders dirs in a chart: by their last element, or by their
// whole path where two share it.
func runNames(dirs []string) []string {
	seen := map[string]int{}
	for _, d := range dirs {
		seen[runName(d)]++
	}
	names := make([]string, len(dirs))
	for i, d := range dirs {
		names[i] = runName(d)
		if seen[names[i]] > 1 {
			names[i] = filepath.Clean(d)
		}
	}
	return names
}

// readRun reads the log of the run folder dir.
func readRun(dir string) ([]epochRecord, error) {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%s: no such run folder", dir)
	case err != nil:
		return nil, err
	case !st.IsDir():
		return nil, fmt.Errorf("%s: not a folder (plot takes run folders, which train --out writes)", dir)
	}
	path := filepath.Join(dir, logFile)
	recs, err := readRecords(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: no %s, so not a run folder written by train", dir, logFile)
	}
	return recs, err
}

// chartTitle names the runs of a chart, or counts them when their names are long.
func chartTitle(runs []plot.Run) string {
	var names []string
	for _, r := range runs {
		names = append(names, r.Name)
	}
	if t := strings.Join(names, ", "); len(t) <= 80 {
		return t
	}
	return fmt.Sprintf("%d runs", len(runs))
}
