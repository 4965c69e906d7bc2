package cli

import "errors"

const exportAbout = `Export weights with the network as an ONNX model. Not built yet: this binary
cannot write ONNX files. The weights themselves are safetensors named as in the original
PyTorch code, which PyTorch and ONNX tooling read directly.`

func runExport(c *cmd) func() error {
	c.fs.String("weights", "", "weights `W` (safetensors) to export")
	c.fs.String("onnx", "", "ONNX file `OUT.onnx` to write")
	return func() error {
		if err := c.noArgs(); err != nil {
			return err
		}
		return errors.New("ONNX export is not built yet in this version of wrnc; the weights file (safetensors, PyTorch names and shapes) is the exchange format for now")
	}
}
