package ckpt

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
)

// File is a safetensors file read into memory.
type File struct {
	Path    string
	Tensors []Tensor // in the order of their data in the file
	Meta    map[string]string
}

// Get returns the tensor called name.
func (f *File) Get(name string) (Tensor, bool) {
	for _, t := range f.Tensors {
		if t.Name == name {
			return t, true
		}
	}
	return Tensor{}, false
}

// Read reads a safetensors file holding F32 tensors and I64 ones (PyTorch's
// num_batches_tracked; their values come in Tensor.Ints). It checks the whole
// file and returns an error that names the file and the defect: a file
// shorter than 8 bytes, a header length beyond the end of the file, a header
// that is not a JSON object (or not UTF-8), a dtype other than F32 and I64, a missing
// or malformed shape or data_offsets, offsets beyond the data, overlapping,
// leaving gaps or not matching the shape, bytes after the last tensor, and a
// name given twice.
//
// It reads at most MemoryLimit() bytes; ReadLimit takes the limit.
func Read(path string) (*File, error) { return ReadLimit(path, MemoryLimit()) }

// ReadLimit is Read of a file of at most limit bytes: a larger file is refused before
// anything is allocated, and a file that is not regular (a pipe, a device) is decoded as
// it streams, so that no more is read than its header declares, and no more than limit.
func ReadLimit(path string, limit int64) (*File, error) {
	f, size, err := openLimited(path, limit, "a safetensors file")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return decode(path, bufio.NewReaderSize(f, bufSize(size)), size, limit)
}

// bufSize is the read buffer size for a file of size bytes.
func bufSize(size int64) int { return int(max(4096, min(size, 1<<20))) }

// entry is one tensor's header entry.
type entry struct {
	name       string
	dtype      string // F32 or I64
	shape      []int
	begin, end int64
}

// decode reads a safetensors file of size bytes from r, or of unknown size (size < 0, a
// stream) of at most limit bytes; path names it in errors.
func decode(path string, r io.Reader, size, limit int64) (*File, error) {
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
	if !stream && size < 8 {
		return nil, bad("%d bytes is too short for a safetensors file (it starts with an 8-byte header length)", size)
	}
	var lenBuf [8]byte
	if _, err := io.ReadFull(r, lenBuf[:]); err != nil {
		return nil, readErr(err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	switch {
	case !stream && n > uint64(size-8):
		return nil, bad("header length %d goes beyond the end of the file (%d bytes); not a safetensors file, or truncated", n, size)
	case stream && n > uint64(min(limit, maxStreamHeader)):
		return nil, bad("header length %d is more than a safetensors header holds (%d bytes at most here); not a safetensors file", n, min(limit, maxStreamHeader))
	}
	hdr := make([]byte, n)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, readErr(err)
	}
	entries, meta, err := parseHeader(hdr)
	if err != nil {
		return nil, bad("header: %v", err)
	}
	dataSize := size - 8 - int64(n)
	if stream {
		dataSize = 0
		for _, e := range entries {
			dataSize = max(dataSize, e.end)
		}
		if dataSize > limit-8-int64(n) {
			return nil, bad("its tensors hold %d bytes, more than the %d this file may have", dataSize, limit)
		}
	}
	if err := checkLayout(entries, dataSize); err != nil {
		return nil, bad("%v", err)
	}
	out := &File{Path: path, Tensors: make([]Tensor, len(entries)), Meta: meta}
	for i, e := range entries {
		t := Tensor{Name: e.name, Shape: e.shape}
		var err error
		if e.dtype == I64 {
			t.Ints, err = readValues(r, (e.end-e.begin)/8, stream, readInts)
		} else {
			t.Data, err = readValues(r, (e.end-e.begin)/4, stream, readFloats)
		}
		if err != nil {
			return nil, readErr(err)
		}
		out.Tensors[i] = t
	}
	if stream {
		if err := atEnd(r); err != nil {
			return nil, bad("%v", err)
		}
	}
	return out, nil
}

// checkLayout sorts entries by offset and checks that they tile the data
// section of dataSize bytes exactly, from 0, without gaps or overlaps.
func checkLayout(entries []entry, dataSize int64) error {
	for _, e := range entries {
		if e.end > dataSize {
			return fmt.Errorf("tensor %q: data_offsets [%d, %d] go beyond the data section (%d bytes)", e.name, e.begin, e.end, dataSize)
		}
	}
	slices.SortStableFunc(entries, func(a, b entry) int {
		return cmp.Or(cmp.Compare(a.begin, b.begin), cmp.Compare(a.end, b.end))
	})
	var pos int64
	prev := ""
	for _, e := range entries {
		switch {
		case e.begin < pos:
			return fmt.Errorf("tensor %q: data_offsets [%d, %d] overlap tensor %q, which ends at %d", e.name, e.begin, e.end, prev, pos)
		case e.begin > pos && prev == "":
			return fmt.Errorf("tensor %q: data_offsets [%d, %d] leave %d unused bytes at the start of the data", e.name, e.begin, e.end, e.begin)
		case e.begin > pos:
			return fmt.Errorf("tensor %q: data_offsets [%d, %d] leave %d unused bytes after tensor %q", e.name, e.begin, e.end, e.begin-pos, prev)
		}
		pos, prev = e.end, e.name
	}
	if pos < dataSize {
		return fmt.Errorf("%d bytes of trailing data after the last tensor (data section is %d bytes, tensors end at %d)", dataSize-pos, dataSize, pos)
	}
	return nil
}

// readLE fills v with values of size bytes each read from r, decoded by dec.
func readLE[T any](r io.Reader, v []T, size int, dec func([]byte) T) error {
	var buf [16 << 10]byte
	for len(v) > 0 {
		k := min(len(v), len(buf)/size)
		if _, err := io.ReadFull(r, buf[:size*k]); err != nil {
			return err
		}
		for i := range v[:k] {
			v[i] = dec(buf[size*i:])
		}
		v = v[k:]
	}
	return nil
}

// readFloats fills v with little-endian float32 values from r.
func readFloats(r io.Reader, v []float32) error {
	return readLE(r, v, 4, func(b []byte) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b)) })
}

// readInts fills v with little-endian int64 values from r.
func readInts(r io.Reader, v []int64) error {
	return readLE(r, v, 8, func(b []byte) int64 { return int64(binary.LittleEndian.Uint64(b)) })
}
