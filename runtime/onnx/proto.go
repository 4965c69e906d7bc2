package onnx

import (
	"encoding/binary"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers of onnx.proto (onnx/onnx.proto3, IR version 8) that export writes.
const (
	modelIRVersion     = 1
	modelProducerName  = 2
	modelProducerVer   = 3
	modelDomain        = 4
	modelModelVersion  = 5
	modelDocString     = 6
	modelGraph         = 7
	modelOpsetImport   = 8
	modelMetadataProps = 14

	opsetDomain  = 1
	opsetVersion = 2

	entryKey   = 1
	entryValue = 2

	graphNode        = 1
	graphName        = 2
	graphInitializer = 5
	graphDocString   = 10
	graphInput       = 11
	graphOutput      = 12

	nodeInput     = 1
	nodeOutput    = 2
	nodeName      = 3
	nodeOpType    = 4
	nodeAttribute = 5

	attrName   = 1
	attrF      = 2
	attrI      = 3
	attrInts   = 8
	attrType   = 20
	attrTFloat = 1 // AttributeProto.FLOAT
	attrTInt   = 2 // AttributeProto.INT
	attrTInts  = 7 // AttributeProto.INTS

	tensorDims     = 1
	tensorDataType = 2
	tensorName     = 8
	tensorRawData  = 9
	dtFloat        = 1 // TensorProto.FLOAT
	dtInt64        = 7 // TensorProto.INT64

	valueInfoName = 1
	valueInfoType = 2
	typeTensor    = 1
	ttElemType    = 1
	ttShape       = 2
	shapeDim      = 1
	dimValue      = 1
	dimParam      = 2
)

// msg is a protobuf message being encoded with protowire.
type msg []byte

func (m msg) str(num protowire.Number, s string) msg {
	m = protowire.AppendTag(m, num, protowire.BytesType)
	return protowire.AppendString(m, s)
}

func (m msg) bytes(num protowire.Number, b []byte) msg {
	m = protowire.AppendTag(m, num, protowire.BytesType)
	return protowire.AppendBytes(m, b)
}

func (m msg) int(num protowire.Number, v int64) msg {
	m = protowire.AppendTag(m, num, protowire.VarintType)
	return protowire.AppendVarint(m, uint64(v))
}

func (m msg) float(num protowire.Number, f float32) msg {
	m = protowire.AppendTag(m, num, protowire.Fixed32Type)
	return protowire.AppendFixed32(m, math.Float32bits(f))
}

// ints appends a packed repeated int64 field.
func (m msg) ints(num protowire.Number, v []int64) msg {
	var packed []byte
	for _, x := range v {
		packed = protowire.AppendVarint(packed, uint64(x))
	}
	return m.bytes(num, packed)
}

// Attributes of a node.
func attrInt(name string, v int64) msg {
	return msg(nil).str(attrName, name).int(attrType, attrTInt).int(attrI, v)
}

func attrFloat(name string, v float32) msg {
	return msg(nil).str(attrName, name).int(attrType, attrTFloat).float(attrF, v)
}

func attrIntList(name string, v ...int64) msg {
	return msg(nil).str(attrName, name).int(attrType, attrTInts).ints(attrInts, v)
}

// node encodes a NodeProto.
func node(op, name string, in, out []string, attrs ...msg) msg {
	var m msg
	for _, s := range in {
		m = m.str(nodeInput, s)
	}
	for _, s := range out {
		m = m.str(nodeOutput, s)
	}
	m = m.str(nodeName, name).str(nodeOpType, op)
	for _, a := range attrs {
		m = m.bytes(nodeAttribute, a)
	}
	return m
}

// floatTensor encodes a float32 TensorProto with raw little-endian data.
func floatTensor(name string, dims []int, data []float32) msg {
	raw := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	return msg(nil).ints(tensorDims, int64s(dims)).int(tensorDataType, dtFloat).str(tensorName, name).bytes(tensorRawData, raw)
}

// int64Tensor encodes an int64 TensorProto with raw little-endian data.
func int64Tensor(name string, dims []int, data []int64) msg {
	raw := make([]byte, 8*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(v))
	}
	return msg(nil).ints(tensorDims, int64s(dims)).int(tensorDataType, dtInt64).str(tensorName, name).bytes(tensorRawData, raw)
}

// valueInfo encodes a float32 tensor's ValueInfoProto; a dimension < 0 is the symbolic
// batch dimension "N".
func valueInfo(name string, dims []int) msg {
	var shape msg
	for _, d := range dims {
		var dim msg
		if d < 0 {
			dim = dim.str(dimParam, "N")
		} else {
			dim = dim.int(dimValue, int64(d))
		}
		shape = shape.bytes(shapeDim, dim)
	}
	tt := msg(nil).int(ttElemType, dtFloat).bytes(ttShape, shape)
	return msg(nil).str(valueInfoName, name).bytes(valueInfoType, msg(nil).bytes(typeTensor, tt))
}

func int64s(v []int) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}
