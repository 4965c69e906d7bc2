package ir

import "strings"

// Builder appends values, operations and parameters to a Program; lowering uses it so that
// every op names its values by ID and every parameter is declared once, in order.
type Builder struct{ P *Program }

// Value adds a value named name and returns its ID.
func (b Builder) Value(name string) int {
	id := len(b.P.Values)
	b.P.Values = append(b.P.Values, &Value{ID: id, Name: name})
	return id
}

// Param declares a parameter.
func (b Builder) Param(name string, role Role, shape ...int) string {
	b.P.Params = append(b.P.Params, &Param{Name: name, Shape: shape, Role: role})
	return name
}

// Op appends op, giving it a fresh output value named after it, and returns that value.
func (b Builder) Op(op *Op) int {
	op.Out = b.Value(op.Name)
	b.P.Ops = append(b.P.Ops, op)
	return op.Out
}

// Conv declares the weight name [co, ci, k, k] and appends a convolution of x, named as
// its weight without a ".weight" suffix.
func (b Builder) Conv(name string, x, ci, co, k, stride, pad int) int {
	b.Param(name, ConvWeight, co, ci, k, k)
	return b.Op(&Op{Kind: OpConv, Name: strings.TrimSuffix(name, ".weight"), In: []int{x}, Params: []string{name}, Kernel: k, Stride: stride, Pad: pad})
}

// BN declares the four tensors of a batch norm over c channels at prefix and appends it.
func (b Builder) BN(prefix string, x, c int) int {
	ps := []string{
		b.Param(prefix+".weight", BNWeight, c),
		b.Param(prefix+".bias", BNBias, c),
		b.Param(prefix+".running_mean", BNMean, c),
		b.Param(prefix+".running_var", BNVar, c),
	}
	return b.Op(&Op{Kind: OpBN, Name: prefix, In: []int{x}, Params: ps})
}

// ReLU appends a rectifier of x.
func (b Builder) ReLU(name string, x int) int {
	return b.Op(&Op{Kind: OpReLU, Name: name, In: []int{x}})
}

// FC declares weight [classes, f] and bias [classes] under prefix and appends the layer.
func (b Builder) FC(prefix, weight, bias string, x, f, classes int) int {
	ps := []string{b.Param(weight, FCWeight, classes, f), b.Param(bias, FCBias, classes)}
	return b.Op(&Op{Kind: OpFC, Name: prefix, In: []int{x}, Params: ps})
}
