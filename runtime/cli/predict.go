package cli

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/wrnc/wrnc/runtime/ckpt"
	"github.com/wrnc/wrnc/runtime/data"
)

const predictAbout = `Run the network on images. With IMAGE files (PNG or JPEG of the network's input
size, nothing resized; or, for a recipe with augment resized_crop, of any size, resized
and centre-cropped as evaluation does) it prints the five most likely classes of each with
their probabilities, after the normalization stored in the weights file. With --npy X.npy
--out Y.npy it reads raw input float32 [N,C,H,W], already normalized (none is applied),
and writes the logits float32 [N,classes]. --json prints, for each image (or row of
X.npy), every class's probability, the most likely classes, and the class names when
the weights file has them (train records those of the data set: an image folder's class
folders, CIFAR's label names, SVHN's digits).`

// topK is how many classes predict prints per image.
const topK = 5

func runPredict(c *cmd) func() error {
	weights := c.fs.String("weights", "", "weights `W` (safetensors) to run (required)")
	npy := c.fs.String("npy", "", "read input float32 [N,C,H,W] from `X.npy` (already normalized)")
	out := c.fs.String("out", "", "with --npy: write the logits float32 [N,classes] to `Y.npy`")
	asJSON := c.fs.Bool("json", false, "print the predictions as one JSON object: probabilities of every class, the top classes, class names")
	c.computeFlags()
	return func() error {
		switch {
		case *weights == "":
			return usagef("--weights W is required")
		case *npy != "" && *out == "" && !*asJSON:
			return usagef("--npy X.npy needs --out Y.npy for the logits (or --json)")
		case *npy == "" && *out != "":
			return usagef("--out Y.npy goes with --npy X.npy (image files print their classes)")
		case *npy != "" && len(c.positional) > 0:
			return usagef("give either image files or --npy X.npy, not both")
		case *npy == "" && len(c.positional) == 0:
			return usagef("nothing to predict: give image files, or --npy X.npy --out Y.npy")
		}
		if *npy != "" {
			return predictNPY(c, *weights, *npy, *out, *asJSON)
		}
		return predictImages(c, *weights, c.positional, *asJSON)
	}
}

// prediction is one image's entry of predict --json.
type prediction struct {
	Image         string    `json:"image"`          // the file, or "X.npy[i]"
	Class         int       `json:"class"`          // the most likely class
	Name          string    `json:"name,omitempty"` // its name, when known
	Probability   float64   `json:"probability"`    // its probability
	Top           []topItem `json:"top"`            // the most likely classes, best first
	Probabilities []float64 `json:"probabilities"`  // of every class, in class order
}

type topItem struct {
	Class       int     `json:"class"`
	Name        string  `json:"name,omitempty"`
	Probability float64 `json:"probability"`
}

// predictions turns logits [len(images), k] into the entries of predict --json.
func predictions(images []string, logits []float32, k int, names []string) []prediction {
	out := make([]prediction, len(images))
	for i, img := range images {
		p := softmax(logits[i*k : (i+1)*k])
		var top []topItem
		for _, j := range ranked(p)[:min(topK, k)] {
			it := topItem{Class: j, Probability: p[j]}
			if names != nil {
				it.Name = names[j]
			}
			top = append(top, it)
		}
		out[i] = prediction{Image: img, Class: top[0].Class, Name: top[0].Name, Probability: top[0].Probability, Top: top, Probabilities: p}
	}
	return out
}

// writePredictions prints predict --json's object.
func writePredictions(c *cmd, weights string, preds []prediction, names []string) error {
	b, err := json.Marshal(struct {
		Weights     string       `json:"weights"`
		Classes     []string     `json:"classes"`
		Predictions []prediction `json:"predictions"`
	}{weights, names, preds})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(c.env.Stdout, string(b))
	return err
}

// ranked is the classes by decreasing probability (ties by class).
func ranked(p []float64) []int {
	order := make([]int, len(p))
	for j := range order {
		order[j] = j
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case p[a] > p[b]:
			return -1
		case p[a] < p[b]:
			return 1
		}
		return 0
	})
	return order
}

// predictNPY maps raw input to logits.
func predictNPY(c *cmd, weights, in, out string, asJSON bool) error {
	spec := c.net.Spec()
	f, err := readWeights(weights, spec, c.env.Stderr)
	if err != nil {
		return err
	}
	shape, x, err := ckpt.ReadNPY(in)
	if err != nil {
		return fileError(err, "the --npy input")
	}
	want := []int{spec.Input[0], spec.Input[1], spec.Input[2]}
	if len(shape) != 4 || !slices.Equal(shape[1:], want) || shape[0] < 1 {
		return fmt.Errorf("%s: holds an array of shape %v, but the network takes float32 [N,%d,%d,%d] with N >= 1",
			in, shape, want[0], want[1], want[2])
	}
	if err := c.reserve(false, 4*int64(shape[0])*int64(spec.Classes)); err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	if err := c.reserve(false, 0); err != nil {
		return err
	}
	m := newMachine(c.net, c.threads, false)
	defer m.close()
	if err := m.load(f); err != nil {
		return err
	}
	n := shape[0]
	logits := make([]float32, n*spec.Classes)
	if err := m.infer(n, x, logits); err != nil {
		return err
	}
	if out != "" {
		if err := ckpt.WriteNPY(out, []int{n, spec.Classes}, logits); err != nil {
			return err
		}
	}
	if !asJSON {
		return nil
	}
	rows := make([]string, n)
	for i := range rows {
		rows[i] = fmt.Sprintf("%s[%d]", in, i)
	}
	names := classNames(f, spec.Classes)
	return writePredictions(c, weights, predictions(rows, logits, spec.Classes, names), names)
}

// predictImages prints the top classes of each image file.
func predictImages(c *cmd, weights string, files []string, asJSON bool) error {
	spec := c.net.Spec()
	f, err := readWeights(weights, spec, c.env.Stderr)
	if err != nil {
		return err
	}
	n, err := normFromWeights(f, spec.Input)
	if err != nil {
		return err
	}
	if n == nil {
		// Weights trained elsewhere: a normalization that fits nothing is the recipe's.
		if n, err = data.FixedNorm(spec.Recipe.Normalize, spec.Input[0]); err != nil {
			return fmt.Errorf("%s holds no normalization (weights trained elsewhere?), and this network's recipe (normalize %s) needs one fitted on its training data; "+
				"evaluate it with 'eval --data DIR', or normalize the images yourself and use --npy", weights, spec.Recipe.Normalize)
		}
	}
	names := classNames(f, spec.Classes)
	d := spec.Input[0] * spec.Input[1] * spec.Input[2]
	if err := n.Check(spec.Input[0], d); err != nil {
		return fmt.Errorf("%s: %v", weights, err)
	}
	x := make([]float32, len(files)*d)
	for i, path := range files {
		if streams(spec.Recipe) {
			if err := data.EvalImage(path, spec.Input, n, x[i*d:(i+1)*d]); err != nil {
				return fileError(err, "an image to predict")
			}
			continue
		}
		img, err := data.DecodeImage(path, spec.Input)
		if err != nil {
			return fileError(err, "an image to predict")
		}
		if err := n.Apply(img, x[i*d:(i+1)*d]); err != nil {
			return fmt.Errorf("%s: %v", weights, err)
		}
	}
	m := newMachine(c.net, c.threads, false)
	defer m.close()
	if err := m.load(f); err != nil {
		return err
	}
	k := spec.Classes
	logits := make([]float32, len(files)*k)
	if err := m.infer(len(files), x, logits); err != nil {
		return err
	}
	preds := predictions(files, logits, k, names)
	if asJSON {
		return writePredictions(c, weights, preds, names)
	}
	var b strings.Builder
	for _, pr := range preds {
		fmt.Fprintf(&b, "%s\n", pr.Image)
		for _, it := range pr.Top {
			name := ""
			if it.Name != "" {
				name = "  " + it.Name
			}
			fmt.Fprintf(&b, "  %7.3f%%  %3d%s\n", 100*it.Probability, it.Class, name)
		}
	}
	_, err = fmt.Fprint(c.env.Stdout, b.String())
	return err
}

// classNames returns the names of the classes from the weights file's metadata, or
// nil when it has none (or not one per class).
func classNames(f *ckpt.File, classes int) []string {
	var names []string
	s, ok := f.Meta[metaClasses]
	if !ok || json.Unmarshal([]byte(s), &names) != nil || len(names) != classes {
		return nil
	}
	return names
}
