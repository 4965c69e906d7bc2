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
		{"dtype I32", rawFile(obj(e("bn.num_batches_tracked", "I32", "[]", "[0, 4]")), le(1)), `tensor "bn.num_batches_tracked": dtype I32 is not supported (only F32 is, and I64 for counters such as num_batches_tracked`},
		{"dtype F64", rawFile(obj(e("a", "F64", "[1]", "[0, 8]")), d8), `tensor "a": dtype F64 is not supported`},
		{"I64 scalar of 4 bytes", rawFile(obj(e("n", "I64", "[]", "[0, 4]")), le(1)), `tensor "n": data_offsets [0, 4] hold 4 bytes, shape [] of I64 needs 8`},
		{"I64 sized as F32", rawFile(obj(e("n", "I64", "[2]", "[0, 8]")), d8), `tensor "n": data_offsets [0, 8] hold 8 bytes, shape [2] of I64 needs 16`},
		{"F32 sized as I64", rawFile(obj(e("a", "F32", "[]", "[0, 8]")), d8), `tensor "a": data_offsets [0, 8] hold 8 bytes, shape [] of F32 needs 4`},
		{"I64 shape overflow", rawFile(obj(e("n", "I64", "[1073741824, 1073741824]", "[0, 8]")), d8), `shape [1073741824 1073741824] is too large`},
		{"I64 trailing", rawFile(obj(e("n", "I64", "[]", "[0, 8]")), d12), `4 bytes of trailing data after the last tensor`},
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

// validMixedFile is a small valid file of F32 and I64 tensors as a torchvision
// state_dict has them, with metadata.
func validMixedFile(t testing.TB) []byte {
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := Write(path, mixedTensors(), map[string]string{"model": "resnet-ish"}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// validFile is a small valid file with metadata, several tensors and a
// zero-size one.
func validFile(t testing.TB) []byte {
	path := filepath.Join(t.TempDir(), "v.safetensors")
	ts := []Tensor{
		{Name: "conv0", Shape: []int{2, 1, 3, 3}, Data: make([]float32, 18)},
		{Name: "bn.running_var", Shape: []int{2}, Data: []float32{1, 2}},
		{Name: "empty", Shape: []int{0}, Data: []float32{}},
		{Name: "fc.bias", Shape: []int{3}, Data: []float32{0.5, -1, 2}},
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
// refuses), I64 ones (num_batches_tracked scalars among F32 tensors, the extremes of
// int64, an empty I64 tensor) and hostile ones: huge header lengths, offsets past the
// end of the data, overlapping tensors and gaps, dtypes other than F32 and I64, shapes
// that do not match their offsets (an I64 scalar given 4 bytes, an F32 one given 8),
// I64 shapes whose byte size overflows, trailing bytes, a name given twice, and a
// megabyte of zeros.
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
		// I64: PyTorch's num_batches_tracked among F32 tensors, extremes, empty
		validMixedFile(t),
		rawFile(obj(e("bn1.num_batches_tracked", "I64", "[]", "[0, 8]")), le64i(7)),
		rawFile(obj(e("bn1.running_mean", "F32", "[2]", "[0, 8]"), e("bn1.num_batches_tracked", "I64", "[]", "[8, 16]"), e("fc.bias", "F32", "[1]", "[16, 20]")), append(append(le(1, 2), le64i(1<<40)...), le(3)...)),
		rawFile(obj(e("i", "I64", "[3]", "[0, 24]")), le64i(math.MinInt64, -1, math.MaxInt64)),
		rawFile(obj(e("i", "I64", "[0]", "[0, 0]"), e("a", "F32", "[1]", "[0, 4]")), le(1)),
		rawFile(obj(e("i", "I64", "[]", "[0, 4]")), le(1)),                                         // I64 scalar of 4 bytes
		rawFile(obj(e("i", "F32", "[]", "[0, 8]")), le64i(1)),                                      // F32 scalar of 8 bytes
		rawFile(obj(e("i", "I64", "[2]", "[0, 8]")), le64i(1)),                                     // I64 of half its size
		rawFile(obj(e("i", "I64", "[1073741824, 1073741824]", "[0, 0]")), nil),                     // I64 bytes overflow
		rawFile(obj(e("i", "I64", "[1]", "[0, 8]"), e("j", "I64", "[1]", "[4, 12]")), le64i(1, 2)), // overlap
		rawFile(obj(e("i", "I32", "[2]", "[0, 8]")), le64i(1)),                                     // dtype
		rawFile(obj(e("i", "U8", "[8]", "[0, 8]")), le64i(1)),                                      // dtype
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
		rawFile(obj(e("a", "BOOL", "[1]", "[0, 1]")), []byte{1}),                                   // dtype
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
// the tensors tile the data after the header exactly (4 bytes a value for F32, 8 for
// I64); a write and a read give the same names, dtypes, shapes, value bits and metadata; and the file followed by endless zeros, as
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
		var dataBytes int64
		for i, x := range got.Tensors {
			n, ok := numElements(x.Shape)
			if !ok || n != int64(x.count()) || (x.Ints != nil && x.Data != nil) {
				t.Fatalf("tensor %q: shape %v, %d values (%s)", x.Name, x.Shape, x.count(), x.Dtype())
			}
			dataBytes += itemSize(x.Dtype()) * n
			if y := streamed.Tensors[i]; !sameTensor(x, y) {
				t.Fatalf("tensor %d: %q %s %v as a file, %q %s %v as a stream", i, x.Name, x.Dtype(), x.Shape, y.Name, y.Dtype(), y.Shape)
			}
		}
		if hlen := int64(binary.LittleEndian.Uint64(b)); 8+hlen+dataBytes != size {
			t.Fatalf("%d bytes of header and %d of tensors in a file of %d bytes", hlen, dataBytes, size)
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
		if err := writeData(&buf, got.Tensors); err != nil {
			t.Fatal(err)
		}
		again, err := decode(name, bytes.NewReader(buf.Bytes()), int64(buf.Len()), int64(buf.Len()))
		if err != nil {
			t.Fatalf("re-reading: %v", err)
		}
		if len(again.Tensors) != len(got.Tensors) || len(again.Meta) != len(got.Meta) {
			t.Fatalf("re-read %d tensors %d meta, want %d %d", len(again.Tensors), len(again.Meta), len(got.Tensors), len(got.Meta))
		}
		for i, x := range got.Tensors {
			if y := again.Tensors[i]; !sameTensor(x, y) {
				t.Fatalf("tensor %d: %q %s %v became %q %s %v", i, x.Name, x.Dtype(), x.Shape, y.Name, y.Dtype(), y.Shape)
			}
		}
		for k, v := range got.Meta {
			if again.Meta[k] != v {
				t.Fatalf("meta %q: %q became %q", k, v, again.Meta[k])
			}
		}
	})
}
