package ckpt

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadDefects(t *testing.T) {
	e := func(name, dtype, shape, offsets string) string {
		return `"` + name + `": {"dtype": "` + dtype + `", "shape": ` + shape + `, "data_offsets": ` + offsets + `}`
	}
	obj := func(entries ...string) string { return "{" + strings.Join(entries, ", ") + "}" }
	a := e("a", "F32", "[2]", "[0, 8]")
	d12 := le(1, 2, 3)
	d8 := le(1, 2)
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"empty file", nil, "0 bytes is too short"},
		{"7 bytes", []byte{8, 0, 0, 0, 0, 0, 0}, "7 bytes is too short"},
		{"header length beyond the file", append(binary.LittleEndian.AppendUint64(nil, 1000), "{}      "...), "header length 1000 goes beyond the end of the file (16 bytes)"},
		{"huge header length", append(binary.LittleEndian.AppendUint64(nil, 1<<63), "{}      "...), "goes beyond the end of the file"},
		{"header not JSON", rawFile("{not json}", nil), "header: not valid JSON"},
		{"header a list", rawFile("[1, 2]", nil), "header: not a JSON object"},
		{"header empty", rawFile("", nil), "header: not a JSON object"},
		{"header cut", rawFile(`{"a": {"dtype": "F32", `, nil), "header: tensor \"a\": not an object"},
		{"header not UTF-8", rawFile("{\"\xff\": 1}", nil), "header: not valid UTF-8"},
		{"entry not an object", rawFile(`{"a": "x"}`, nil), `tensor "a": not an object with dtype, shape and data_offsets`},
		{"dtype F16", rawFile(obj(e("conv0", "F16", "[2]", "[0, 4]")), le(1)), `tensor "conv0": dtype F16 is not supported`},
		{"dtype BF16", rawFile(obj(a, e("fc.weight", "BF16", "[2]", "[8, 12]")), d12), `tensor "fc.weight": dtype BF16 is not supported`},
		{"no dtype", rawFile(`{"a": {"shape": [2], "data_offsets": [0, 8]}}`, d8), `tensor "a": no dtype`},
		{"no shape", rawFile(`{"a": {"dtype": "F32", "data_offsets": [0, 8]}}`, d8), `tensor "a": no shape`},
		{"no offsets", rawFile(`{"a": {"dtype": "F32", "shape": [2]}}`, d8), `tensor "a": no data_offsets`},
		{"three offsets", rawFile(obj(e("a", "F32", "[2]", "[0, 8, 9]")), d8), `data_offsets [0 8 9] must be [begin, end]`},
		{"negative dim", rawFile(obj(e("a", "F32", "[-2]", "[0, 8]")), d8), `tensor "a": bad shape [-2]`},
		{"fractional dim", rawFile(obj(e("a", "F32", "[2.5]", "[0, 8]")), d8), `tensor "a": not an object`},
		{"end before begin", rawFile(obj(e("a", "F32", "[2]", "[8, 0]")), d8), `tensor "a": bad data_offsets [8, 0]`},
		{"offsets not matching shape", rawFile(obj(e("a", "F32", "[3]", "[0, 8]")), d8), `tensor "a": data_offsets [0, 8] hold 8 bytes, shape [3] of F32 needs 12`},
		{"shape overflow", rawFile(obj(e("a", "F32", "[2147483647, 2147483647, 2147483647]", "[0, 8]")), d8), `shape [2147483647 2147483647 2147483647] is too large`},
		{"offsets beyond data", rawFile(obj(a, e("b", "F32", "[2]", "[8, 16]")), d12), `tensor "b": data_offsets [8, 16] go beyond the data section (12 bytes)`},
		{"overlap", rawFile(obj(e("a", "F32", "[2]", "[0, 8]"), e("b", "F32", "[2]", "[4, 12]")), d12), `tensor "b": data_offsets [4, 12] overlap tensor "a", which ends at 8`},
		{"same offsets", rawFile(obj(a, e("b", "F32", "[2]", "[0, 8]")), d8), `overlap tensor "a"`},
		{"gap", rawFile(obj(e("a", "F32", "[1]", "[0, 4]"), e("b", "F32", "[1]", "[8, 12]")), d12), `tensor "b": data_offsets [8, 12] leave 4 unused bytes after tensor "a"`},
		{"gap at start", rawFile(obj(e("a", "F32", "[1]", "[4, 8]")), d8), `leave 4 unused bytes at the start of the data`},
		{"trailing garbage", rawFile(obj(a), d12), `4 bytes of trailing data after the last tensor`},
		{"data without tensors", rawFile("{}", d8), `8 bytes of trailing data`},
		{"garbage after JSON", rawFile(obj(a)+" x", d8), `unexpected bytes after the JSON object`},
		{"two JSON objects", rawFile(obj(a)+"{}", d8), `unexpected bytes after the JSON object`},
		{"duplicate names", rawFile(obj(a, e("a", "F32", "[1]", "[8, 12]")), d12), `header: "a" appears twice`},
		{"metadata not strings", rawFile(`{"__metadata__": {"epoch": 3}}`, nil), `__metadata__ is not an object of strings`},
		{"metadata twice", rawFile(`{"__metadata__": {}, "__metadata__": {}}`, nil), `"__metadata__" appears twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeRaw(t, "run1.safetensors", tt.file)
			f, err := Read(path)
			if err == nil {
				t.Fatalf("Read succeeded with %d tensors, want an error saying %q", len(f.Tensors), tt.want)
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Read error = %q\nwant one naming %s and saying %q", err, path, tt.want)
			}
		})
	}
}

func TestReadAcceptsLayouts(t *testing.T) {
	e := func(name, shape, offsets string) string {
		return `"` + name + `": {"dtype": "F32", "shape": ` + shape + `, "data_offsets": ` + offsets + `}`
	}
	tests := []struct {
		name  string
		file  []byte
		names []string // in offset order
	}{
		{"entries out of offset order, metadata last", rawFile("{"+e("b", "[1]", "[8, 12]")+", "+e("a", "[2]", "[0, 8]")+`, "__metadata__": {"k": "v"}}`, le(1, 2, 3)), []string{"a", "b"}},
		{"no padding, compact JSON", unpadded(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, le(1)), []string{"a"}},
		{"zero-size tensors between others", rawFile("{"+e("a", "[1]", "[0, 4]")+", "+e("z", "[0, 2]", "[4, 4]")+", "+e("b", "[1]", "[4, 8]")+"}", le(1, 2)), []string{"a", "z", "b"}},
		{"metadata null", rawFile(`{"__metadata__": null}`, nil), []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeRaw(t, "ok.safetensors", tt.file)
			f, err := Read(path)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, x := range f.Tensors {
				got = append(got, x.Name)
			}
			if strings.Join(got, ",") != strings.Join(tt.names, ",") {
				t.Errorf("tensors %v, want %v", got, tt.names)
			}
		})
	}
}

// unpadded assembles a safetensors file without padding the header.
func unpadded(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}

// validFile is a small valid file with metadata, several tensors and a
// zero-size one.
func validFile(t testing.TB) []byte {
	path := filepath.Join(t.TempDir(), "v.safetensors")
	ts := []Tensor{
		{"conv0", []int{2, 1, 3, 3}, make([]float32, 18)},
		{"bn.running_var", []int{2}, []float32{1, 2}},
		{"empty", []int{0}, []float32{}},
		{"fc.bias", []int{3}, []float32{0.5, -1, 2}},
	}
	if err := Write(path, ts, map[string]string{"model": "WRN-10-1", "mean": "0.5"}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestReadTruncated(t *testing.T) {
	full := validFile(t)
	dir := t.TempDir()
	for n := range len(full) {
		path := filepath.Join(dir, "cut.safetensors")
		if err := os.WriteFile(path, full[:n], 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Read(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Fatalf("Read of the first %d of %d bytes: error %v, want one naming the file", n, len(full), err)
		}
	}
	if _, err := Read(writeRaw(t, "full.safetensors", full)); err != nil {
		t.Fatalf("Read of the whole file: %v", err)
	}
}

func TestReadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.safetensors")
	if _, err := Read(path); err == nil || !os.IsNotExist(err) || !strings.Contains(err.Error(), path) {
		t.Errorf("Read(missing) error = %v, want a not-exist error naming the file", err)
	}
}

// safetensorsSeeds are valid files (Write's, the reference writer's, with metadata,
// NaN, infinities and a negative running variance, which Read accepts and readWeights
// refuses) and hostile ones: huge header lengths, offsets past the end of the data,
// overlapping tensors and gaps, dtypes other than F32 and shapes that do not match their
// offsets, trailing bytes, a name given twice, and a megabyte of zeros.
func safetensorsSeeds(t testing.TB) [][]byte {
	e := func(name, dtype, shape, offsets string) string {
		return `"` + name + `": {"dtype": "` + dtype + `", "shape": ` + shape + `, "data_offsets": ` + offsets + `}`
	}
	obj := func(entries ...string) string { return "{" + strings.Join(entries, ", ") + "}" }
	hugeLen := func(n uint64) []byte { return append(binary.LittleEndian.AppendUint64(nil, n), "{}      "...) }
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	return [][]byte{
		validFile(t),
		referenceFile(),
		rawFile(`{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "__metadata__": {"k": "v"}}`, le(1)),
		rawFile(obj(e("w", "F32", "[2, 2]", "[0, 16]")), le(nan, inf, -inf, 0)),
		rawFile(obj(e("bn.running_var", "F32", "[2]", "[0, 8]"), e("bn.running_mean", "F32", "[2]", "[8, 16]")), le(-1, 2, 0, 0)),
		rawFile(obj(e("s", "F32", "[]", "[0, 4]"), e("z", "F32", "[0, 3]", "[4, 4]")), le(3)),
		{},
		hugeLen(1 << 63),
		hugeLen(math.MaxUint64),
		hugeLen(math.MaxUint32),
		hugeLen(maxStreamHeader + 1),
		rawFile(obj(e("a", "F32", "[2]", "[0, 8]")), le(1)),                                        // past the end
		rawFile(obj(e("a", "F32", "[2]", "[0, 8]"), e("b", "F32", "[2]", "[4, 12]")), le(1, 2, 3)), // overlap
		rawFile(obj(e("a", "F32", "[2]", "[0, 8]"), e("b", "F32", "[2]", "[0, 8]")), le(1, 2)),     // same bytes
		rawFile(obj(e("a", "F32", "[1]", "[4, 8]")), le(1, 2)),                                     // gap at the start
		rawFile(obj(e("a", "F32", "[1]", "[0, 4]"), e("b", "F32", "[1]", "[8, 12]")), le(1, 2, 3)), // gap between
		rawFile(obj(e("a", "F32", "[1]", "[0, 4]")), le(1, 2)),                                     // trailing bytes
		rawFile(obj(e("a", "F16", "[2]", "[0, 4]")), le(1)),                                        // dtype
		rawFile(obj(e("a", "F64", "[1]", "[0, 8]")), le(1, 2)),                                     // dtype
		rawFile(obj(e("a", "I64", "[1]", "[0, 8]")), le(1, 2)),                                     // dtype
		rawFile(obj(e("a", "F32", "[3]", "[0, 8]")), le(1, 2)),                                     // shape vs offsets
		rawFile(obj(e("a", "F32", "[2147483648]", "[0, 8]")), le(1, 2)),                            // huge dimension
		rawFile(obj(e("a", "F32", "[4611686018427387904, 4]", "[0, 0]")), nil),                     // overflow
		rawFile(obj(e("a", "F32", "[-2]", "[0, 8]")), le(1, 2)),                                    // negative dimension
		rawFile(obj(e("a", "F32", "[2]", "[8, 0]")), le(1, 2)),                                     // backwards
		rawFile(obj(e("a", "F32", "[2]", "[-8, 0]")), le(1, 2)),                                    // negative offset
		rawFile(obj(e("a", "F32", "[2]", "[0, 9223372036854775807]")), le(1, 2)),                   // far end
		rawFile(`{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}`, le(1, 2)),
		rawFile(`{"__metadata__": {"k": 1}}`, nil),
		rawFile(`{"__metadata__": {"k": "v"}} {}`, nil),
		make([]byte, 1<<20),
	}
}

// FuzzRead checks the safetensors reader on any bytes read as a regular file and as a
// stream (a pipe): every refusal names the file; both modes accept the same inputs with
// the same tensors; every accepted tensor holds as many values as its shape declares;
// the tensors tile the data after the header exactly; a write and a read give the same
// names, shapes, value bits and metadata; and the file followed by endless zeros, as
// /dev/zero gives, is refused after reading no more than the limit.
func FuzzRead(f *testing.F) {
	for _, b := range safetensorsSeeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		const name = "fuzz.safetensors"
		size := int64(len(b))
		limit := size + 64<<10
		got, err := decode(name, bytes.NewReader(b), size, size)
		streamed, sErr := decode(name, bytes.NewReader(b), -1, limit)
		for _, e := range []error{err, sErr} {
			if e != nil && !strings.Contains(e.Error(), name) {
				t.Fatalf("error %q does not name the file", e)
			}
		}
		if (err == nil) != (sErr == nil) {
			t.Fatalf("as a file: %v; as a stream: %v", err, sErr)
		}
		endless := io.MultiReader(bytes.NewReader(b), zeros{})
		if _, err := decode(name, endless, -1, limit); err == nil || !strings.Contains(err.Error(), name) {
			t.Fatalf("the file followed by endless zeros: %v, want an error naming it", err)
		}
		if err != nil {
			return
		}
		if len(streamed.Tensors) != len(got.Tensors) {
			t.Fatalf("%d tensors as a file, %d as a stream", len(got.Tensors), len(streamed.Tensors))
		}
		var values int64
		for i, x := range got.Tensors {
			n, ok := numElements(x.Shape)
			if !ok || n != int64(len(x.Data)) {
				t.Fatalf("tensor %q: shape %v, %d values", x.Name, x.Shape, len(x.Data))
			}
			values += n
			y := streamed.Tensors[i]
			if x.Name != y.Name || !sameShape(x.Shape, y.Shape) || !slicesEqualBits(x.Data, y.Data) {
				t.Fatalf("tensor %d: %q %v as a file, %q %v as a stream", i, x.Name, x.Shape, y.Name, y.Shape)
			}
		}
		if hlen := int64(binary.LittleEndian.Uint64(b)); 8+hlen+4*values != size {
			t.Fatalf("%d bytes of header and %d values in a file of %d bytes", hlen, values, size)
		}
		// A file that reads must survive a write and a read unchanged.
		for _, x := range got.Tensors {
			if x.Name == "" {
				return // Write refuses empty names
			}
		}
		hdr, err := encodeHeader(got.Tensors, got.Meta)
		if err != nil {
			t.Fatalf("re-encoding a file that read: %v", err)
		}
		var buf bytes.Buffer
		buf.Write(binary.LittleEndian.AppendUint64(nil, uint64(len(hdr))))
		buf.Write(hdr)
		for _, x := range got.Tensors {
			buf.Write(le(x.Data...))
		}
		again, err := decode(name, bytes.NewReader(buf.Bytes()), int64(buf.Len()), int64(buf.Len()))
		if err != nil {
			t.Fatalf("re-reading: %v", err)
		}
		if len(again.Tensors) != len(got.Tensors) || len(again.Meta) != len(got.Meta) {
			t.Fatalf("re-read %d tensors %d meta, want %d %d", len(again.Tensors), len(again.Meta), len(got.Tensors), len(got.Meta))
		}
		for i, x := range got.Tensors {
			y := again.Tensors[i]
			if x.Name != y.Name || !sameShape(x.Shape, y.Shape) || !slicesEqualBits(x.Data, y.Data) {
				t.Fatalf("tensor %d: %q %v became %q %v", i, x.Name, x.Shape, y.Name, y.Shape)
			}
		}
		for k, v := range got.Meta {
			if again.Meta[k] != v {
				t.Fatalf("meta %q: %q became %q", k, v, again.Meta[k])
			}
		}
	})
}
