package data

import (
	"fmt"
	"io"
	"os"

	"github.com/wrnc/wrnc/runtime/sysmem"
)

// readBounded reads the file at path, what a reader of what it is expects, if it holds
// at most limit bytes: a larger regular file is refused before it is read, and a pipe or
// device (an image argument of /dev/urandom) is read no further than limit.
func readBounded(path string, limit int64, what string) ([]byte, error) {
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
		return nil, fmt.Errorf("%s: is a directory, not %s", path, what)
	}
	if st.Mode().IsRegular() && st.Size() > limit {
		return nil, fmt.Errorf("%s: %d bytes is more than %s for this network may have (%d bytes at most)", path, st.Size(), what, limit)
	}
	if err := sysmem.Check(path+": reading it", min(st.Size(), limit)); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: not a regular file, and it gives more than the %d bytes %s for this network may have", path, limit, what)
	}
	return b, nil
}
