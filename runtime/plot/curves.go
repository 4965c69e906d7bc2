package plot

import "fmt"

// Run is the per-epoch curves of one training run, as its log.jsonl holds them; a
// value missing from the log is NaN.
type Run struct {
	Name                  string // the run folder's name
	Epoch                 []float64
	TrainLoss, TestLoss   []float64
	TrainError, TestError []float64 // fractions
}

// Curves is the chart of the runs: loss and error (in percent) against the epoch, one
// colour per run, training dashed and test solid; each run gives four series, in the
// order loss train, loss test, error train, error test.
func Curves(title string, runs []Run) *Chart {
	loss := Panel{Title: "Loss", XLabel: "epoch", YLabel: "cross-entropy loss", XInteger: true}
	errp := Panel{Title: "Error", XLabel: "epoch", YLabel: "error (%)", XInteger: true, YCeil: 100}
	c := &Chart{Title: title}
	for i, r := range runs {
		col := Palette[i%len(Palette)]
		pct := make([][]float64, 2)
		for j, v := range [][]float64{r.TrainError, r.TestError} {
			for _, f := range v {
				pct[j] = append(pct[j], 100*f)
			}
		}
		loss.Series = append(loss.Series,
			Series{Label: r.Name + " train loss", X: r.Epoch, Y: r.TrainLoss, Color: col, Dashed: true},
			Series{Label: r.Name + " test loss", X: r.Epoch, Y: r.TestLoss, Color: col})
		errp.Series = append(errp.Series,
			Series{Label: r.Name + " train error", X: r.Epoch, Y: pct[0], Color: col, Dashed: true},
			Series{Label: r.Name + " test error", X: r.Epoch, Y: pct[1], Color: col})
		c.Legend = append(c.Legend, LegendEntry{Label: legendName(r), Color: col})
	}
	c.Legend = append(c.Legend, LegendEntry{Label: "train", Color: ColorKey, Dashed: true}, LegendEntry{Label: "test", Color: ColorKey})
	c.Panels = []Panel{loss, errp}
	return c
}

// legendName is r's name in the legend, with its final test error.
func legendName(r Run) string {
	if len(r.TestError) == 0 || !finite(r.TestError[len(r.TestError)-1]) {
		return r.Name
	}
	epochs := "1 epoch"
	if n := len(r.Epoch); n != 1 {
		epochs = fmt.Sprintf("%d epochs", n)
	}
	return fmt.Sprintf("%s (%s, test error %.2f%%)", r.Name, epochs, 100*r.TestError[len(r.TestError)-1])
}
