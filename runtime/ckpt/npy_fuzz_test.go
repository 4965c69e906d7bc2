package ckpt

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"runtime"
	"strings"
	"testing"
)

// zeros is an endless stream of zero bytes, as /dev/zero gives.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestNPYStreamBounded checks that a .npy or safetensors stream (a pipe) costs what
// arrives, not what its header declares: a .npy header length of 4 GiB is refused unread,
// and a header declaring 4 GiB of data (F32 or I64) followed by a few bytes allocates a
// few megabytes before it is refused.
func TestNPYStreamBounded(t *testing.T) {
	const limit = 1 << 40
	hugeHeader := append([]byte{0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0}, 0xff, 0xff, 0xff, 0xff)
	if _, _, err := decodeNPY("p.npy", bytes.NewReader(hugeHeader), -1, limit); err == nil || !strings.Contains(err.Error(), "more than a .npy header holds") {
		t.Errorf("a header length of 4 GiB: %v", err)
	}
	pre, err := npyPreamble([]int{1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err = decodeNPY("p.npy", bytes.NewReader(append(pre, le(1, 2, 3)...)), -1, limit)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "ends early") {
		t.Errorf("4 GiB declared, 12 bytes given: %v", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 64<<20 {
		t.Errorf("4 GiB declared, 12 bytes given: %d bytes allocated", got)
	}
	// The same for a safetensors stream whose header declares a tensor of 4 GiB.
	st := rawFile(`{"a": {"dtype": "F32", "shape": [1073741824], "data_offsets": [0, 4294967296]}}`, le(1, 2, 3))
	runtime.ReadMemStats(&before)
	_, err = decode("p.safetensors", bytes.NewReader(st), -1, limit)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "ends early") {
		t.Errorf("safetensors, 4 GiB declared, 12 bytes given: %v", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 64<<20 {
		t.Errorf("safetensors, 4 GiB declared, 12 bytes given: %d bytes allocated", got)
	}
	// And for an I64 tensor of 4 GiB.
	st = rawFile(`{"n": {"dtype": "I64", "shape": [536870912], "data_offsets": [0, 4294967296]}}`, le64i(1, 2))
	runtime.ReadMemStats(&before)
	_, err = decode("p.safetensors", bytes.NewReader(st), -1, limit)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "ends early") {
		t.Errorf("safetensors I64, 4 GiB declared, 16 bytes given: %v", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 64<<20 {
		t.Errorf("safetensors I64, 4 GiB declared, 16 bytes given: %d bytes allocated", got)
	}
}

// npySeeds are valid .npy files (as WriteNPY and numpy write them, versions 1.0 to 3.0,
// '<f4' and '<f8') and hostile ones: a dimension of 2^31 and more, a shape whose size
// overflows, a header declaring more data than the file has (or less), Fortran order,
// wrong dtypes, huge header lengths, and a megabyte of zeros with and without a header.
func npySeeds(t testing.TB) [][]byte {
	pre := func(shape ...int) []byte {
		b, err := npyPreamble(shape)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	dict := func(descr, fortran, shape string) string {
		return "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }"
	}
	d23 := dict("<f4", "False", "(2, 3)")
	v6 := le(1, 2, 3, -4, 5.5, float32(math.Inf(1)))
	v2 := []byte{0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0}
	return [][]byte{
		// valid
		cat(pre(2, 3), v6),
		cat(pre(), le(7)),
		cat(pre(0)),
		cat(pre(1, 3, 2, 2), make([]byte, 48)),
		cat(pre(1, 1, 1, 1), le(float32(math.NaN()))),
		npyFile(1, d23, 16, v6),
		npyFile(2, d23, 64, v6),
		npyFile(3, d23, 64, v6),
		npyFile(1, dict("<f8", "False", "(3,)"), 64, le64(1, -2.5, 1e300)),
		npyFile(1, "{'shape': [2L, 3L], 'fortran_order': False, 'descr': '<f4'}", 64, v6),
		npyFile(1, dict("<f4", "True", "(1, 6)"), 64, v6), // Fortran order of a vector is C order
		// dimensions of 2^31 and more; sizes that overflow
		npyFile(1, dict("<f4", "False", "(2147483648,)"), 64, nil),
		npyFile(1, dict("<f4", "False", "(2147483647,)"), 64, nil),
		npyFile(1, dict("<f4", "False", "(2147483647, 2147483647, 2147483647)"), 64, nil),
		npyFile(1, dict("<f8", "False", "(1073741824, 1073741824)"), 64, nil),
		npyFile(1, dict("<f4", "False", "(99999999999999999999999,)"), 64, nil),
		// more or less data than the header declares
		npyFile(1, dict("<f4", "False", "(1000,)"), 64, le(1, 2)),
		npyFile(1, dict("<f4", "False", "(1,)"), 64, le(1, 2)),
		npyFile(1, d23, 64, v6[:23]),
		// Fortran order, wrong dtypes
		npyFile(1, dict("<f4", "True", "(2, 3)"), 64, v6),
		npyFile(1, dict(">f4", "False", "(2, 3)"), 64, v6),
		npyFile(1, dict("<i4", "False", "(2, 3)"), 64, v6),
		npyFile(1, dict("|u1", "False", "(24,)"), 64, v6),
		npyFile(1, dict("<f2", "False", "(12,)"), 64, v6),
		npyFile(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (6,), }", 64, v6),
		// broken headers
		npyFile(1, "{'descr': '<f4', 'fortran_order': False}", 64, v6),
		npyFile(1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (6,)}", 64, v6),
		npyFile(1, "{'descr': '<f4', 'fortran_order': 0, 'shape': (6,)} junk", 64, v6),
		npyFile(1, "{'descr': '<f\\x34', 'fortran_order': False, 'shape': (-6,)}", 64, v6),
		npyFile(4, d23, 64, v6),
		// huge header lengths
		cat(v2, binary.LittleEndian.AppendUint32(nil, math.MaxUint32), []byte(d23)),
		cat(v2[:6], []byte{1, 0, 0xff, 0xff}, []byte(d23)),
		// /dev/zero-like content
		make([]byte, 1<<20),
		cat(pre(2), make([]byte, 1<<20)),
		cat([]byte(npyMagic), make([]byte, 1<<16)),
		{},
		[]byte(npyMagic),
	}
}

// FuzzNPY checks decodeNPY, the reader of predict --npy, on any bytes read as a regular
// file and as a stream (a pipe): every refusal names the file; the two modes accept the
// same inputs with the same result; an accepted array has as many values as its shape
// declares, no dimension of 2^31 or more, a data section of exactly that many items, and
// values that are those of its bytes ('<f4') or their rounding to float32 ('<f8');
// WriteNPY's bytes of it read back the same; and the file followed by endless zeros, as
// /dev/zero gives, is refused after reading no more than the limit.
func FuzzNPY(f *testing.F) {
	for _, b := range npySeeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		const name = "fuzz.npy"
		size := int64(len(b))
		limit := size + 64<<10
		shape, data, err := decodeNPY(name, bytes.NewReader(b), size, size)
		sShape, sData, sErr := decodeNPY(name, bytes.NewReader(b), -1, limit)
		for _, e := range []error{err, sErr} {
			if e != nil && !strings.Contains(e.Error(), name) {
				t.Fatalf("error %q does not name the file", e)
			}
		}
		if (err == nil) != (sErr == nil) {
			t.Fatalf("as a file: %v; as a stream: %v", err, sErr)
		}
		endless := io.MultiReader(bytes.NewReader(b), zeros{})
		if _, _, err := decodeNPY(name, endless, -1, limit); err == nil || !strings.Contains(err.Error(), name) {
			t.Fatalf("the file followed by endless zeros: %v, want an error naming it", err)
		}
		if err != nil {
			return
		}
		if !sameShape(shape, sShape) || !slicesEqualBits(data, sData) {
			t.Fatalf("as a file %v, as a stream %v", shape, sShape)
		}
		n, ok := numElements(shape)
		if !ok || n != int64(len(data)) {
			t.Fatalf("shape %v, %d values", shape, len(data))
		}
		for _, d := range shape {
			if d < 0 || d > math.MaxInt32 {
				t.Fatalf("shape %v has a dimension out of range", shape)
			}
		}
		h, off := npyHeaderOf(t, b)
		item := map[string]int{"<f4": 4, "<f8": 8}[h.descr]
		if item == 0 || off+item*len(data) != len(b) {
			t.Fatalf("accepted %d values of dtype %q from %d bytes of data", len(data), h.descr, len(b)-off)
		}
		raw := b[off:]
		switch h.descr {
		case "<f4":
			for i, v := range data {
				if math.Float32bits(v) != binary.LittleEndian.Uint32(raw[4*i:]) {
					t.Fatalf("value %d is %v, the file has bits %#x", i, v, binary.LittleEndian.Uint32(raw[4*i:]))
				}
			}
		case "<f8":
			for i, v := range data {
				want := float32(math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:])))
				if math.Float32bits(v) != math.Float32bits(want) {
					t.Fatalf("value %d is %v, want %v", i, v, want)
				}
			}
		}
		pre, err := npyPreamble(shape)
		if err != nil {
			t.Fatalf("npyPreamble(%v): %v", shape, err)
		}
		var buf bytes.Buffer
		buf.Write(pre)
		if err := writeFloats(&buf, data); err != nil {
			t.Fatal(err)
		}
		again, aData, err := decodeNPY(name, bytes.NewReader(buf.Bytes()), int64(buf.Len()), int64(buf.Len()))
		if err != nil {
			t.Fatalf("re-reading what WriteNPY writes of %v: %v", shape, err)
		}
		if !sameShape(shape, again) || !slicesEqualBits(data, aData) {
			t.Fatalf("shape %v became %v after a write and a read", shape, again)
		}
	})
}

// npyHeaderOf parses the header of a .npy file that decodeNPY accepted and returns it
// with the offset of the data.
func npyHeaderOf(t *testing.T, b []byte) (npyHeader, int) {
	start, hlen := 10, int(binary.LittleEndian.Uint16(b[8:]))
	if b[6] != 1 {
		start, hlen = 12, int(binary.LittleEndian.Uint32(b[8:]))
	}
	h, err := parseNPYHeader(string(b[start : start+hlen]))
	if err != nil {
		t.Fatalf("header of an accepted file: %v", err)
	}
	return h, start + hlen
}
