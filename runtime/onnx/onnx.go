// Package onnx writes a compiled network with its weights as an ONNX model (opset 17, IR
// version 8), from the graph the compiler lowered (model.Spec.Graph). The protobuf is
// encoded with google.golang.org/protobuf's protowire; the field numbers are onnx.proto's.
package onnx

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/wrnc/wrnc/runtime/contract"
	"github.com/wrnc/wrnc/runtime/data"
	"github.com/wrnc/wrnc/runtime/model"
)

// Versions written, the ones Debian's python3-onnx 1.12 checker validates.
const (
	IRVersion = 8
	Opset     = 17
)

// Names of the graph's input and output.
const (
	InputName  = "input"
	OutputName = "logits"
)

// Metadata keys written besides the normalization's (data.Norm.Metadata) and
// MetaZCA.
const (
	MetaNetwork = "network"       // Spec.Name
	MetaClasses = "classes"       // class names, a JSON array
	MetaInput   = "input"         // "normalized" or "pixels 0-255" (--with-normalize)
	MetaZCA     = "normalize.zca" // base64 of the D x D float32 matrix, little-endian, row-major
)

// Model is what Export writes.
type Model struct {
	Spec          *model.Spec
	Params, Stats []float32  // in the layout of model.State
	Norm          *data.Norm // the normalization fitted in training; may be nil
	Classes       []string   // class names; may be nil
	// WithNormalize puts the normalization in the graph, so that the model takes pixels
	// in [0, 255]; otherwise it takes normalized images, as predict --npy does.
	WithNormalize bool
}

// Export encodes m as an ONNX ModelProto.
func Export(m *Model) ([]byte, error) {
	sp := m.Spec
	if len(sp.Graph) == 0 || len(sp.Values) == 0 {
		return nil, fmt.Errorf("%s: this binary carries no graph to export", sp.Name)
	}
	if len(m.Params) != sp.ParamsSize || len(m.Stats) != sp.StatsSize {
		return nil, fmt.Errorf("%s: %d parameters and %d statistics, want %d and %d", sp.Name, len(m.Params), len(m.Stats), sp.ParamsSize, sp.StatsSize)
	}
	if m.WithNormalize && m.Norm == nil {
		return nil, fmt.Errorf("--with-normalize: the weights carry no normalization (only checkpoints written by train do)")
	}
	g := &graph{sp: sp, names: make([]string, len(sp.Values))}
	if err := g.params(m); err != nil {
		return nil, err
	}
	in := InputName
	if m.WithNormalize {
		var err error
		if in, err = g.normalize(m.Norm); err != nil {
			return nil, err
		}
	}
	if err := g.ops(in); err != nil {
		return nil, err
	}
	c, h, w := sp.Input[0], sp.Input[1], sp.Input[2]
	gr := msg(nil)
	for _, n := range g.nodes {
		gr = gr.bytes(graphNode, n)
	}
	gr = gr.str(graphName, sp.Name)
	for _, t := range g.inits {
		gr = gr.bytes(graphInitializer, t)
	}
	doc := "input: float32 [N, C, H, W] normalized as the network was trained"
	if m.WithNormalize {
		doc = "input: float32 [N, C, H, W] pixels in [0, 255]; the normalization is in the graph"
	}
	gr = gr.str(graphDocString, doc)
	gr = gr.bytes(graphInput, valueInfo(InputName, []int{-1, c, h, w}))
	gr = gr.bytes(graphOutput, valueInfo(OutputName, []int{-1, sp.Classes}))

	meta, err := metadata(m)
	if err != nil {
		return nil, err
	}
	out := msg(nil).int(modelIRVersion, IRVersion).str(modelProducerName, "wrnc").
		str(modelDomain, "wrnc").int(modelModelVersion, 1).
		str(modelDocString, fmt.Sprintf("%s exported by wrnc; %s", sp.Name, doc)).
		bytes(modelGraph, gr).
		bytes(modelOpsetImport, msg(nil).str(opsetDomain, "").int(opsetVersion, Opset))
	for _, k := range slices.Sorted(maps.Keys(meta)) {
		out = out.bytes(modelMetadataProps, msg(nil).str(entryKey, k).str(entryValue, meta[k]))
	}
	return out, nil
}

// metadata is the model's metadata_props: the network, the input's kind, the
// normalization and the class names.
func metadata(m *Model) (map[string]string, error) {
	meta := map[string]string{MetaNetwork: m.Spec.Name, MetaInput: "normalized"}
	if m.WithNormalize {
		meta[MetaInput] = "pixels 0-255"
	}
	if m.Norm != nil {
		maps.Copy(meta, m.Norm.Metadata())
		if m.Norm.Kind == data.NormZCA {
			raw := make([]byte, 4*len(m.Norm.ZCA))
			for i, v := range m.Norm.ZCA {
				binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
			}
			meta[MetaZCA] = base64.StdEncoding.EncodeToString(raw)
		}
	}
	if len(m.Classes) > 0 {
		b, err := json.Marshal(m.Classes)
		if err != nil {
			return nil, err
		}
		meta[MetaClasses] = string(b)
	}
	return meta, nil
}

// graph is the GraphProto being built.
type graph struct {
	sp    *model.Spec
	nodes []msg
	inits []msg
	names []string // the ONNX name of every value
	taken map[string]bool
}

// params adds every parameter as an initializer named as ours.
func (g *graph) params(m *Model) error {
	g.taken = map[string]bool{InputName: true, OutputName: true}
	for i := range g.sp.Params {
		p := &g.sp.Params[i]
		buf := m.Stats
		if p.Trainable() {
			buf = m.Params
		}
		if p.Offset < 0 || p.Offset+p.Size() > len(buf) {
			return fmt.Errorf("%s: parameter %s lies outside the weights", g.sp.Name, p.Name)
		}
		g.inits = append(g.inits, floatTensor(p.Name, p.Shape, buf[p.Offset:p.Offset+p.Size()]))
		g.taken[p.Name] = true
	}
	return nil
}

// constant adds a float32 initializer of a name not taken.
func (g *graph) constant(base string, dims []int, v []float32) string {
	name := g.fresh(base)
	g.inits = append(g.inits, floatTensor(name, dims, v))
	return name
}

// fresh returns base, or base with a suffix, so that no two names of the graph are equal
// (a convolution's output is "conv0/out", since its weight is "conv0").
func (g *graph) fresh(base string) string {
	name := base
	if g.taken[name] {
		name = base + "/out"
	}
	for i := 1; g.taken[name]; i++ {
		name = fmt.Sprintf("%s_%d", base, i)
	}
	g.taken[name] = true
	return name
}

func (g *graph) add(op, name string, in []string, attrs ...msg) string {
	out := g.fresh(name)
	g.nodes = append(g.nodes, node(op, out, in, []string{out}, attrs...))
	return out
}

// normalize adds the nodes that turn pixels in [0, 255] into the network's input, as
// data.Norm.Apply does, and returns the name of the normalized image.
func (g *graph) normalize(n *data.Norm) (string, error) {
	c, h, w := g.sp.Input[0], g.sp.Input[1], g.sp.Input[2]
	d := c * h * w
	if err := n.Check(c, d); err != nil {
		return "", err
	}
	switch n.Kind {
	case data.NormScale:
		return g.add("Mul", "normalize/scale", []string{InputName, g.constant("normalize/inv255", nil, []float32{1.0 / 255})}), nil
	case data.NormMeanStd, data.NormImageNet:
		a, b := make([]float32, c), make([]float32, c)
		for ch := range c {
			std := float64(n.Std[ch])
			a[ch], b[ch] = float32(1/(255*std)), float32(-float64(n.Mean[ch])/std)
		}
		x := g.add("Mul", "normalize/scale", []string{InputName, g.constant("normalize/scale_factor", []int{1, c, 1, 1}, a)})
		return g.add("Add", "normalize/shift", []string{x, g.constant("normalize/shift_term", []int{1, c, 1, 1}, b)}), nil
	case data.NormZCA:
		flat := g.add("Flatten", "normalize/flatten", []string{InputName}, attrInt("axis", 1))
		x := g.add("Mul", "normalize/scale", []string{flat, g.constant("normalize/inv255", nil, []float32{1.0 / 255})})
		x = g.add("Sub", "normalize/center", []string{x, g.constant("normalize.mean", []int{d}, n.Mean)})
		// y = Z x for each image row x: x^T Z^T, and Z^T is stored for MatMul.
		zt := make([]float32, d*d)
		for i := range d {
			for j := range d {
				zt[j*d+i] = n.ZCA[i*d+j]
			}
		}
		x = g.add("MatMul", "normalize/whiten", []string{x, g.constant("normalize.zca_t", []int{d, d}, zt)})
		shape := g.fresh("normalize/shape")
		g.inits = append(g.inits, int64Tensor(shape, []int{4}, []int64{-1, int64(c), int64(h), int64(w)}))
		return g.add("Reshape", "normalize/image", []string{x, shape}), nil
	}
	return "", fmt.Errorf("unknown normalization %q", n.Kind)
}

// ops adds a node (or two) per operation of the graph; in is the name of the image.
func (g *graph) ops(in string) error {
	last := -1
	for i := range g.sp.Graph {
		op := &g.sp.Graph[i]
		if op.Out < 0 || op.Out >= len(g.names) {
			return fmt.Errorf("%s: operation %s writes value %d of %d", g.sp.Name, op.Name, op.Out, len(g.names))
		}
		ins := make([]string, len(op.In))
		for j, v := range op.In {
			if v < 0 || v >= len(g.names) || g.names[v] == "" {
				return fmt.Errorf("%s: operation %s reads value %d before it is computed", g.sp.Name, op.Name, v)
			}
			ins[j] = g.names[v]
		}
		name := op.Name
		var out string
		switch op.Kind {
		case contract.OpInput:
			out = in
		case contract.OpConv:
			k, s, p := int64(op.Kernel), int64(op.Stride), int64(op.Pad)
			out = g.add("Conv", name, append(ins, op.Params[0]),
				attrIntList("kernel_shape", k, k), attrIntList("strides", s, s), attrIntList("pads", p, p, p, p))
		case contract.OpBN, contract.OpBNReLU:
			out = g.add("BatchNormalization", name, append(ins, op.Params...), attrFloat("epsilon", contract.BNEpsilon))
			if op.Kind == contract.OpBNReLU {
				out = g.add("Relu", name+"/relu", []string{out})
			}
		case contract.OpReLU:
			out = g.add("Relu", name, ins)
		case contract.OpDropout:
			out = ins[0] // the identity at inference
		case contract.OpAdd:
			out = g.add("Add", name, ins)
		case contract.OpMaxPool:
			k, s, p := int64(op.Kernel), int64(op.Stride), int64(op.Pad)
			out = g.add("MaxPool", name, ins,
				attrIntList("kernel_shape", k, k), attrIntList("strides", s, s), attrIntList("pads", p, p, p, p))
		case contract.OpAvgPool:
			pooled := g.add("GlobalAveragePool", name, ins)
			out = g.add("Flatten", name+"/flatten", []string{pooled}, attrInt("axis", 1))
		case contract.OpFC:
			if i != len(g.sp.Graph)-1 {
				return fmt.Errorf("%s: the classifier %s is not the graph's last operation", g.sp.Name, op.Name)
			}
			// The classifier's output is the graph's output.
			out = OutputName
			g.nodes = append(g.nodes, node("Gemm", g.fresh(name), append(ins, op.Params...), []string{out}, attrInt("transB", 1)))
		default:
			return fmt.Errorf("%s: cannot export operation %s of kind %q", g.sp.Name, op.Name, op.Kind)
		}
		g.names[op.Out] = out
		last = op.Out
	}
	if last < 0 || g.names[last] != OutputName {
		return fmt.Errorf("%s: the graph does not end in the classifier", g.sp.Name)
	}
	return nil
}
