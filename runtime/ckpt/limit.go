package ckpt

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/wrnc/wrnc/runtime/sysmem"
)

// maxStreamHeader bounds the header of a file read as a stream (whose size is not known
// in advance): real headers are a few kilobytes.
const maxStreamHeader = 64 << 20

// MemoryLimit is the most bytes a reader takes from one file unless told otherwise:
// half the machine's memory (MemTotal of /proc/meminfo), or 8 GiB where that is unknown.
func MemoryLimit() int64 {
	if total, ok := sysmem.Total(); ok {
		return total / 2
	}
	return 8 << 30
}

// openLimited opens path for reading at most limit bytes: a regular file larger than
// that is refused; size is its size, or -1 for a file read as a stream (a pipe or a
// device), whose reader must stop at what its header declares.
func openLimited(path string, limit int64, what string) (f *os.File, size int64, err error) {
	f, err = os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	switch {
	case st.IsDir():
		f.Close()
		return nil, 0, fmt.Errorf("%s: is a directory, not %s", path, what)
	case !st.Mode().IsRegular():
		return f, -1, nil
	case st.Size() > limit:
		f.Close()
		return nil, 0, fmt.Errorf("%s: %d bytes is more than %s may have here (%d bytes at most)", path, st.Size(), what, limit)
	}
	return f, st.Size(), nil
}

// atEnd checks that r has nothing left.
func atEnd(r io.Reader) error {
	var one [1]byte
	n, err := io.ReadFull(r, one[:])
	switch {
	case n == 0 && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)):
		return nil
	case err != nil && n == 0:
		return err
	}
	return errors.New("more data follows what the header declares")
}
