package data

// The elements of one miMATRIX variable of a MAT-file (see mat.go for the file): tags,
// padded bodies, and the array flags, dimensions, name and data they carry.

import (
	"encoding/binary"
	"fmt"
	"io"
)

// matReader reads the sub-elements of one miMATRIX body of left bytes.
type matReader struct {
	r          io.Reader
	left       int64
	order      binary.ByteOrder
	where      string
	compressed bool
}

func (s *matReader) errf(format string, args ...any) error {
	return fmt.Errorf("%s: "+format, append([]any{s.where}, args...)...)
}

// read reads n bytes of the body; n is at most what is left.
func (s *matReader) read(n int64, what string) ([]byte, error) {
	if n > s.left {
		return nil, s.errf("%s declares %d bytes, but its array holds only %d more; the file is truncated or corrupt", what, n, s.left)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(s.r, b); err != nil {
		if s.compressed {
			err = zlibErr(err)
		}
		return nil, s.errf("%s: %v; the file is truncated or corrupt", what, err)
	}
	s.left -= n
	return b, nil
}

// tag reads a data element tag. For the small format the data (n <= 4 bytes)
// comes back in small; otherwise the caller reads the n bytes with body.
func (s *matReader) tag(what string) (typ uint32, n int64, small []byte, err error) {
	t, err := s.read(8, what+" tag")
	if err != nil {
		return 0, 0, nil, err
	}
	w := s.order.Uint32(t)
	if w>>16 != 0 {
		n = int64(w >> 16)
		if n > 4 {
			return 0, 0, nil, s.errf("%s: a small data element of %d bytes, at most 4 fit; the file is corrupt", what, n)
		}
		return w & 0xffff, n, t[4 : 4+n], nil
	}
	return w, int64(s.order.Uint32(t[4:])), nil, nil
}

// body reads n data bytes and the padding to the next 8-byte boundary.
func (s *matReader) body(n int64, what string) ([]byte, error) {
	b, err := s.read(n, what)
	if err != nil {
		return nil, err
	}
	if pad := min((8-n%8)%8, s.left); pad > 0 {
		if _, err := s.read(pad, what+" padding"); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// element reads a whole data element: tag, data, padding.
func (s *matReader) element(what string) (uint32, []byte, error) {
	typ, n, small, err := s.tag(what)
	if err != nil || small != nil {
		return typ, small, err
	}
	b, err := s.body(n, what)
	return typ, b, err
}

// matrix reads an miMATRIX body: array flags, dimensions, name, and for a
// wanted numeric variable its real part. An empty body gives nil.
func (s *matReader) matrix(wanted func(string) bool) (*matVar, error) {
	if s.left == 0 {
		return nil, nil
	}
	typ, fl, err := s.element("array flags")
	if err != nil {
		return nil, err
	}
	if typ != miUINT32 || len(fl) != 8 {
		return nil, s.errf("array flags are %d bytes of type %d, expected 8 bytes of miUINT32; the file is corrupt", len(fl), typ)
	}
	flags := s.order.Uint32(fl)
	v := &matVar{Class: int(flags & 0xff), order: s.order}
	typ, dims, err := s.element("dimensions")
	if err != nil {
		return nil, err
	}
	if typ != miINT32 || len(dims)%4 != 0 || len(dims) < 8 || len(dims) > 4*matMaxDims {
		return nil, s.errf("dimensions are %d bytes of type %d, expected 2 to %d miINT32 values; the file is corrupt",
			len(dims), typ, matMaxDims)
	}
	for i := 0; i < len(dims); i += 4 {
		d := int32(s.order.Uint32(dims[i:]))
		if d < 0 {
			return nil, s.errf("dimension %d is %d; the file is corrupt", i/4+1, d)
		}
		v.Dims = append(v.Dims, int(d))
	}
	typ, n, small, err := s.tag("array name")
	if err != nil {
		return nil, err
	}
	if typ != miINT8 && typ != miUINT8 && typ != miUTF8 {
		return nil, s.errf("array name has type %d, expected miINT8; the file is corrupt", typ)
	}
	if n > matMaxName {
		return nil, s.errf("array name of %d bytes, expected at most %d; the file is corrupt", n, matMaxName)
	}
	name := small
	if small == nil {
		if name, err = s.body(n, "array name"); err != nil {
			return nil, err
		}
	}
	v.Name = string(name)
	s.where += fmt.Sprintf(", variable %q", v.Name)
	if !wanted(v.Name) || !matNumeric(v.Class) {
		return v, nil
	}
	if flags&0x800 != 0 {
		return nil, s.errf("a complex array, expected a real one")
	}
	// The element count, bounded before it can overflow.
	count := int64(1)
	for _, d := range v.Dims {
		if d != 0 && count > matMaxData/int64(d) {
			return nil, s.errf("dimensions %s are too large (more than %d elements)", dimString(v.Dims), int64(matMaxData))
		}
		count *= int64(d)
	}
	typ, n, small, err = s.tag("real part")
	if err != nil {
		return nil, err
	}
	tname, size := matType(typ)
	if size == 0 {
		return nil, s.errf("real part is a %s element, expected numeric data (miINT8 .. miUINT64, miSINGLE, miDOUBLE)", tname)
	}
	if n != count*int64(size) {
		return nil, s.errf("dimensions %s need %d bytes of %s data, but the real part holds %d; the file is corrupt",
			dimString(v.Dims), count*int64(size), tname, n)
	}
	if n > matMaxData {
		return nil, s.errf("real part of %d bytes, more than the %d this reader accepts", n, int64(matMaxData))
	}
	v.Type = typ
	if small != nil {
		v.Data = small
	} else if v.Data, err = s.body(n, "real part"); err != nil {
		return nil, err
	}
	if v.Data == nil {
		v.Data = []byte{}
	}
	return v, nil
}
