package contract

// OpKind names an operation of a network's graph.
type OpKind string

// Operations. Attributes are those of Op.
const (
	OpInput   OpKind = "input"   // no inputs; the image
	OpConv    OpKind = "conv"    // Params[0] weight [Co, Ci, K, K]; Stride, Pad
	OpBN      OpKind = "bn"      // Params: weight, bias, running_mean, running_var
	OpReLU    OpKind = "relu"    //
	OpBNReLU  OpKind = "bnrelu"  // OpBN then OpReLU (made by the fuse pass)
	OpDropout OpKind = "dropout" // P
	OpAdd     OpKind = "add"     // In[0] + In[1]
	OpMaxPool OpKind = "maxpool" // Kernel, Stride, Pad
	OpAvgPool OpKind = "avgpool" // global average pooling to [C]
	OpFC      OpKind = "fc"      // Params: weight [classes, F], bias [classes]
)

// Op is one operation of a network's graph: the compiler's IR, and what a generated binary
// carries of it for export (Spec.Graph).
type Op struct {
	Kind   OpKind
	Name   string   // the parameter prefix or a descriptive name, e.g. "group0.block0.conv0"
	In     []int    // value IDs
	Out    int      // value ID
	Params []string // parameter names, in the order the kind defines
	Kernel int      // conv, maxpool
	Stride int      // conv, maxpool
	Pad    int      // conv, maxpool
	P      float64  // dropout probability
}

// Value is a tensor computed by a network, per image: [C, H, W] or [F]. The batch
// dimension is implicit.
type Value struct {
	ID    int
	Name  string
	Shape []int // nil until shapes are inferred
}

// BNEpsilon is the epsilon of every batch normalization, PyTorch's default.
const BNEpsilon = 1e-5
