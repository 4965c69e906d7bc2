package data

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The fixtures are written by SciPy's scipy.io.savemat (Debian's
// python3-scipy), an implementation independent of the reader under test.
const python = "/usr/bin/python3"

// svhnPy writes, for each file of the JSON spec in argv[1], dir/NAME.mat
// and the expected CHW pixels and 0..9 classes as expect/NAME.chw and
// expect/NAME.lab, computed by numpy from the same seeded arrays.
const svhnPy = `
import json, sys
import numpy as np, scipy.io
spec = json.loads(sys.argv[1])
for f in spec:
    rng = np.random.default_rng(f["seed"])
    n, hw = f["n"], f.get("hw", 32)
    X = rng.integers(0, 256, size=(hw, hw, 3, n), dtype=np.uint8)
    if f.get("zeros"):
        X[:] = 0
    y = rng.integers(1, 11, size=(n, 1)).astype(np.uint8)
    y[0, 0] = 10
    if "bad_label" in f:
        y[n - 1, 0] = f["bad_label"]
    yw = y.astype(f.get("ytype", "uint8"))
    if f.get("row"):
        yw = yw.T
    if "ylen" in f:
        yw = yw[: f["ylen"]]
    d = {"X": X.astype(f.get("xtype", "uint8")), "y": yw}
    if f.get("noy"):
        del d["y"]
    if "extra" in f:
        d[f["extra"]] = np.arange(7, dtype=np.int32)
    scipy.io.savemat(f["path"], d, do_compression=f.get("compress", False))
    base = f["expect"]
    with open(base + ".chw", "wb") as w:
        w.write(np.ascontiguousarray(X.transpose(3, 2, 0, 1)).tobytes())
    with open(base + ".lab", "wb") as w:
        w.write((y[:, 0] % 10).astype(np.uint8).tobytes())
`

// pyFile describes one MAT-file for svhnPy; zero fields take its defaults.
type pyFile struct {
	Name     string `json:"-"`
	Path     string `json:"path"`
	Expect   string `json:"expect"`
	N        int    `json:"n"`
	Seed     int    `json:"seed"`
	HW       int    `json:"hw,omitempty"`
	YType    string `json:"ytype,omitempty"`
	XType    string `json:"xtype,omitempty"`
	Compress bool   `json:"compress,omitempty"`
	Row      bool   `json:"row,omitempty"`
	BadLabel *int   `json:"bad_label,omitempty"`
	YLen     *int   `json:"ylen,omitempty"`
	NoY      bool   `json:"noy,omitempty"`
	Extra    string `json:"extra,omitempty"`
	Zeros    bool   `json:"zeros,omitempty"`
}

// needScipy fails the test unless /usr/bin/python3 can import scipy.io.
func needScipy(t testing.TB) {
	t.Helper()
	out, err := exec.Command(python, "-c", "import scipy.io").CombinedOutput()
	if err != nil {
		t.Fatalf("%s with SciPy is needed to write the MAT-file fixtures (apt-get install python3-scipy): %v\n%s", python, err, out)
	}
}

// writePy writes the files (Name without .mat) into dir with SciPy and
// returns the sets numpy expects, by name.
func writePy(t testing.TB, dir string, files ...pyFile) map[string]*Set {
	t.Helper()
	needScipy(t)
	exp := filepath.Join(t.TempDir(), "expect")
	if err := os.MkdirAll(exp, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range files {
		files[i].Path = filepath.Join(dir, files[i].Name+".mat")
		files[i].Expect = filepath.Join(exp, files[i].Name)
	}
	spec, err := json.Marshal(files)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(python, "-c", svhnPy, string(spec)).CombinedOutput(); err != nil {
		t.Fatalf("writing fixtures with SciPy: %v\n%s", err, out)
	}
	sets := map[string]*Set{}
	for _, f := range files {
		pix, err := os.ReadFile(f.Expect + ".chw")
		if err != nil {
			t.Fatal(err)
		}
		lab, err := os.ReadFile(f.Expect + ".lab")
		if err != nil {
			t.Fatal(err)
		}
		s := &Set{N: f.N, C: 3, H: 32, W: 32, Pixels: pix}
		for _, l := range lab {
			s.Labels = append(s.Labels, int32(l))
		}
		sets[f.Name] = s
	}
	return sets
}

// A minimal MAT-file writer, for what SciPy does not write: big-endian
// files, other data types than the class, and hostile files.

// matOrder is a byte order that also appends.
type matOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

func matHeaderBytes(o matOrder, text string) []byte {
	h := make([]byte, matHeaderSize)
	copy(h, text)
	for i := len(text); i < 116; i++ {
		h[i] = ' '
	}
	o.PutUint16(h[124:], 0x0100)
	if o == binary.ByteOrder(binary.BigEndian) {
		copy(h[126:], "MI")
	} else {
		copy(h[126:], "IM")
	}
	return h
}

// matElemBytes encodes one data element, in the small format when it fits.
func matElemBytes(o matOrder, typ uint32, data []byte, small bool) []byte {
	if small && len(data) <= 4 {
		b := o.AppendUint32(nil, uint32(len(data))<<16|typ)
		return append(b, append(data, make([]byte, 4-len(data))...)...)
	}
	b := o.AppendUint32(nil, typ)
	b = o.AppendUint32(b, uint32(len(data)))
	b = append(b, data...)
	return append(b, make([]byte, (8-len(data)%8)%8)...)
}

// matMatrixBytes encodes a top-level miMATRIX of a real numeric array.
func matMatrixBytes(o matOrder, class int, dims []int, name string, typ uint32, data []byte) []byte {
	var body []byte
	body = append(body, matElemBytes(o, miUINT32, o.AppendUint32(o.AppendUint32(nil, uint32(class)), 0), false)...)
	var d []byte
	for _, v := range dims {
		d = o.AppendUint32(d, uint32(v))
	}
	body = append(body, matElemBytes(o, miINT32, d, false)...)
	body = append(body, matElemBytes(o, miINT8, []byte(name), true)...)
	body = append(body, matElemBytes(o, typ, data, true)...)
	return matElemBytes(o, miMATRIX, body, false)
}

// compressBytes wraps an element in an miCOMPRESSED one (no padding after).
func compressBytes(o matOrder, elem []byte) []byte {
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	zw.Write(elem)
	zw.Close()
	b := o.AppendUint32(nil, miCOMPRESSED)
	b = o.AppendUint32(b, uint32(buf.Len()))
	return append(b, buf.Bytes()...)
}

// matlabOrder lays a CHW set out as MATLAB's 32x32x3xN X: (h, w, c, n) at
// h + 32w + 1024c + 3072n.
func matlabOrder(s *Set) []byte {
	out := make([]byte, len(s.Pixels))
	for n := range s.N {
		for c := range 3 {
			for h := range 32 {
				for w := range 32 {
					out[h+32*w+1024*c+3072*n] = s.Pixels[n*3072+c*1024+h*32+w]
				}
			}
		}
	}
	return out
}

// goSVHNFile encodes s as an SVHN file with X uint8 and y double stored as
// ytype (MATLAB itself stores integer-valued doubles in smaller types).
func goSVHNFile(o matOrder, s *Set, ytype uint32, compress bool) []byte {
	var y []byte
	for _, l := range s.Labels {
		v := uint64(l)
		if v == 0 {
			v = 10
		}
		switch ytype {
		case miDOUBLE:
			y = o.AppendUint64(y, math.Float64bits(float64(v)))
		case miUINT8:
			y = append(y, byte(v))
		case miINT16:
			y = o.AppendUint16(y, uint16(v))
		}
	}
	elems := [][]byte{
		matMatrixBytes(o, mxUINT8, []int{32, 32, 3, s.N}, "X", miUINT8, matlabOrder(s)),
		matMatrixBytes(o, mxDOUBLE, []int{s.N, 1}, "y", ytype, y),
	}
	b := matHeaderBytes(o, "MATLAB 5.0 MAT-file, written by the wrnc tests")
	for _, e := range elems {
		if compress {
			e = compressBytes(o, e)
		}
		b = append(b, e...)
	}
	return b
}

func TestMatPython(t *testing.T) {
	dir := t.TempDir()
	sets := writePy(t, dir,
		pyFile{Name: "plain", N: 3, Seed: 1},
		pyFile{Name: "packed", N: 2, Seed: 2, Compress: true, YType: "float64", Extra: "notes"},
	)
	for _, name := range []string{"plain", "packed"} {
		mf, err := readMatFile(filepath.Join(dir, name+".mat"), "X", "y")
		if err != nil {
			t.Fatal(err)
		}
		x, y := mf.Var("X"), mf.Var("y")
		n := sets[name].N
		if x == nil || y == nil {
			t.Fatalf("%s: variables %s", name, mf.Names())
		}
		if x.Class != mxUINT8 || x.Type != miUINT8 || !cmp.Equal(x.Dims, []int{32, 32, 3, n}) {
			t.Errorf("%s: X is %s %s of type %d", name, dimString(x.Dims), matClassName(x.Class), x.Type)
		}
		if !cmp.Equal(y.Dims, []int{n, 1}) || y.Len() != n {
			t.Errorf("%s: y is %s", name, dimString(y.Dims))
		}
		// Element (h, w, c, n) of X, straight from the column-major data.
		want := sets[name]
		for i := range n {
			for _, p := range [][3]int{{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {5, 17, 2}, {31, 30, 1}} {
				h, w, c := p[0], p[1], p[2]
				if got, exp := x.At(h+32*w+1024*c+3072*i), want.Pixels[i*3072+c*1024+h*32+w]; got != float64(exp) {
					t.Errorf("%s: X(%d,%d,%d,%d) = %v, want %d", name, h+1, w+1, c+1, i+1, got, exp)
				}
			}
			if got, exp := int(y.At(i))%10, want.Labels[i]; got != int(exp) {
				t.Errorf("%s: y(%d) = %v, want class %d", name, i+1, y.At(i), exp)
			}
		}
		if name == "packed" {
			if v := mf.Var("notes"); v == nil || v.Data != nil || v.Class != mxINT32 {
				t.Errorf("unread variable notes: %+v", v)
			}
		}
	}
}

// TestMatBigEndian reads the same data written in both byte orders.
func TestMatBigEndian(t *testing.T) {
	s := &Set{N: 2, C: 3, H: 32, W: 32, Labels: []int32{0, 7}}
	for i := range 2 * 3072 {
		s.Pixels = append(s.Pixels, uint8(i*7+i/3))
	}
	for _, o := range []matOrder{binary.LittleEndian, binary.BigEndian} {
		for _, compress := range []bool{false, true} {
			for _, yt := range []uint32{miDOUBLE, miUINT8, miINT16} {
				b := goSVHNFile(o, s, yt, compress)
				mf, err := readMat("x.mat", bytes.NewReader(b), int64(len(b)), "X", "y")
				if err != nil {
					t.Fatalf("%v compress=%v y type %d: %v", o, compress, yt, err)
				}
				got, err := svhnSet(mf, 10, 0)
				if err != nil {
					t.Fatalf("%v compress=%v y type %d: %v", o, compress, yt, err)
				}
				checkSplit(t, o.String(), s, got)
			}
		}
	}
}

// TestMatBombs checks that a compressed element cannot make the reader
// allocate or inflate past what the file declares and can hold.
func TestMatBombs(t *testing.T) {
	o := binary.LittleEndian
	s := &Set{N: 5, C: 3, H: 32, W: 32, Pixels: make([]uint8, 5*3072), Labels: make([]int32, 5)}
	good := goSVHNFile(o, s, miDOUBLE, false)

	// 1. A valid X element whose zlib stream goes on inflating, 64 MiB of zeros.
	x := matMatrixBytes(o, mxUINT8, []int{32, 32, 3, 5}, "X", miUINT8, s.Pixels)
	var buf bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&buf, zlib.BestCompression)
	zw.Write(x)
	zeros := make([]byte, 1<<20)
	for range 64 {
		zw.Write(zeros)
	}
	zw.Close()
	bomb := matHeaderBytes(o, "MATLAB 5.0 MAT-file")
	bomb = o.AppendUint32(bomb, miCOMPRESSED)
	bomb = o.AppendUint32(bomb, uint32(buf.Len()))
	bomb = append(bomb, buf.Bytes()...)
	bomb = append(bomb, good[128+len(x):]...) // then y
	checkAlloc(t, "long stream", bomb, "inflates past")

	// 2. An X that declares 3 GB but holds a few bytes of zlib.
	huge := matHeaderBytes(o, "MATLAB 5.0 MAT-file")
	tag := o.AppendUint32(nil, miMATRIX)
	tag = o.AppendUint32(tag, 3<<30)
	huge = append(huge, compressBytes(o, append(tag, x[8:200]...))...)
	checkAlloc(t, "declared huge", huge, "more than its", "compressed bytes")

	// 3. Dimensions that claim more than the real part holds.
	lie := matHeaderBytes(o, "MATLAB 5.0 MAT-file")
	lie = append(lie, compressBytes(o, matMatrixBytes(o, mxUINT8, []int{32, 32, 3, 1 << 20}, "X", miUINT8, s.Pixels))...)
	checkAlloc(t, "dims lie", lie, "32x32x3x1048576", "need 3221225472 bytes")

	// 4. Dimensions whose product overflows.
	of := matHeaderBytes(o, "MATLAB 5.0 MAT-file")
	of = append(of, matMatrixBytes(o, mxUINT8, []int{1 << 30, 1 << 30, 1 << 30, 8}, "X", miUINT8, s.Pixels)...)
	checkAlloc(t, "overflow", of, "too large")
}

// TestMatCompressedPadding: zero padding after a compressed matrix is
// accepted, anything else past its declared end is not.
func TestMatCompressedPadding(t *testing.T) {
	o := binary.LittleEndian
	s := &Set{N: 1, C: 3, H: 32, W: 32, Pixels: make([]uint8, 3072), Labels: []int32{2}}
	plain := goSVHNFile(o, s, miDOUBLE, false)
	x := matMatrixBytes(o, mxUINT8, []int{32, 32, 3, 1}, "X", miUINT8, s.Pixels)
	y := plain[128+len(x):]
	for _, tc := range []struct {
		tail []byte
		ok   bool
	}{{nil, true}, {make([]byte, 8), true}, {make([]byte, 9), false}, {[]byte{0, 0, 1}, false}} {
		b := append(matHeaderBytes(o, "MATLAB 5.0 MAT-file"), compressBytes(o, append(append([]byte(nil), x...), tc.tail...))...)
		b = append(b, y...)
		mf, err := readMat("p.mat", bytes.NewReader(b), int64(len(b)), "X", "y")
		if tc.ok {
			if err != nil {
				t.Fatalf("tail %v: %v", tc.tail, err)
			}
			got, err := svhnSet(mf, 10, 0)
			if err != nil {
				t.Fatal(err)
			}
			checkSplit(t, "padded", s, got)
		} else {
			checkErr(t, err, "p.mat", "inflates past")
		}
	}
}

// checkAlloc reads b and wants an error with parts, allocating little.
func checkAlloc(t *testing.T, name string, b []byte, parts ...string) {
	t.Helper()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	_, err := readMat("bomb.mat", bytes.NewReader(b), int64(len(b)), "X", "y")
	runtime.ReadMemStats(&m1)
	t.Logf("%s: %v", name, err)
	checkErr(t, err, append(parts, "bomb.mat")...)
	if d := m1.TotalAlloc - m0.TotalAlloc; d > 64<<20 {
		t.Errorf("%s: allocated %d bytes", name, d)
	}
}

func TestMatHeaders(t *testing.T) {
	o := binary.LittleEndian
	s := &Set{N: 1, C: 3, H: 32, W: 32, Pixels: make([]uint8, 3072), Labels: []int32{3}}
	good := goSVHNFile(o, s, miDOUBLE, true)
	v73 := matHeaderBytes(o, "MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5 schema 1.00 .")
	o.PutUint16(v73[124:], 0x0200)
	v73 = append(v73, make([]byte, 512-len(v73))...)
	v73 = append(v73, hdf5Signature...)
	v73 = append(v73, make([]byte, 100)...)
	v73text := append([]byte(nil), v73...)
	o.PutUint16(v73text[124:], 0x0100)
	hdf5 := append(append([]byte(nil), hdf5Signature...), make([]byte, 600)...)
	flip := func(i int) []byte {
		b := append([]byte(nil), good...)
		b[i] ^= 0x5a
		return b
	}
	for _, tc := range []struct {
		name  string
		b     []byte
		parts []string
	}{
		{"v7.3", v73, []string{"v7.3", "HDF5", "-v7", "scipy.io.savemat"}},
		{"v7.3 by text", v73text, []string{"v7.3", "-v7"}},
		{"bare HDF5", hdf5, []string{"v7.3", "HDF5"}},
		{"endian byte", flip(126), []string{"endian indicator"}},
		{"version byte", flip(124), []string{"version", "0x0100"}},
		{"element type", flip(128), []string{"element 1", "expected miMATRIX"}},
		{"element size", flip(132), nil},
		{"zlib header", flip(136), []string{"element 1", "zlib"}},
		{"zlib data", flip(150), []string{"element 1", "compressed"}},
		{"zlib checksum", flip(128 + 8 + int(o.Uint32(good[132:])) - 1), []string{"element 1", "checksum"}},
		{"empty", nil, []string{"0 bytes", "too short"}},
		{"v4-like", make([]byte, 200), []string{"not a MATLAB v5"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readMat("h.mat", bytes.NewReader(tc.b), int64(len(tc.b)), "X", "y")
			t.Log(err)
			checkErr(t, err, append(tc.parts, "h.mat")...)
		})
	}
}

// matSeeds are valid MAT-files for the fuzz corpus, kept small (all-zero
// pixels compress to a few bytes; 2x2 and 4x4 arrays are valid MAT-files
// though not SVHN ones) so that the fuzzer's minimization stays quick.
func matSeeds(t testing.TB) [][]byte {
	dir := t.TempDir()
	writePy(t, dir,
		pyFile{Name: "a", N: 2, Seed: 5, HW: 2},
		pyFile{Name: "b", N: 2, Seed: 6, Compress: true, YType: "float64", Zeros: true},
		pyFile{Name: "c", N: 1, Seed: 7, Compress: true, YType: "int16", Extra: "z", HW: 4},
	)
	var seeds [][]byte
	for _, n := range []string{"a", "b", "c"} {
		b, err := os.ReadFile(filepath.Join(dir, n+".mat"))
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	o := binary.BigEndian
	s := &Set{N: 1, C: 3, H: 32, W: 32, Pixels: make([]uint8, 3072), Labels: []int32{4}}
	small := append(matHeaderBytes(o, "MATLAB 5.0 MAT-file"),
		matMatrixBytes(o, mxUINT8, []int{2, 2, 3, 1}, "X", miUINT8, make([]byte, 12))...)
	small = append(small, matMatrixBytes(o, mxDOUBLE, []int{1, 1}, "y", miUINT8, []byte{3})...)
	seeds = append(seeds, small, goSVHNFile(o, s, miDOUBLE, true))
	return seeds
}

func FuzzMat(f *testing.F) {
	for _, b := range matSeeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		mf, err := readMat("f.mat", bytes.NewReader(b), int64(len(b)), "X", "y")
		if err != nil {
			if !strings.Contains(err.Error(), "f.mat") {
				t.Errorf("error %q does not name the file", err)
			}
			return
		}
		if _, err := svhnSet(mf, 10, 0); err != nil && !strings.Contains(err.Error(), "f.mat") {
			t.Errorf("error %q does not name the file", err)
		}
	})
}
