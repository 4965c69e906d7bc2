package ckpt

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
)

// npyMagic starts every .npy file; the format version follows it.
const npyMagic = "\x93NUMPY"

// npyAlign is the alignment numpy pads the preamble (magic, version, header
// length, header) to.
const npyAlign = 64

// streamChunk is how many values a stream's data is read in at a time.
const streamChunk = 1 << 20

// readValues reads n values from r with read. A regular file holds its data: it is
// allocated at once. A stream may end early: its values grow with what arrives, so that a
// header declaring gigabytes costs only what follows it.
func readValues[T any](r io.Reader, n int64, stream bool, read func(io.Reader, []T) error) ([]T, error) {
	if !stream {
		data := make([]T, n)
		return data, read(r, data)
	}
	data := make([]T, 0, min(n, streamChunk))
	for int64(len(data)) < n {
		k := int(min(n-int64(len(data)), streamChunk))
		data = slices.Grow(data, k)
		if err := read(r, data[len(data):len(data)+k]); err != nil {
			return nil, err
		}
		data = data[:len(data)+k]
	}
	return data, nil
}

// npyGrowthDigits is numpy's GROWTH_AXIS_MAX_DIGITS: since numpy 1.24 the
// header carries spare spaces so that the first dimension can grow in place.
const npyGrowthDigits = 21

// ReadNPY reads a .npy file (format version 1.0, 2.0 or 3.0) holding a
// little-endian float32 array ('<f4') in C order. A little-endian float64
// array ('<f8') is accepted too and converted to float32 (rounding to
// nearest). Other dtypes, Fortran order (for arrays with more than one
// dimension above 1), a header numpy could not have written and data that
// does not match the shape are errors naming the file.
func ReadNPY(path string) (shape []int, data []float32, err error) {
	return ReadNPYLimit(path, MemoryLimit())
}

// ReadNPYLimit is ReadNPY of a file of at most limit bytes (see ReadLimit).
func ReadNPYLimit(path string, limit int64) (shape []int, data []float32, err error) {
	f, size, err := openLimited(path, limit, "a .npy file")
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	return decodeNPY(path, bufio.NewReaderSize(f, bufSize(size)), size, limit)
}

// decodeNPY reads a .npy file of size bytes from r, or of unknown size (size < 0, a
// stream) of at most limit bytes; path names it in errors.
func decodeNPY(path string, r io.Reader, size, limit int64) ([]int, []float32, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s: "+format, append([]any{path}, args...)...)
	}
	readErr := func(err error) error {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return bad("file ends early (was it truncated while being read?)")
		}
		return fmt.Errorf("read %s: %w", path, err)
	}
	stream := size < 0
	if stream {
		size = limit
	}
	if size < 10 {
		return nil, nil, bad("%d bytes is too short for a .npy file", size)
	}
	var pre [12]byte
	if _, err := io.ReadFull(r, pre[:8]); err != nil {
		return nil, nil, readErr(err)
	}
	if string(pre[:6]) != npyMagic {
		return nil, nil, bad("not a .npy file (it does not start with \\x93NUMPY)")
	}
	var start int64 // where the header starts
	switch major, minor := pre[6], pre[7]; {
	case major == 1 && minor == 0:
		start = 10
	case (major == 2 || major == 3) && minor == 0:
		start = 12
	default:
		return nil, nil, bad(".npy format version %d.%d is not supported (1.0, 2.0 and 3.0 are)", major, minor)
	}
	if size < start {
		return nil, nil, bad("%d bytes is too short for a .npy file", size)
	}
	if _, err := io.ReadFull(r, pre[8:start]); err != nil {
		return nil, nil, readErr(err)
	}
	var hlen int64
	if start == 10 {
		hlen = int64(binary.LittleEndian.Uint16(pre[8:]))
	} else {
		hlen = int64(binary.LittleEndian.Uint32(pre[8:]))
	}
	switch {
	case stream && hlen > min(size-start, maxStreamHeader):
		return nil, nil, bad("header length %d is more than a .npy header holds (%d bytes at most here); not a .npy file", hlen, min(size-start, maxStreamHeader))
	case hlen > size-start:
		return nil, nil, bad("header length %d goes beyond the end of the file (%d bytes)", hlen, size)
	}
	hdr := make([]byte, hlen)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, nil, readErr(err)
	}
	h, err := parseNPYHeader(string(hdr))
	if err != nil {
		return nil, nil, bad("header %.120q: %v", hdr, err)
	}
	var item int64
	switch h.descr {
	case "<f4":
		item = 4
	case "<f8":
		item = 8
	default:
		return nil, nil, bad("dtype %q is not supported (only '<f4', and '<f8' converted to float32)", h.descr)
	}
	big := 0
	for _, d := range h.shape {
		if d > 1 {
			big++
		}
	}
	if h.fortran && big > 1 {
		return nil, nil, bad("Fortran-order arrays are not supported (save np.ascontiguousarray(x))")
	}
	n, ok := numElements(h.shape)
	dataSize := size - start - hlen
	switch {
	case stream && (!ok || n > dataSize/item):
		return nil, nil, bad("shape %v of %s needs %s bytes of data, more than the %d this file may have", h.shape, h.descr, byteCount(n, item, ok), dataSize)
	case !stream && (!ok || dataSize%item != 0 || n != dataSize/item):
		return nil, nil, bad("shape %v of %s needs %s bytes of data, the file has %d", h.shape, h.descr, byteCount(n, item, ok), dataSize)
	}
	read := readFloats
	if item == 8 {
		read = readFloat64s
	}
	data, err := readValues(r, n, stream, read)
	if err != nil {
		return nil, nil, readErr(err)
	}
	if stream {
		if err := atEnd(r); err != nil {
			return nil, nil, bad("%v", err)
		}
	}
	return h.shape, data, nil
}

// byteCount formats n*item for an error message, or "too many" when the
// product overflows.
func byteCount(n, item int64, ok bool) string {
	if !ok || n > math.MaxInt64/item {
		return "too many"
	}
	return strconv.FormatInt(n*item, 10)
}

// readFloat64s fills v with little-endian float64 values from r, rounded to
// float32.
func readFloat64s(r io.Reader, v []float32) error {
	return readLE(r, v, 8, func(b []byte) float32 { return float32(math.Float64frombits(binary.LittleEndian.Uint64(b))) })
}

// WriteNPY writes data, a float32 array of the given shape in C order, as a
// .npy file ('<f4') at path, atomically (see WriteFileAtomic). The bytes are
// those numpy (1.24 or later) writes with np.save: format 1.0 (2.0 for a
// header over 64 KiB), the header dict with its keys sorted, spare spaces for
// the first dimension to grow, padded with spaces and a newline so that the
// data starts at a multiple of 64 bytes.
func WriteNPY(path string, shape []int, data []float32) error {
	n, ok := numElements(shape)
	if !ok {
		return fmt.Errorf("write %s: bad shape %v", path, shape)
	}
	if n != int64(len(data)) {
		return fmt.Errorf("write %s: shape %v holds %d values, data has %d", path, shape, n, len(data))
	}
	pre, err := npyPreamble(shape)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return WriteFileAtomic(path, func(w io.Writer) error {
		if _, err := w.Write(pre); err != nil {
			return err
		}
		return writeFloats(w, data)
	})
}

// npyPreamble returns magic, version, header length and header of a '<f4' C
// order array of the given shape, as numpy's _write_array_header makes them.
func npyPreamble(shape []int) ([]byte, error) {
	tuple := pyTuple(shape)
	h := "{'descr': '<f4', 'fortran_order': False, 'shape': " + tuple + ", }"
	if len(shape) > 0 {
		h += string(bytes.Repeat([]byte{' '}, max(0, npyGrowthDigits-len(strconv.Itoa(shape[0])))))
	}
	for _, v := range []struct {
		major    byte
		lenBytes int
		maxLen   int
	}{{1, 2, math.MaxUint16}, {2, 4, math.MaxUint32}} {
		hlen := len(h) + 1 // the final newline
		pad := npyAlign - (8+v.lenBytes+hlen)%npyAlign
		if hlen+pad > v.maxLen {
			continue
		}
		b := append([]byte(npyMagic), v.major, 0)
		if v.lenBytes == 2 {
			b = binary.LittleEndian.AppendUint16(b, uint16(hlen+pad))
		} else {
			b = binary.LittleEndian.AppendUint32(b, uint32(hlen+pad))
		}
		b = append(b, h...)
		b = append(b, bytes.Repeat([]byte{' '}, pad)...)
		return append(b, '\n'), nil
	}
	return nil, fmt.Errorf("%d dimensions make a header over 4 GiB", len(shape))
}

// pyTuple formats a shape as Python's repr of a tuple: (), (3,), (2, 3).
func pyTuple(shape []int) string {
	b := []byte{'('}
	for i, d := range shape {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = strconv.AppendInt(b, int64(d), 10)
	}
	if len(shape) == 1 {
		b = append(b, ',')
	}
	return string(append(b, ')'))
}
