package ckpt

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"
)

// Tensor is one named float32 array in C (row-major) order.
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
}

// metadataKey is the header entry that holds string metadata.
const metadataKey = "__metadata__"

// Write writes tensors (dtype "F32", little endian) and string metadata (the
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
		for _, t := range tensors {
			if err := writeFloats(w, t.Data); err != nil {
				return err
			}
		}
		return nil
	})
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
		n, ok := numElements(t.Shape)
		if !ok {
			return nil, fmt.Errorf("tensor %q: bad shape %v", t.Name, t.Shape)
		}
		if n != int64(len(t.Data)) {
			return nil, fmt.Errorf("tensor %q: shape %v holds %d values, Data has %d", t.Name, t.Shape, n, len(t.Data))
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
		b = append(b, `: {"dtype": "F32", "shape": `...)
		b = appendPyInts(b, shape)
		b = append(b, `, "data_offsets": `...)
		b = appendPyInts(b, []int64{off, off + 4*n})
		b = append(b, '}')
		off += 4 * n
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
