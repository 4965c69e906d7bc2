package cli

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/wrnc/wrnc/runtime/ckpt"
	"github.com/wrnc/wrnc/runtime/model"
	"github.com/wrnc/wrnc/runtime/onnx"
)

const exportAbout = `Export the network with the weights W as an ONNX model (opset 17, IR version 8):
input "input" float32 [N,C,H,W] with a symbolic batch N, output "logits" float32
[N,classes], initializers named as the weights' tensors. The input is normalized as
predict --npy takes it; --with-normalize puts the normalization stored in W (from
training) into the graph, so that the model takes pixels in [0, 255]. The normalization
and the class names are in the model's metadata_props.`

func runExport(c *cmd) func() error {
	weights := c.fs.String("weights", "", "weights `W` (safetensors) to export (required)")
	out := c.fs.String("onnx", "", "ONNX file `OUT.onnx` to write (required)")
	withNorm := c.fs.Bool("with-normalize", false, "include the normalization stored in W, so that the model takes pixels in [0, 255]")
	return func() error {
		if err := c.noArgs(); err != nil {
			return err
		}
		switch {
		case *weights == "":
			return usagef("--weights W is required")
		case *out == "":
			return usagef("--onnx OUT.onnx is required")
		case !strings.HasSuffix(*out, ".onnx"):
			return usagef("--onnx %s: name the file OUT.onnx", *out)
		}
		spec := c.net.Spec()
		f, err := readWeights(*weights, spec, c.env.Stderr)
		if err != nil {
			return err
		}
		st := &model.State{Params: make([]float32, spec.ParamsSize), Stats: make([]float32, spec.StatsSize)}
		if err := loadWeights(st, spec, f); err != nil {
			return err
		}
		norm, err := normFromWeights(f, spec.Input)
		if err != nil {
			return err
		}
		if *withNorm && norm == nil {
			return fmt.Errorf("--with-normalize: %s holds no normalization (only checkpoints written by train do); export without it and normalize the input yourself", *weights)
		}
		b, err := onnx.Export(&onnx.Model{Spec: spec, Params: st.Params, Stats: st.Stats, Norm: norm,
			Classes: classNames(f, spec.Classes), WithNormalize: *withNorm})
		if err != nil {
			return err
		}
		if err := ckpt.WriteFileAtomic(*out, func(w io.Writer) error { _, err := w.Write(b); return err }); err != nil {
			return err
		}
		in := "normalized images"
		if *withNorm {
			in = "pixels in [0, 255]"
		}
		fmt.Fprintf(c.env.Stdout, "wrote %s: %s, %d bytes; input %q float32 [N,%d,%d,%d] (%s), output %q [N,%d]\n",
			filepath.Clean(*out), spec.Name, len(b), onnx.InputName, spec.Input[0], spec.Input[1], spec.Input[2], in, onnx.OutputName, spec.Classes)
		return nil
	}
}
