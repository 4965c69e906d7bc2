package ckpt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"unicode/utf8"
)

// rawEntry is a tensor's header entry as JSON has it; nil fields are missing.
type rawEntry struct {
	Dtype       *string  `json:"dtype"`
	Shape       *[]int64 `json:"shape"`
	DataOffsets *[]int64 `json:"data_offsets"`
}

// parseHeader parses a safetensors JSON header: an object whose keys are
// tensor names (or "__metadata__", an object of strings), in any order,
// followed by nothing but whitespace. Offsets are checked against the shape
// here; against each other and the data by checkLayout.
func parseHeader(hdr []byte) ([]entry, map[string]string, error) {
	if !utf8.Valid(hdr) {
		return nil, nil, errors.New("not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(hdr))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, errors.New("not a JSON object")
	}
	var entries []entry
	meta := map[string]string{}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("not valid JSON: %v", err)
		}
		name, ok := tok.(string)
		if !ok { // json.Decoder rejects non-string keys; be safe
			return nil, nil, errors.New("not valid JSON: object key is not a string")
		}
		if seen[name] {
			return nil, nil, fmt.Errorf("%q appears twice", name)
		}
		seen[name] = true
		if name == metadataKey {
			if err := dec.Decode(&meta); err != nil {
				return nil, nil, fmt.Errorf("%s is not an object of strings: %v", metadataKey, err)
			}
			if meta == nil { // "__metadata__": null
				meta = map[string]string{}
			}
			continue
		}
		var raw rawEntry
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, fmt.Errorf("tensor %q: not an object with dtype, shape and data_offsets: %v", name, err)
		}
		e, err := checkEntry(name, raw)
		if err != nil {
			return nil, nil, err
		}
		entries = append(entries, e)
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, nil, fmt.Errorf("not valid JSON: %v", err)
	}
	rest := hdr[dec.InputOffset():]
	if len(bytes.TrimLeft(rest, " \t\r\n")) != 0 {
		return nil, nil, fmt.Errorf("unexpected bytes after the JSON object (only space padding may follow it): %.20q", bytes.TrimLeft(rest, " \t\r\n"))
	}
	return entries, meta, nil
}

// checkEntry checks one tensor entry on its own.
func checkEntry(name string, raw rawEntry) (entry, error) {
	bad := func(format string, args ...any) (entry, error) {
		return entry{}, fmt.Errorf("tensor %q: "+format, append([]any{name}, args...)...)
	}
	switch {
	case raw.Dtype == nil:
		return bad("no dtype")
	case *raw.Dtype != F32 && *raw.Dtype != I64:
		return bad("dtype %s is not supported (only F32 is, and I64 for counters such as num_batches_tracked; convert the weights to float32)", *raw.Dtype)
	case raw.Shape == nil:
		return bad("no shape")
	case raw.DataOffsets == nil:
		return bad("no data_offsets")
	case len(*raw.DataOffsets) != 2:
		return bad("data_offsets %v must be [begin, end]", *raw.DataOffsets)
	}
	shape := make([]int, len(*raw.Shape))
	for i, d := range *raw.Shape {
		if d < 0 || d > math.MaxInt32 {
			return bad("bad shape %v", *raw.Shape)
		}
		shape[i] = int(d)
	}
	begin, end := (*raw.DataOffsets)[0], (*raw.DataOffsets)[1]
	if begin < 0 || end < begin {
		return bad("bad data_offsets [%d, %d]", begin, end)
	}
	dtype := *raw.Dtype
	item := itemSize(dtype)
	n, ok := numElements(shape)
	if !ok || n > math.MaxInt64/item {
		return bad("shape %v is too large", shape)
	}
	if end-begin != item*n {
		return bad("data_offsets [%d, %d] hold %d bytes, shape %v of %s needs %d", begin, end, end-begin, shape, dtype, item*n)
	}
	return entry{name: name, dtype: dtype, shape: shape, begin: begin, end: end}, nil
}
