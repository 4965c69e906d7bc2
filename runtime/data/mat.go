package data

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
)

// A small reader of MATLAB v5 MAT-files (also what MATLAB's save -v6 and -v7
// write): the 128-byte header, then top-level data elements, each an
// miMATRIX or an miCOMPRESSED (zlib) one holding an miMATRIX. Only what the
// SVHN files need is decoded: a numeric variable's class, dimensions and the
// raw bytes of its real part. Every size a file declares is checked against
// what the file can hold before anything is allocated.

// MAT-file data types (the miXXX of the format's documentation).
const (
	miINT8       = 1
	miUINT8      = 2
	miINT16      = 3
	miUINT16     = 4
	miINT32      = 5
	miUINT32     = 6
	miSINGLE     = 7
	miDOUBLE     = 9
	miINT64      = 12
	miUINT64     = 13
	miMATRIX     = 14
	miCOMPRESSED = 15
	miUTF8       = 16
)

// MATLAB array classes (mxXXX_CLASS).
const (
	mxCELL   = 1
	mxSTRUCT = 2
	mxOBJECT = 3
	mxCHAR   = 4
	mxSPARSE = 5
	mxDOUBLE = 6
	mxSINGLE = 7
	mxINT8   = 8
	mxUINT8  = 9
	mxINT16  = 10
	mxUINT16 = 11
	mxINT32  = 12
	mxUINT32 = 13
	mxINT64  = 14
	mxUINT64 = 15
)

const (
	matHeaderSize = 128
	// matMaxData caps the real part of one variable (SVHN's extra_32x32.mat
	// holds 1.9 GB of pixels).
	matMaxData = 4 << 30
	// matMaxDims caps the number of dimensions of a variable.
	matMaxDims = 32
	// matMaxName caps a variable name (MATLAB's own limit is 63 characters).
	matMaxName = 4096
	// deflate cannot inflate more than 1032 bytes per compressed byte; a
	// compressed element that declares more than this is refused unread.
	matMaxRatio = 1032
)

var hdf5Signature = []byte("\x89HDF\r\n\x1a\n")

// matType names a data type for messages; size is its element size in
// bytes, 0 for a type that is not numeric.
func matType(t uint32) (name string, size int) {
	switch t {
	case miINT8:
		return "miINT8", 1
	case miUINT8:
		return "miUINT8", 1
	case miINT16:
		return "miINT16", 2
	case miUINT16:
		return "miUINT16", 2
	case miINT32:
		return "miINT32", 4
	case miUINT32:
		return "miUINT32", 4
	case miSINGLE:
		return "miSINGLE", 4
	case miDOUBLE:
		return "miDOUBLE", 8
	case miINT64:
		return "miINT64", 8
	case miUINT64:
		return "miUINT64", 8
	case miMATRIX:
		return "miMATRIX", 0
	case miCOMPRESSED:
		return "miCOMPRESSED", 0
	case miUTF8:
		return "miUTF8", 0
	}
	return fmt.Sprintf("type %d", t), 0
}

// matClassName names an array class for messages.
func matClassName(c int) string {
	names := [...]string{mxCELL: "cell array", mxSTRUCT: "struct", mxOBJECT: "object", mxCHAR: "char array",
		mxSPARSE: "sparse array", mxDOUBLE: "double", mxSINGLE: "single", mxINT8: "int8", mxUINT8: "uint8",
		mxINT16: "int16", mxUINT16: "uint16", mxINT32: "int32", mxUINT32: "uint32", mxINT64: "int64", mxUINT64: "uint64"}
	if c > 0 && c < len(names) {
		return names[c]
	}
	return fmt.Sprintf("class %d", c)
}

// matNumeric reports whether class c is a numeric (full, non-sparse) array.
func matNumeric(c int) bool { return c >= mxDOUBLE && c <= mxUINT64 }

// matVar is one top-level variable of a MAT-file. Type and Data are set
// only for the variables asked for (readMat's want); Data holds the
// product of Dims elements of Type in the file's byte order, column-major.
type matVar struct {
	Name  string
	Class int // mxDOUBLE, mxUINT8, ...
	Dims  []int
	Type  uint32 // miUINT8, miDOUBLE, ...
	Data  []byte
	order binary.ByteOrder
}

// Len is the number of elements, the product of Dims.
func (v *matVar) Len() int {
	n := 1
	for _, d := range v.Dims {
		n *= d
	}
	return n
}

// At returns element i of the real part as a float64.
func (v *matVar) At(i int) float64 {
	o, d := v.order, v.Data
	switch v.Type {
	case miINT8:
		return float64(int8(d[i]))
	case miUINT8:
		return float64(d[i])
	case miINT16:
		return float64(int16(o.Uint16(d[2*i:])))
	case miUINT16:
		return float64(o.Uint16(d[2*i:]))
	case miINT32:
		return float64(int32(o.Uint32(d[4*i:])))
	case miUINT32:
		return float64(o.Uint32(d[4*i:]))
	case miSINGLE:
		return float64(math.Float32frombits(o.Uint32(d[4*i:])))
	case miDOUBLE:
		return math.Float64frombits(o.Uint64(d[8*i:]))
	case miINT64:
		return float64(int64(o.Uint64(d[8*i:])))
	case miUINT64:
		return float64(o.Uint64(d[8*i:]))
	}
	return math.NaN()
}

// dimString prints dimensions as AxBxC.
func dimString(d []int) string {
	s := make([]string, len(d))
	for i, v := range d {
		s[i] = fmt.Sprint(v)
	}
	return strings.Join(s, "x")
}

// matFile is what readMat found: every top-level variable, in file order.
type matFile struct {
	Path string
	Vars []*matVar
}

// Var returns the variable called name, or nil.
func (f *matFile) Var(name string) *matVar {
	for _, v := range f.Vars {
		if v.Name == name {
			return v
		}
	}
	return nil
}

// Names lists the variable names, for messages.
func (f *matFile) Names() string {
	if len(f.Vars) == 0 {
		return "no variables"
	}
	var s []string
	for i, v := range f.Vars {
		if i == 10 {
			s = append(s, fmt.Sprintf("and %d more", len(f.Vars)-i))
			break
		}
		s = append(s, fmt.Sprintf("%s (%s %s)", v.Name, dimString(v.Dims), matClassName(v.Class)))
	}
	return strings.Join(s, ", ")
}

// readMatFile reads the MAT-file at path: all variables' headers, and the
// data of the numeric variables named in want.
func readMatFile(path string, want ...string) (*matFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s: is a directory, expected a MATLAB v5 MAT-file", path)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file (mode %v), expected a MATLAB v5 MAT-file", path, st.Mode())
	}
	return readMat(path, f, st.Size(), want...)
}

// readMat reads a MAT-file of size bytes from r; path names it in messages.
func readMat(path string, r io.ReaderAt, size int64, want ...string) (*matFile, error) {
	hdr := make([]byte, matHeaderSize)
	n, err := r.ReadAt(hdr, 0)
	if n >= len(hdf5Signature) && bytes.Equal(hdr[:len(hdf5Signature)], hdf5Signature) {
		return nil, matV73Error(path)
	}
	if int64(n) < matHeaderSize || size < matHeaderSize {
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		return nil, fmt.Errorf("%s: %d bytes, too short for a MATLAB MAT-file header (%d bytes); the file is truncated or not a MAT-file",
			path, min(int64(n), size), matHeaderSize)
	}
	text := string(hdr[:116])
	if strings.Contains(text, "MATLAB 7.3") {
		return nil, matV73Error(path)
	}
	if size >= 512+int64(len(hdf5Signature)) {
		sig := make([]byte, len(hdf5Signature))
		if _, err := r.ReadAt(sig, 512); err == nil && bytes.Equal(sig, hdf5Signature) {
			return nil, matV73Error(path)
		}
	}
	var order binary.ByteOrder
	switch string(hdr[126:128]) {
	case "IM":
		order = binary.LittleEndian
	case "MI":
		order = binary.BigEndian
	default:
		return nil, fmt.Errorf("%s: not a MATLAB v5 MAT-file: header bytes 126-127 are %q, expected the endian indicator \"IM\" or \"MI\"",
			path, hdr[126:128])
	}
	if v := order.Uint16(hdr[124:]); v != 0x0100 {
		if v == 0x0200 {
			return nil, matV73Error(path)
		}
		return nil, fmt.Errorf("%s: MAT-file version 0x%04x, expected 0x0100 (MATLAB v5)", path, v)
	}
	wanted := func(name string) bool {
		for _, w := range want {
			if w == name {
				return true
			}
		}
		return false
	}
	mf := &matFile{Path: path}
	seen := map[string]bool{}
	off := int64(matHeaderSize)
	for k := 1; off < size; k++ {
		where := fmt.Sprintf("%s: element %d (offset %d)", path, k, off)
		if size-off < 8 {
			return nil, fmt.Errorf("%s: %d stray bytes at the end, too short for a data element tag; the file is truncated or corrupt",
				where, size-off)
		}
		tag := make([]byte, 8)
		if _, err := r.ReadAt(tag, off); err != nil {
			return nil, fmt.Errorf("%s: %v", where, err)
		}
		typ, nb := order.Uint32(tag), int64(order.Uint32(tag[4:]))
		if typ>>16 != 0 {
			return nil, fmt.Errorf("%s: a small data element (type %d), expected miMATRIX or miCOMPRESSED at the top level; the file is corrupt",
				where, typ&0xffff)
		}
		if nb > size-off-8 {
			return nil, fmt.Errorf("%s: declares %d bytes, but only %d remain; the file is truncated or corrupt", where, nb, size-off-8)
		}
		body := io.NewSectionReader(r, off+8, nb)
		var v *matVar
		switch typ {
		case miMATRIX:
			s := &matReader{r: body, left: nb, order: order, where: where}
			if v, err = s.matrix(wanted); err != nil {
				return nil, err
			}
			off += 8 + (nb+7)/8*8
		case miCOMPRESSED:
			if v, err = readMatCompressed(body, nb, order, where, wanted); err != nil {
				return nil, err
			}
			off += 8 + nb
		default:
			name, _ := matType(typ)
			return nil, fmt.Errorf("%s: a %s element, expected miMATRIX or miCOMPRESSED at the top level; the file is corrupt or not a MAT-file",
				where, name)
		}
		if v == nil { // an empty miMATRIX
			continue
		}
		if seen[v.Name] {
			return nil, fmt.Errorf("%s: a second variable named %q", where, v.Name)
		}
		seen[v.Name] = true
		mf.Vars = append(mf.Vars, v)
	}
	for _, w := range want {
		v := mf.Var(w)
		if v != nil && v.Data == nil && v.Len() > 0 {
			return nil, fmt.Errorf("%s: variable %q is a %s, expected a real numeric array", path, w, matClassName(v.Class))
		}
	}
	return mf, nil
}

func matV73Error(path string) error {
	return fmt.Errorf("%s: a MATLAB v7.3 MAT-file (HDF5), which this reader does not read; re-save it as a v5/v7 MAT-file: "+
		"in MATLAB, load it and save it with save(FILE, 'X', 'y', '-v7'); in Python, write it with scipy.io.savemat", path)
}

// readMatCompressed reads an miCOMPRESSED element of nb bytes: a zlib stream
// that inflates to one miMATRIX element.
func readMatCompressed(body io.Reader, nb int64, order binary.ByteOrder, where string, wanted func(string) bool) (*matVar, error) {
	zr, err := zlib.NewReader(body)
	if err != nil {
		return nil, fmt.Errorf("%s: bad compressed element (zlib): %v", where, err)
	}
	tag := make([]byte, 8)
	if _, err := io.ReadFull(zr, tag); err != nil {
		return nil, fmt.Errorf("%s: compressed element: %v; the file is truncated or corrupt", where, zlibErr(err))
	}
	typ, inner := order.Uint32(tag), int64(order.Uint32(tag[4:]))
	if typ != miMATRIX {
		name, _ := matType(typ & 0xffff)
		return nil, fmt.Errorf("%s: compressed element holds a %s, expected miMATRIX", where, name)
	}
	if bound := matMaxRatio*nb + 64; inner > bound {
		return nil, fmt.Errorf("%s: compressed element declares %d bytes inflated, more than its %d compressed bytes can hold (at most %d); the file is corrupt",
			where, inner, nb, bound)
	}
	lr := io.LimitReader(zr, inner)
	s := &matReader{r: lr, left: inner, order: order, where: where, compressed: true}
	v, err := s.matrix(wanted)
	if err != nil || v == nil || v.Data == nil {
		return v, err
	}
	// The variable was read: the stream must end where its tag says.
	if _, err := io.CopyN(io.Discard, lr, s.left); err != nil {
		return nil, fmt.Errorf("%s: compressed element: %v; the file is truncated or corrupt", where, zlibErr(err))
	}
	// Up to 8 zero bytes of padding may follow; reading to the end checks
	// the zlib checksum.
	rest, err := io.ReadAll(io.LimitReader(zr, 9))
	if err != nil {
		return nil, fmt.Errorf("%s: compressed element: %v; the file is corrupt", where, zlibErr(err))
	}
	if len(rest) > 8 || !allZero(rest) {
		return nil, fmt.Errorf("%s: compressed element inflates past the %d bytes its miMATRIX tag declares; the file is corrupt",
			where, 8+inner)
	}
	return v, nil
}

func allZero(b []byte) bool {
	for _, v := range b {
		if v != 0 {
			return false
		}
	}
	return true
}

func zlibErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("the compressed data ends early")
	}
	return err
}
