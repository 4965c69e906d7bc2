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
size; nothing is resized) it prints the five most likely classes of each with their
probabilities, after the normalization stored in the weights file. With --npy X.npy
--out Y.npy it reads raw input float32 [N,C,H,W], already normalized (none is applied),
and writes the logits float32 [N,classes].`

// topK is how many classes predict prints per image.
const topK = 5

func runPredict(c *cmd) func() error {
	weights := c.fs.String("weights", "", "weights `W` (safetensors) to run (required)")
	npy := c.fs.String("npy", "", "read input float32 [N,C,H,W] from `X.npy` (already normalized)")
	out := c.fs.String("out", "", "with --npy: write the logits float32 [N,classes] to `Y.npy`")
	c.computeFlags()
	return func() error {
		switch {
		case *weights == "":
			return usagef("--weights W is required")
		case *npy != "" && *out == "":
			return usagef("--npy X.npy needs --out Y.npy for the logits")
		case *npy == "" && *out != "":
			return usagef("--out Y.npy goes with --npy X.npy (image files print their classes)")
		case *npy != "" && len(c.positional) > 0:
			return usagef("give either image files or --npy X.npy, not both")
		case *npy == "" && len(c.positional) == 0:
			return usagef("nothing to predict: give image files, or --npy X.npy --out Y.npy")
		}
		if *npy != "" {
			return predictNPY(c, *weights, *npy, *out)
		}
		return predictImages(c, *weights, c.positional)
	}
}

// predictNPY maps raw input to logits.
func predictNPY(c *cmd, weights, in, out string) error {
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
	return ckpt.WriteNPY(out, []int{n, spec.Classes}, logits)
}

// predictImages prints the top classes of each image file.
func predictImages(c *cmd, weights string, files []string) error {
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
		if spec.Recipe.Normalize != "scale" {
			return fmt.Errorf("%s holds no normalization (weights trained elsewhere?), and this network's recipe (normalize %s) needs one fitted on its training data; "+
				"evaluate it with 'eval --data DIR', or normalize the images yourself and use --npy", weights, spec.Recipe.Normalize)
		}
		n = &data.Norm{Kind: data.NormScale}
	}
	names := classNames(f, spec.Classes)
	d := spec.Input[0] * spec.Input[1] * spec.Input[2]
	if err := n.Check(spec.Input[0], d); err != nil {
		return fmt.Errorf("%s: %v", weights, err)
	}
	x := make([]float32, len(files)*d)
	for i, path := range files {
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
	var b strings.Builder
	for i, path := range files {
		p := softmax(logits[i*k : (i+1)*k])
		order := make([]int, k)
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
		fmt.Fprintf(&b, "%s\n", path)
		for _, j := range order[:min(topK, k)] {
			name := ""
			if names != nil {
				name = "  " + names[j]
			}
			fmt.Fprintf(&b, "  %7.3f%%  %3d%s\n", 100*p[j], j, name)
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
