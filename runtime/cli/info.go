package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/wrnc/wrnc/runtime/ckpt"
	"github.com/wrnc/wrnc/runtime/data"
	"github.com/wrnc/wrnc/runtime/model"
	"github.com/wrnc/wrnc/runtime/sysmem"
)

const infoAbout = `Describe the network this binary was compiled for: input, classes, trainable
parameters, multiply-accumulates per image, memory plan, training recipe and the devices
built in. --json prints the fields of 'wrnc inspect --json' plus peak_bytes. With
--weights W it also describes the run that wrote the checkpoint W: epochs done, steps,
best test error, the recipe it trained with and the overrides of the compiled one
(train --seed --lr ...), the normalization and the class names ("run" in --json).`

func runInfo(c *cmd) func() error {
	asJSON := c.fs.Bool("json", false, "print the description as one JSON object")
	weights := c.fs.String("weights", "", "also describe the run that wrote the checkpoint `W`")
	return func() error {
		if err := c.noArgs(); err != nil {
			return err
		}
		spec := c.net.Spec()
		var ri *runDesc
		if *weights != "" {
			f, err := readWeights(*weights, spec, c.env.Stderr)
			if err != nil {
				return err
			}
			if ri, err = describeRun(f, spec); err != nil {
				return err
			}
		}
		if *asJSON {
			s := strings.TrimSpace(spec.Info)
			if s == "" {
				return fmt.Errorf("this binary carries no JSON description of its network")
			}
			if ri != nil {
				var obj map[string]any
				if err := json.Unmarshal([]byte(s), &obj); err != nil {
					return fmt.Errorf("this binary's JSON description is unreadable: %v", err)
				}
				obj["run"] = ri
				b, err := json.Marshal(obj)
				if err != nil {
					return err
				}
				s = string(b)
			}
			_, err := fmt.Fprintln(c.env.Stdout, s)
			return err
		}
		if err := writeInfo(c.env.Stdout, spec, c.deviceList()); err != nil || ri == nil {
			return err
		}
		return ri.write(c.env.Stdout)
	}
}

// runDesc is what a checkpoint written by train says of its run.
type runDesc struct {
	Weights       string            `json:"weights"`
	Network       string            `json:"network"`
	Epoch         int               `json:"epoch"`
	Epochs        int               `json:"epochs"`
	Step          uint64            `json:"step"`
	BestTestError *float64          `json:"best_test_error"`
	Recipe        *model.Recipe     `json:"recipe"`
	Overrides     map[string]string `json:"overrides"`
	Normalize     string            `json:"normalize"`
	Classes       []string          `json:"classes"`
}

// describeRun reads the run's description from f's metadata; weights trained elsewhere
// have none, which is said, not refused.
func describeRun(f *ckpt.File, spec *model.Spec) (*runDesc, error) {
	ri := &runDesc{Weights: f.Path, Network: f.Meta[metaNetwork], Overrides: map[string]string{},
		Normalize: f.Meta[data.MetaNormKind], Classes: classNames(f, spec.Classes)}
	ri.Epoch, _ = strconv.Atoi(f.Meta[metaEpoch])
	ri.Epochs, _ = strconv.Atoi(f.Meta[metaEpochs])
	ri.Step, _ = strconv.ParseUint(f.Meta[metaStep], 10, 64)
	if b, err := strconv.ParseFloat(f.Meta[metaBest], 64); err == nil {
		ri.BestTestError = &b
	}
	if s := f.Meta[metaRecipe]; s != "" {
		ri.Recipe = new(model.Recipe)
		if err := json.Unmarshal([]byte(s), ri.Recipe); err != nil {
			return nil, fmt.Errorf("%s: its metadata %q is not a recipe: %v", f.Path, metaRecipe, err)
		}
	}
	if s := f.Meta[metaOverrides]; s != "" {
		if err := json.Unmarshal([]byte(s), &ri.Overrides); err != nil {
			return nil, fmt.Errorf("%s: its metadata %q is not a JSON object of flags: %v", f.Path, metaOverrides, err)
		}
	}
	return ri, nil
}

// write prints the run's rows after writeInfo's.
func (ri *runDesc) write(w io.Writer) error {
	var b strings.Builder
	row := func(k, v string) { fmt.Fprintf(&b, "%-11s %s\n", k, v) }
	row("weights", ri.Weights)
	if ri.Epoch == 0 {
		row("run", "none recorded: not a checkpoint written by train (weights trained elsewhere?)")
		_, err := io.WriteString(w, b.String())
		return err
	}
	run := fmt.Sprintf("epoch %d of %d, %d steps", ri.Epoch, ri.Epochs, ri.Step)
	if ri.BestTestError != nil && *ri.BestTestError <= 1 {
		run += ", best test error " + pct(*ri.BestTestError)
	}
	row("run", run)
	over := "none"
	if len(ri.Overrides) > 0 {
		over = overridesString(ri.Overrides)
	}
	row("overrides", over)
	if ri.Recipe != nil {
		row("trained", recipeString(*ri.Recipe))
	}
	if ri.Normalize != "" {
		row("normalize", ri.Normalize)
	}
	if len(ri.Classes) > 0 {
		row("classes", strings.Join(ri.Classes, ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeInfo prints the readable summary of spec and the devices of the build.
func writeInfo(w io.Writer, spec *model.Spec, devices string) error {
	var stats int
	for i := range spec.Params {
		if !spec.Params[i].Trainable() {
			stats += spec.Params[i].Size()
		}
	}
	r := spec.Recipe
	rows := [][2]string{
		{"network", spec.Name},
		{"input", fmt.Sprintf("%dx%dx%d (channels x height x width)", spec.Input[0], spec.Input[1], spec.Input[2])},
		{"classes", strconv.Itoa(spec.Classes)},
		{"batch", fmt.Sprintf("%d (compiled; other sizes run in chunks, single images on batch-1 kernels)", spec.Batch)},
		{"dropout", strconv.FormatFloat(spec.Dropout, 'g', -1, 64)},
		{"params", fmt.Sprintf("%s trainable (+ %s running statistics) in %d tensors", group(int64(spec.ParamsSize)), group(int64(stats)), len(spec.Params))},
		{"MACs", fmt.Sprintf("%s per image, forward (%.3f GFLOP)", group(spec.MACs), 2*float64(spec.MACs)/1e9)},
		{"memory", fmt.Sprintf("training arena %s at batch %d, inference %s at batch %d, %s at batch 1; each holds the %s of transformed weights",
			sysmem.Bytes(4*int64(spec.TrainArena)), spec.Batch, sysmem.Bytes(4*int64(spec.InferArena)), spec.Batch, sysmem.Bytes(4*int64(spec.Infer1Arena)),
			sysmem.Bytes(4*int64(spec.Shared)))},
	}
	if pb, ok := peakBytes(spec.Info); ok {
		rows = append(rows, [2]string{"peak bytes", fmt.Sprintf("%s (%s)", group(pb), sysmem.Bytes(pb))})
	}
	rows = append(rows,
		[2]string{"weights", fmt.Sprintf("%s of parameters and statistics", sysmem.Bytes(4*int64(spec.ParamsSize+stats)))},
		[2]string{"recipe", recipeString(r)},
		[2]string{"devices", devices},
	)
	var b strings.Builder
	for _, row := range rows {
		fmt.Fprintf(&b, "%-11s %s\n", row[0], row[1])
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// recipeString is the training recipe in the words of the .wrn file.
func recipeString(r model.Recipe) string {
	ms := make([]string, len(r.Milestones))
	for i, m := range r.Milestones {
		ms[i] = strconv.Itoa(m)
	}
	aug := "none"
	if r.Flip || r.Crop > 0 || r.ResizedCrop {
		var parts []string
		if r.ResizedCrop {
			parts = append(parts, "resized_crop")
		}
		if r.Flip {
			parts = append(parts, "flip")
		}
		if r.Crop > 0 {
			pad := "zero"
			if r.Padding == "reflect" {
				pad = "reflect"
			}
			parts = append(parts, fmt.Sprintf("crop=%d padding=%s", r.Crop, pad))
		}
		aug = strings.Join(parts, " ")
	}
	return fmt.Sprintf("epochs %d; sgd lr=%g momentum=%g nesterov=%v weight_decay=%g dampening=%g; schedule step gamma=%g at=%s; augment %s; normalize %s; seed %d",
		r.Epochs, r.LR, r.Momentum, r.Nesterov, r.WeightDecay, r.Dampening, r.Gamma, strings.Join(ms, ","), aug, r.Normalize, r.Seed)
}

// peakBytes reads peak_bytes from the info JSON.
func peakBytes(info string) (int64, bool) {
	var v struct {
		PeakBytes *int64 `json:"peak_bytes"`
	}
	if err := json.Unmarshal([]byte(info), &v); err != nil || v.PeakBytes == nil {
		return 0, false
	}
	return *v.PeakBytes, true
}

// group writes n with thousands separators: 2,748,890.
func group(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, ch := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(ch)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
