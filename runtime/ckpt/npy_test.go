package ckpt

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// npyFile builds a .npy file by hand: magic, version major.0, header length
// (2 bytes for 1.0, 4 otherwise), the dict padded with spaces and a final
// newline so that the preamble is a multiple of align, then data.
func npyFile(major byte, dict string, align int, data []byte) []byte {
	pre := 10
	if major != 1 {
		pre = 12
	}
	h := dict
	for (pre+len(h)+1)%align != 0 {
		h += " "
	}
	h += "\n"
	b := []byte{0x93, 'N', 'U', 'M', 'P', 'Y', major, 0}
	if major == 1 {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(h)))
	} else {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(h)))
	}
	return append(append(b, h...), data...)
}

func le64(v ...float64) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	return b
}

func TestReadNPY(t *testing.T) {
	d23 := "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
	v6 := []float32{1, 2, 3, -4, 5.5, 6e-30}
	tests := []struct {
		name      string
		file      []byte
		wantShape []int
		wantData  []float32
	}{
		{"v1 padded to 64", npyFile(1, d23, 64, le(v6...)), []int{2, 3}, v6},
		{"v1 padded to 16 (numpy before 1.14)", npyFile(1, d23, 16, le(v6...)), []int{2, 3}, v6},
		{"v2", npyFile(2, d23, 64, le(v6...)), []int{2, 3}, v6},
		{"v3", npyFile(3, d23, 64, le(v6...)), []int{2, 3}, v6},
		{"keys in another order, double quotes, list, no trailing comma",
			npyFile(1, `{"shape": [6], "descr": "<f4", "fortran_order": False}`, 1, le(v6...)), []int{6}, v6},
		{"python 2 long", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3L, 2L), }", 64, le(v6...)), []int{3, 2}, v6},
		{"1-d", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", 64, le(v6...)), []int{6}, v6},
		{"0-d", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 64, le(7)), []int{}, []float32{7}},
		{"empty", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }", 64, nil), []int{0, 3}, []float32{}},
		{"fortran 1-d", npyFile(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (1, 6, 1), }", 64, le(v6...)), []int{1, 6, 1}, v6},
		{"f8 converted", npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", 64,
			le64(1.5, -2.25, 1e-50, 3.0000001)), []int{2, 2}, []float32{1.5, -2.25, 0, float32(3.0000001)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeRaw(t, "x.npy", tt.file)
			shape, data, err := ReadNPY(path)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantShape, shape); diff != "" {
				t.Errorf("shape (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantData, data); diff != "" {
				t.Errorf("data (-want +got):\n%s", diff)
			}
		})
	}
}

// numpyHeader23 is the preamble numpy 1.24 writes with np.save for a float32
// array of shape (2, 3): 20 spare spaces for the first dimension (21 digits
// less the 1 of "2"), then padding to 128 bytes ending in a newline.
func numpyHeader23() []byte {
	h := "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" + strings.Repeat(" ", 20)
	h += strings.Repeat(" ", 128-10-1-len(h)) + "\n"
	b := []byte("\x93NUMPY\x01\x00")
	b = binary.LittleEndian.AppendUint16(b, uint16(len(h)))
	return append(b, h...)
}

func TestWriteNPYBytes(t *testing.T) {
	v := []float32{1, 2, 3, 4, 5, 6}
	path := filepath.Join(t.TempDir(), "x.npy")
	if err := WriteNPY(path, []int{2, 3}, v); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := append(numpyHeader23(), le(v...)...)
	if len(want) != 128+24 {
		t.Fatalf("hand-built file is %d bytes", len(want))
	}
	if !bytes.Equal(got, want) {
		t.Errorf("WriteNPY wrote\n%q\nnumpy writes\n%q", got, want)
	}
}

func TestNPYRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, shape := range [][]int{{}, {1}, {7}, {0}, {2, 3}, {4, 3, 5, 5}, {1, 1, 1, 1, 1, 1, 1, 1}, {123456789, 0}} {
		t.Run(pyTuple(shape), func(t *testing.T) {
			n, _ := numElements(shape)
			data := make([]float32, n)
			for i := range data {
				data[i] = float32(rng.NormFloat64())
			}
			path := filepath.Join(t.TempDir(), "x.npy")
			if err := WriteNPY(path, shape, data); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			pre := 10 + int(binary.LittleEndian.Uint16(b[8:]))
			if pre%64 != 0 || b[pre-1] != '\n' {
				t.Errorf("preamble is %d bytes, ending in %q", pre, b[pre-1])
			}
			gotShape, gotData, err := ReadNPY(path)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(shape, gotShape); diff != "" {
				t.Errorf("shape (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(data, gotData); diff != "" {
				t.Errorf("data (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadNPYErrors(t *testing.T) {
	d := func(descr, fortran, shape string) string {
		return "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }"
	}
	ok := d("<f4", "False", "(2, 3)")
	six := le(1, 2, 3, 4, 5, 6)
	long := binary.LittleEndian.AppendUint16([]byte("\x93NUMPY\x01\x00"), 500)
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"short", []byte("\x93NUMPY"), "too short"},
		{"not npy", []byte("PK\x03\x04 this is a zip file"), "not a .npy file"},
		{"v2 length cut", []byte("\x93NUMPY\x02\x00\x05\x00"), "10 bytes is too short"},
		{"version 4", append([]byte("\x93NUMPY\x04\x00\x10\x00"), make([]byte, 20)...), "version 4.0 is not supported"},
		{"header beyond file", append(long, "{'descr'"...), "header length 500 goes beyond the end of the file"},
		{"big endian", npyFile(1, d(">f4", "False", "(2, 3)"), 64, six), `dtype ">f4" is not supported`},
		{"int", npyFile(1, d("<i8", "False", "(2, 3)"), 64, six), `dtype "<i8" is not supported`},
		{"fortran", npyFile(1, d("<f4", "True", "(2, 3)"), 64, six), "Fortran-order"},
		{"short data", npyFile(1, ok, 64, six[:20]), "shape [2 3] of <f4 needs 24 bytes of data, the file has 20"},
		{"trailing data", npyFile(1, ok, 64, append(six, 0)), "needs 24 bytes of data, the file has 25"},
		{"huge shape", npyFile(1, d("<f4", "False", "(2147483647, 2147483647, 2147483647)"), 64, six), "needs too many bytes"},
		{"dimension 2^31", npyFile(1, d("<f4", "False", "(2147483648, 1)"), 64, six), "dimension 2147483648 is too large: each dimension must be below 2^31"},
		{"dimension past int64", npyFile(1, d("<f4", "False", "(99999999999999999999999, 1)"), 64, six), "dimension 99999999999999999999999 is too large"},
		{"negative dim", npyFile(1, d("<f4", "False", "(-2, 3)"), 64, six), "non-negative integers"},
		{"not a dict", npyFile(1, "['<f4']", 64, six), "not a Python dict"},
		{"unknown key", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}", 64, six), `unexpected key "x"`},
		{"missing key", npyFile(1, "{'descr': '<f4', 'shape': (2, 3)}", 64, six), `no "fortran_order"`},
		{"duplicate key", npyFile(1, "{'descr': '<f4', 'descr': '<f4'}", 64, six), `key "descr" appears twice`},
		{"unterminated", npyFile(1, "{'descr': '<f4", 64, six), "unterminated string"},
		{"junk after dict", npyFile(1, ok+" x", 64, six), "unexpected text after the dict"},
		{"bad bool", npyFile(1, d("<f4", "0", "(2, 3)"), 64, six), "expected True or False"},
		{"bad tuple", npyFile(1, d("<f4", "False", "(2 3)"), 64, six), "expected ',' or ')'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeRaw(t, "bad.npy", tt.file)
			_, _, err := ReadNPY(path)
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ReadNPY error = %v, want one naming %s and saying %q", err, path, tt.want)
			}
		})
	}
}

func TestReadNPYTruncated(t *testing.T) {
	full := npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 64, le(1, 2, 3, 4, 5, 6))
	dir := t.TempDir()
	for n := range len(full) {
		path := filepath.Join(dir, "t.npy")
		if err := os.WriteFile(path, full[:n], 0o644); err != nil {
			t.Fatal(err)
		}
		if _, _, err := ReadNPY(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Fatalf("ReadNPY of the first %d bytes: error %v, want one naming the file", n, err)
		}
	}
}

func TestWriteNPYErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.npy")
	for _, tt := range []struct {
		shape []int
		n     int
		want  string
	}{
		{[]int{2, 3}, 5, "shape [2 3] holds 6 values, data has 5"},
		{[]int{-1}, 0, "bad shape [-1]"},
	} {
		err := WriteNPY(path, tt.shape, make([]float32, tt.n))
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("WriteNPY(%v, %d values) error = %v, want %q", tt.shape, tt.n, err, tt.want)
		}
	}
}
