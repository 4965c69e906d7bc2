package cli

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/wrnc/wrnc/runtime/progress"
)

const evalAbout = `Evaluate weights on the test split of a data set: top-1 error and mean softmax
cross-entropy loss. The normalization is the one stored in the weights file; weights
without one (trained elsewhere) get the recipe's, fitted on the data set's training split.
--json prints {"error": fraction, "loss": x, "n": examples}.`

func runEval(c *cmd) func() error {
	weights := c.fs.String("weights", "", "weights `W` (safetensors) to evaluate (required)")
	dir := c.fs.String("data", "", "data `DIR` whose test split is evaluated (required)")
	asJSON := c.fs.Bool("json", false, `print {"error", "loss", "n"} as one JSON object`)
	c.computeFlags()
	return func() error {
		if err := c.noArgs(); err != nil {
			return err
		}
		switch {
		case *weights == "":
			return usagef("--weights W is required")
		case *dir == "":
			return usagef("--data DIR is required")
		}
		return eval(c, *weights, *dir, *asJSON)
	}
}

// evalResult is the JSON form of eval.
type evalResult struct {
	Error float64 `json:"error"`
	Loss  any     `json:"loss"` // float64, or nil (null) when not finite
	N     int     `json:"n"`
}

func eval(c *cmd, weights, dir string, asJSON bool) error {
	spec := c.net.Spec()
	f, err := readWeights(weights, spec, c.env.Stderr)
	if err != nil {
		return err
	}
	n, err := normFromWeights(f, spec.Input)
	if err != nil {
		return err
	}
	// The test split is all that is measured; the training split is read only to fit a
	// normalization that the checkpoint lacks.
	// A streamed data set (augment resized_crop) fits nothing: its test split is enough.
	var ds *dataset
	if n == nil && !streams(spec.Recipe) {
		ds, err = loadDataset(dir, spec, 0)
	} else {
		ds, err = loadTestDataset(dir, spec)
	}
	if err != nil {
		return err
	}
	printNotes(c.env.Stderr, ds)
	if ds.testLen() == 0 {
		return fmt.Errorf("%s: the test split is empty: nothing to evaluate", dir)
	}
	if n == nil {
		if !streams(spec.Recipe) {
			fmt.Fprintf(c.env.Stderr, "note: %s holds no normalization; fitting %q on the training split of %s\n", weights, spec.Recipe.Normalize, dir)
		}
		if n, err = ds.fitNorm(spec.Recipe.Normalize); err != nil {
			return fmt.Errorf("%s: %v", dir, err)
		}
	}
	if err := c.reserve(false, 0); err != nil {
		return err
	}
	m := newMachine(c.net, c.threads, false)
	defer m.close()
	if err := m.load(f); err != nil {
		return err
	}
	var bar *progress.Bar
	if !asJSON {
		bar = progress.NewBar(c.env.Stderr, "eval", ds.testLen())
	}
	loss, errFrac, err := evaluate(m, ds, 0, ds.testLen(), n, bar)
	if err != nil {
		return err
	}
	if bar != nil {
		bar.Finish()
	}
	if asJSON {
		b, err := json.Marshal(evalResult{Error: errFrac, Loss: jsonFloat(loss), N: ds.testLen()})
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(c.env.Stdout, string(b))
		return err
	}
	wrong := int(math.Round(errFrac * float64(ds.testLen())))
	_, err = fmt.Fprintf(c.env.Stdout, "test error %s (%d of %d wrong), loss %.4f\n", pct(errFrac), wrong, ds.testLen(), loss)
	return err
}

// jsonFloat is x, or nil (JSON null) when x is NaN or infinite.
func jsonFloat(x float64) any {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return x
}
