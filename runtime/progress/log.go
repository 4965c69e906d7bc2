package progress

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sync"
)

// KV is one key and value of a log record.
type KV struct {
	Key   string
	Value any
}

// Log appends records, one JSON object per line, to a file such as
// RUN/log.jsonl. Each record is written with a single write call and fsynced
// before Write returns, so a crash loses at most the record being written.
// A Log may be used from several goroutines.
type Log struct {
	mu   sync.Mutex
	path string
	f    *os.File
}

// OpenLog opens the log at path for appending, creating it if needed. If the
// file ends in a torn record (a last line without its newline, left by a
// crash), OpenLog cuts it off so that new records start on a line of their
// own; a last line that is a complete JSON object only lacks its newline, and
// gets one.
func OpenLog(path string) (*Log, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	if err := repairTail(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("log %s: %w", path, err)
	}
	return &Log{path: path, f: f}, nil
}

// repairTail makes f end in a newline (or be empty), dropping a torn last line.
func repairTail(f *os.File) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	size := st.Size()
	if size == 0 {
		return nil
	}
	// Find the start of the last line.
	start := int64(0)
	buf := make([]byte, 4096)
	for end := size; end > 0; {
		off := max(0, end-int64(len(buf)))
		chunk := buf[:end-off]
		if _, err := f.ReadAt(chunk, off); err != nil {
			return err
		}
		if end == size && chunk[len(chunk)-1] == '\n' {
			return nil // ends in a newline: nothing torn
		}
		if i := bytes.LastIndexByte(chunk, '\n'); i >= 0 {
			start = off + int64(i) + 1
			break
		}
		end = off
	}
	tail := make([]byte, size-start)
	if _, err := f.ReadAt(tail, start); err != nil {
		return err
	}
	if isObject(tail) {
		if _, err := f.Write([]byte{'\n'}); err != nil {
			return err
		}
	} else if err := f.Truncate(start); err != nil {
		return err
	}
	return f.Sync()
}

// isObject reports whether b is one JSON object.
func isObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{' && json.Valid(b)
}

// Write appends one record, its keys in the order given. A float64 or
// float32 value that is NaN or infinite (a diverged loss, say) is written as
// null; other values are encoded as encoding/json does. A key given twice is
// an error.
func (l *Log) Write(rec []KV) error {
	b, err := encodeRecord(rec)
	if err != nil {
		return fmt.Errorf("log %s: %w", l.path, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return fmt.Errorf("log %s: write after Close", l.path)
	}
	if _, err := l.f.Write(b); err != nil {
		return fmt.Errorf("log %s: %w", l.path, err)
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("log %s: sync: %w", l.path, err)
	}
	return nil
}

// encodeRecord returns rec as one line of JSON, newline included.
func encodeRecord(rec []KV) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	// encode writes v without the newline the encoder adds.
	encode := func(v any) error {
		if err := enc.Encode(v); err != nil {
			return err
		}
		buf.Truncate(buf.Len() - 1)
		return nil
	}
	buf.WriteByte('{')
	for i, kv := range rec {
		for _, prev := range rec[:i] {
			if prev.Key == kv.Key {
				return nil, fmt.Errorf("key %q given twice", kv.Key)
			}
		}
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := encode(kv.Key); err != nil {
			return nil, err
		}
		buf.WriteByte(':')
		v := kv.Value
		if nonFinite(v) {
			v = nil
		}
		if err := encode(v); err != nil {
			return nil, fmt.Errorf("key %q: %w", kv.Key, err)
		}
	}
	buf.WriteString("}\n")
	return buf.Bytes(), nil
}

// nonFinite reports whether v is a NaN or infinite float.
func nonFinite(v any) bool {
	switch x := v.(type) {
	case float64:
		return math.IsNaN(x) || math.IsInf(x, 0)
	case float32:
		return math.IsNaN(float64(x)) || math.IsInf(float64(x), 0)
	}
	return false
}

// Close closes the log; later calls do nothing.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	if err != nil {
		return fmt.Errorf("log %s: %w", l.path, err)
	}
	return nil
}

// ReadLog reads the records of a log back, in order. Numbers come back as
// float64. A last line without its newline that is not a complete JSON
// object is a record torn by a crash and is ignored; blank lines are skipped;
// any other line that is not a JSON object is an error naming the file and
// the line (FILE:LINE: ...).
func ReadLog(path string) ([]map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var recs []map[string]any
	for line := 1; len(b) > 0; line++ {
		text, rest, complete := bytes.Cut(b, []byte{'\n'})
		b = rest
		if len(bytes.TrimSpace(text)) == 0 {
			continue
		}
		if !complete && !isObject(text) {
			break // torn last record
		}
		rec, err := decodeRecord(text)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, line, err)
		}
		recs = append(recs, rec)
	}
	return recs, nil
}

// decodeRecord decodes one line holding one JSON object.
func decodeRecord(text []byte) (map[string]any, error) {
	var rec map[string]any
	dec := json.NewDecoder(bytes.NewReader(text))
	if err := dec.Decode(&rec); err != nil {
		return nil, fmt.Errorf("not a JSON object: %v", err)
	}
	if rec == nil {
		return nil, errors.New("not a JSON object: null")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("not a JSON object: text after the object")
	}
	return rec, nil
}
