package ckpt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// randTensors returns tensors of the given names and shapes filled with
// random non-zero values.
func randTensors(rng *rand.Rand, specs []Spec) []Tensor {
	ts := make([]Tensor, len(specs))
	for i, s := range specs {
		n, _ := numElements(s.Shape)
		data := make([]float32, n)
		for j := range data {
			data[j] = float32(rng.NormFloat64())
		}
		ts[i] = Tensor{Name: s.Name, Shape: s.Shape, Data: data}
	}
	return ts
}

// writeRaw writes b to a file called name in a fresh folder and returns its path.
func writeRaw(t testing.TB, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// rawFile assembles a safetensors file from a header (padded here with
// spaces to a multiple of 8) and data.
func rawFile(header string, data []byte) []byte {
	h := []byte(header)
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	return append(append(b, h...), data...)
}

// le returns float32 values as little-endian bytes.
func le(v ...float32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

// le64i returns int64 values as little-endian bytes.
func le64i(v ...int64) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, uint64(x))
	}
	return b
}

// sameTensor compares tensors by name, shape, dtype and value bits.
func sameTensor(a, b Tensor) bool {
	return a.Name == b.Name && sameShape(a.Shape, b.Shape) && a.Dtype() == b.Dtype() &&
		slicesEqualBits(a.Data, b.Data) && slices.Equal(a.Ints, b.Ints)
}

// mixedTensors are F32 and I64 tensors as a torchvision state_dict has them (every
// BatchNorm2d's num_batches_tracked an I64 scalar), and I64 extremes: an empty I64
// tensor, the least and the largest int64.
func mixedTensors() []Tensor {
	f := func(name string, shape []int, v ...float32) Tensor { return Tensor{Name: name, Shape: shape, Data: v} }
	i := func(name string, shape []int, v ...int64) Tensor {
		return Tensor{Name: name, Shape: shape, Ints: append([]int64{}, v...)}
	}
	return []Tensor{
		f("conv1.weight", []int{2, 1, 1, 1}, 0.5, -1),
		f("bn1.weight", []int{2}, 1, 1),
		f("bn1.bias", []int{2}, 0, 0.25),
		f("bn1.running_mean", []int{2}, 0.1, -0.2),
		f("bn1.running_var", []int{2}, 0.9, 1.1),
		i("bn1.num_batches_tracked", []int{}, 12345),
		f("layer1.0.bn1.running_mean", []int{1}, 3),
		i("layer1.0.bn1.num_batches_tracked", []int{}, 0),
		i("extremes", []int{2, 1}, math.MinInt64, math.MaxInt64),
		i("empty", []int{0, 3}),
		f("fc.bias", []int{1}, float32(math.Inf(-1))),
	}
}

// TestRoundTripMixed writes and reads F32 and I64 tensors together: dtypes, shapes
// (scalars among them) and values survive, I64 tensors read back with Ints and no Data
// and F32 ones with Data and no Ints, and an independent reader finds "I64" entries of
// 8 bytes a value laid out in the order written.
func TestRoundTripMixed(t *testing.T) {
	want := mixedTensors()
	meta := map[string]string{"model": "resnet-ish"}
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := Write(path, want, meta); err != nil {
		t.Fatal(err)
	}
	f, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&File{Path: path, Tensors: want, Meta: meta}, f, cmp.Comparer(sameShape)); diff != "" {
		t.Errorf("Read(Write(x)) (-want +got):\n%s", diff)
	}
	for _, x := range f.Tensors {
		if (x.Dtype() == I64) != (x.Data == nil) || (x.Dtype() == I64) != (x.Ints != nil) {
			t.Errorf("tensor %s (%s): Data %v, Ints %v; want exactly one of them", x.Name, x.Dtype(), x.Data, x.Ints)
		}
	}
	if n, ok := f.Get("bn1.num_batches_tracked"); !ok || n.Dtype() != I64 || len(n.Shape) != 0 || !slices.Equal(n.Ints, []int64{12345}) {
		t.Errorf("bn1.num_batches_tracked = %+v, %v; want the I64 scalar 12345", n, ok)
	}
	checkStrict(t, path, want, meta)
}

func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name  string
		specs []Spec
		meta  map[string]string
	}{
		{"empty", nil, nil},
		{"one", []Spec{{"fc.weight", []int{10, 64}}}, nil},
		{"wrn-like, unsorted, with meta", []Spec{
			{"conv0", []int{16, 3, 3, 3}},
			{"group0.block0.bn0.weight", []int{16}},
			{"bn.running_var", []int{64}},
			{"fc.bias", []int{10}},
			{"group0.block0.convdim", []int{64, 16, 1, 1}},
		}, map[string]string{"mean": "0.4914,0.4822,0.4465", "std": "0.247,0.243,0.261", "model": "WRN-16-4"}},
		{"scalar and empty tensors", []Spec{{"s", []int{}}, {"z", []int{0, 5}}, {"x", []int{3}}, {"z2", []int{0}}}, map[string]string{"": ""}},
		{"odd names and meta", []Spec{{"é€😀 \"q\" \\ \t\x7f", []int{2, 1}}, {"<&>", []int{1}}},
			map[string]string{"k\n": "v\u0001😀", "z": "", "a": "\"quoted\""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := randTensors(rng, tt.specs)
			path := filepath.Join(t.TempDir(), "w.safetensors")
			if err := Write(path, want, tt.meta); err != nil {
				t.Fatal(err)
			}
			f, err := Read(path)
			if err != nil {
				t.Fatal(err)
			}
			wantMeta := tt.meta
			if wantMeta == nil {
				wantMeta = map[string]string{}
			}
			wantFile := &File{Path: path, Tensors: want, Meta: wantMeta}
			if diff := cmp.Diff(wantFile, f, cmp.Comparer(sameShape)); diff != "" {
				t.Errorf("Read(Write(x)) (-want +got):\n%s", diff)
			}
			for _, w := range want {
				g, ok := f.Get(w.Name)
				if !ok || !sameShape(g.Shape, w.Shape) || !slicesEqualBits(g.Data, w.Data) {
					t.Errorf("Get(%q) = %v, %v", w.Name, g, ok)
				}
			}
			if _, ok := f.Get("nope"); ok {
				t.Errorf("Get(nope) found a tensor")
			}
			checkStrict(t, path, want, tt.meta)
		})
	}
}

// sameShape compares shapes, a nil shape equal to an empty one.
func sameShape(a, b []int) bool {
	return len(a) == len(b) && (len(a) == 0 || cmp.Equal(a, b))
}

func slicesEqualBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// checkStrict reads a file we wrote as a strict, independent reader would:
// an 8-byte length, a header that is valid JSON padded with spaces to a
// multiple of 8, entries of dtype F32 (I64 for tensors with Ints) with offsets
// contiguous from 0 in the order written, and data that ends exactly at the end
// of the file.
func checkStrict(t *testing.T, path string, want []Tensor, meta map[string]string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(b)
	if n%8 != 0 || 8+n > uint64(len(b)) {
		t.Fatalf("header length %d in a file of %d bytes", n, len(b))
	}
	hdr := b[8 : 8+n]
	trimmed := bytes.TrimRight(hdr, " ")
	if !json.Valid(trimmed) || trimmed[len(trimmed)-1] != '}' || len(hdr)-len(trimmed) >= 8 {
		t.Fatalf("header is not JSON padded with fewer than 8 spaces: %q", hdr)
	}
	type info struct {
		Dtype       string  `json:"dtype"`
		Shape       []int   `json:"shape"`
		DataOffsets []int64 `json:"data_offsets"`
	}
	var h map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &h); err != nil {
		t.Fatal(err)
	}
	var gotMeta map[string]string
	if raw, ok := h["__metadata__"]; ok {
		if err := json.Unmarshal(raw, &gotMeta); err != nil {
			t.Fatal(err)
		}
	}
	if len(meta) > 0 || gotMeta != nil {
		if diff := cmp.Diff(meta, gotMeta); diff != "" {
			t.Errorf("__metadata__ (-want +got):\n%s", diff)
		}
	}
	data := b[8+n:]
	var off int64
	for _, w := range want {
		var e info
		if err := json.Unmarshal(h[w.Name], &e); err != nil {
			t.Fatalf("entry %q: %v", w.Name, err)
		}
		dtype, raw := "F32", le(w.Data...)
		if w.Ints != nil {
			dtype, raw = "I64", le64i(w.Ints...)
		}
		end := off + int64(len(raw))
		wantInfo := info{Dtype: dtype, Shape: w.Shape, DataOffsets: []int64{off, end}}
		if diff := cmp.Diff(wantInfo, e, cmp.Comparer(sameShape)); diff != "" {
			t.Errorf("entry %q (-want +got):\n%s", w.Name, diff)
		}
		if end > int64(len(data)) || !bytes.Equal(data[off:end], raw) {
			t.Errorf("data of %q differs", w.Name)
		}
		off = end
	}
	if off != int64(len(data)) {
		t.Errorf("tensors end at %d, data section is %d bytes", off, len(data))
	}
	entries := len(want)
	if _, ok := h["__metadata__"]; ok {
		entries++
		if len(meta) == 0 {
			t.Errorf("__metadata__ written for empty metadata")
		}
	}
	if len(h) != entries {
		t.Errorf("header has %d entries, want %d", len(h), entries)
	}
}

// referenceFile is what save_safetensors in bench/torch/torch_wrn.py writes
// for {"b.weight": [[0.5]], "a": [1, -2]}: names sorted, json.dumps with its
// default separators, padded with spaces to a multiple of 8.
func referenceFile() []byte {
	h := `{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, ` +
		`"b.weight": {"dtype": "F32", "shape": [1, 1], "data_offsets": [8, 12]}}`
	// len(h) == 133: three spaces make 136.
	h += "   "
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	b = append(b, h...)
	return append(b, le(1, -2, 0.5)...)
}

func TestReferenceWriterCompatible(t *testing.T) {
	ref := referenceFile()
	if len(ref) != 8+136+12 {
		t.Fatalf("reference file is %d bytes", len(ref))
	}
	want := []Tensor{{Name: "a", Shape: []int{2}, Data: []float32{1, -2}}, {Name: "b.weight", Shape: []int{1, 1}, Data: []float32{0.5}}}
	path := writeRaw(t, "ref.safetensors", ref)
	f, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&File{Path: path, Tensors: want, Meta: map[string]string{}}, f); diff != "" {
		t.Errorf("Read(reference) (-want +got):\n%s", diff)
	}
	out := filepath.Join(t.TempDir(), "ours.safetensors")
	if err := Write(out, want, nil); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, ref) {
		t.Errorf("Write bytes differ from the reference writer's:\n got %q\nwant %q", got, ref)
	}
}

func TestPyString(t *testing.T) {
	// Expected strings are Python's json.dumps output for the same text.
	tests := []struct{ in, want string }{
		{"conv0", `"conv0"`},
		{"é€😀\x7f<>&\t\x01", `"\u00e9\u20ac\ud83d\ude00\u007f<>&\t\u0001"`},
		{"\"\\\n\r\b\f/", `"\"\\\n\r\b\f/"`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := string(appendPyString(nil, tt.in)); got != tt.want {
				t.Errorf("appendPyString(%q) = %s, want %s", tt.in, got, tt.want)
			}
			var back string
			if err := json.Unmarshal([]byte(tt.want), &back); err != nil || back != tt.in {
				t.Errorf("JSON %s reads back as %q, %v", tt.want, back, err)
			}
		})
	}
}

func TestSpecialValues(t *testing.T) {
	nan := math.Float32frombits(0x7fc00001)
	v := []float32{float32(math.Inf(1)), float32(math.Inf(-1)), nan, float32(math.Copysign(0, -1)), math.SmallestNonzeroFloat32, math.MaxFloat32}
	path := filepath.Join(t.TempDir(), "s.safetensors")
	if err := Write(path, []Tensor{{Name: "v", Shape: []int{len(v)}, Data: v}}, nil); err != nil {
		t.Fatal(err)
	}
	f, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slicesEqualBits(f.Tensors[0].Data, v) {
		t.Errorf("got %v, want %v (bit for bit)", f.Tensors[0].Data, v)
	}
}

func TestWriteErrors(t *testing.T) {
	tests := []struct {
		name    string
		tensors []Tensor
		meta    map[string]string
		want    string
	}{
		{"data too short", []Tensor{{Name: "w", Shape: []int{2, 3}, Data: make([]float32, 5)}}, nil, `tensor "w": shape [2 3] holds 6 values, Data has 5`},
		{"negative dim", []Tensor{{Name: "w", Shape: []int{-1}}}, nil, `tensor "w": bad shape [-1]`},
		{"overflow", []Tensor{{Name: "w", Shape: []int{1 << 31, 1 << 31, 1 << 31}}}, nil, `bad shape`},
		{"duplicate", []Tensor{{Name: "w", Data: []float32{1}}, {Name: "w", Data: []float32{1}}}, nil, `tensor "w" appears twice`},
		{"empty name", []Tensor{{Name: "", Data: []float32{1}}}, nil, `empty name`},
		{"metadata name", []Tensor{{Name: "__metadata__", Data: []float32{1}}}, nil, `cannot be named __metadata__`},
		{"bad utf8 name", []Tensor{{Name: "\xff", Data: []float32{1}}}, nil, `not valid UTF-8`},
		{"bad utf8 meta", nil, map[string]string{"k": "\xff"}, `not valid UTF-8`},
		{"Data and Ints", []Tensor{{Name: "n", Shape: []int{1}, Data: []float32{1}, Ints: []int64{1}}}, nil, `tensor "n" has both Data and Ints`},
		{"ints too short", []Tensor{{Name: "n", Shape: []int{2}, Ints: []int64{1}}}, nil, `tensor "n": shape [2] holds 2 values, Ints has 1`},
		{"I64 scalar without a value", []Tensor{{Name: "n", Shape: []int{}, Ints: []int64{}}}, nil, `tensor "n": shape [] holds 1 values, Ints has 0`},
		{"I64 bytes overflow", []Tensor{{Name: "n", Shape: []int{1 << 60}, Ints: []int64{}}}, nil, `tensor "n": bad shape`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.safetensors")
			err := Write(path, tt.tensors, tt.meta)
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Write error = %v, want one naming %s and saying %q", err, path, tt.want)
			}
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Errorf("a failed Write left %s behind", path)
			}
		})
	}
}
