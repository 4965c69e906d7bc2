package ckpt

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"
)

// Tensor is one named array in C (row-major) order, of dtype F32 (float32 values in
// Data) or, when Ints is not nil, I64 (int64 values in Ints, Data nil): PyTorch keeps a
// batch normalization's num_batches_tracked as an I64 scalar. A shape [] is a scalar,
// one value.
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
	Ints  []int64
}

// The dtypes of a Tensor, as safetensors names them.
const (
	F32 = "F32"
	I64 = "I64"
)

// Dtype is t's dtype: I64 when Ints is not nil, else F32.
func (t *Tensor) Dtype() string {
	if t.Ints != nil {
		return I64
	}
	return F32
}

// itemSize is the bytes of one value of dtype.
func itemSize(dtype string) int64 {
	if dtype == I64 {
		return 8
	}
	return 4
}

// count is the number of values t holds.
func (t *Tensor) count() int {
	if t.Ints != nil {
		return len(t.Ints)
	}
	return len(t.Data)
}

// metadataKey is the header entry that holds string metadata.
const metadataKey = "__metadata__"

// Write writes tensors (dtype "F32", or "I64" for those with Ints; little endian) and
// string metadata (the
// header's "__metadata__" entry, omitted when meta is empty) as a safetensors
// file at path, atomically (see WriteFileAtomic): a crash never leaves a
// half-written file under path.
//
// Tensors are laid out in the order given, contiguously from offset 0;
// metadata keys are sorted. The header is JSON written as Python's json.dumps
// writes it (separators ", " and ": ", non-ASCII escaped), padded with spaces
// to a multiple of 8 bytes, so that with tensors sorted by name and no
// metadata the file is byte for byte the one bench/torch/torch_wrn.py writes.
func Write(path string, tensors []Tensor, meta map[string]string) error {
	hdr, err := encodeHeader(tensors, meta)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return WriteFileAtomic(path, func(w io.Writer) error {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(hdr)))
		if _, err := w.Write(n[:]); err != nil {
			return err
		}
		if _, err := w.Write(hdr); err != nil {
			return err
		}
		return writeData(w, tensors)
	})
}

// writeData writes the values of tensors one after the other, as the header written by
// encodeHeader lays them out.
func writeData(w io.Writer, tensors []Tensor) error {
	for _, t := range tensors {
		var err error
		if t.Ints != nil {
			err = writeInts(w, t.Ints)
		} else {
			err = writeFloats(w, t.Data)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// encodeHeader checks the tensors and returns the padded JSON header.
func encodeHeader(tensors []Tensor, meta map[string]string) ([]byte, error) {
	b := []byte{'{'}
	sep := false
	if len(meta) > 0 {
		keys := make([]string, 0, len(meta))
		for k, v := range meta {
			if !validName(k) || !validName(v) {
				return nil, fmt.Errorf("metadata %q: %q is not valid UTF-8", k, v)
			}
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = appendPyString(b, metadataKey)
		b = append(b, ": {"...)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendPyString(b, k)
			b = append(b, ": "...)
			b = appendPyString(b, meta[k])
		}
		b = append(b, '}')
		sep = true
	}
	seen := make(map[string]bool, len(tensors))
	var off int64
	for _, t := range tensors {
		switch {
		case t.Name == "":
			return nil, fmt.Errorf("a tensor has an empty name")
		case t.Name == metadataKey:
			return nil, fmt.Errorf("a tensor cannot be named %s", metadataKey)
		case !validName(t.Name):
			return nil, fmt.Errorf("tensor name %q is not valid UTF-8", t.Name)
		case seen[t.Name]:
			return nil, fmt.Errorf("tensor %q appears twice", t.Name)
		}
		seen[t.Name] = true
		dtype, field := t.Dtype(), "Data"
		if dtype == I64 {
			field = "Ints"
		}
		item := itemSize(dtype)
		n, ok := numElements(t.Shape)
		switch {
		case !ok || n > math.MaxInt64/item:
			return nil, fmt.Errorf("tensor %q: bad shape %v", t.Name, t.Shape)
		case t.Ints != nil && t.Data != nil:
			return nil, fmt.Errorf("tensor %q has both Data and Ints; an I64 tensor has Ints only", t.Name)
		case n != int64(t.count()):
			return nil, fmt.Errorf("tensor %q: shape %v holds %d values, %s has %d", t.Name, t.Shape, n, field, t.count())
		}
		shape := make([]int64, len(t.Shape))
		for i, d := range t.Shape {
			shape[i] = int64(d)
		}
		if sep {
			b = append(b, ", "...)
		}
		sep = true
		b = appendPyString(b, t.Name)
		b = append(b, `: {"dtype": "`+dtype+`", "shape": `...)
		b = appendPyInts(b, shape)
		b = append(b, `, "data_offsets": `...)
		b = appendPyInts(b, []int64{off, off + item*n})
		b = append(b, '}')
		off += item * n
	}
	b = append(b, '}')
	for len(b)%8 != 0 {
		b = append(b, ' ')
	}
	return b, nil
}

// numElements returns the number of values a shape holds; ok is false for a
// negative dimension or a count whose byte size overflows an int64.
func numElements(shape []int) (n int64, ok bool) {
	n = 1
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
		if d == 0 {
			n = 0
			continue
		}
		if n > math.MaxInt64/4/int64(d) {
			return 0, false
		}
		n *= int64(d)
	}
	return n, true
}

// writeFloats writes v as little-endian float32 values.
func writeFloats(w io.Writer, v []float32) error {
	var buf [16 << 10]byte
	for len(v) > 0 {
		k := min(len(v), len(buf)/4)
		for i, x := range v[:k] {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(x))
		}
		if _, err := w.Write(buf[:4*k]); err != nil {
			return err
		}
		v = v[k:]
	}
	return nil
}

// writeInts writes v as little-endian int64 values.
func writeInts(w io.Writer, v []int64) error {
	var buf [16 << 10]byte
	for len(v) > 0 {
		k := min(len(v), len(buf)/8)
		for i, x := range v[:k] {
			binary.LittleEndian.PutUint64(buf[8*i:], uint64(x))
		}
		if _, err := w.Write(buf[:8*k]); err != nil {
			return err
		}
		v = v[k:]
	}
	return nil
}
