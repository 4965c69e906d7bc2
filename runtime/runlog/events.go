// Package runlog writes the files of a training run folder that people and tools look
// at besides log.jsonl: metrics.csv (WriteCSV) and TensorBoard event files (Events).
package runlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// EventsPrefix starts the name of every TensorBoard event file.
const EventsPrefix = "events.out.tfevents."

// FileVersion is the file_version of the first Event of an event file.
const FileVersion = "brain.Event:2"

// Field numbers of tensorflow/core/util/event.proto and summary.proto.
const (
	eventWallTime    = 1 // double
	eventStep        = 2 // int64
	eventFileVersion = 3 // string
	eventSummary     = 5 // Summary
	summaryValue     = 1 // repeated Summary.Value
	valueTag         = 1 // string
	valueSimple      = 2 // float
)

// Scalar is one named value of a TensorBoard scalar summary, such as "train/loss".
type Scalar struct {
	Tag   string
	Value float64
}

// Events appends TensorBoard events to one event file. Every record is written with a
// single write call and fsynced, so a crash loses at most the record being written.
// Events may be used from several goroutines.
type Events struct {
	mu   sync.Mutex
	path string
	f    *os.File
}

// castagnoli is the CRC-32C table of TFRecord framing.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// MaskedCRC is the masked CRC-32C that TFRecord framing stores after the length and
// after the data of each record.
func MaskedCRC(b []byte) uint32 {
	c := crc32.Checksum(b, castagnoli)
	return (c>>15 | c<<17) + 0xa282ead8
}

// CreateEvents creates a new event file in dir, named
// events.out.tfevents.<unix seconds>.<host> (with a ".N" suffix when that name is
// taken), and writes its file_version event. TensorBoard reads all the event files of
// a folder as one run.
func CreateEvents(dir string, now time.Time, host string) (*Events, error) {
	host = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r < ' ' {
			return '_'
		}
		return r
	}, host)
	if host == "" {
		host = "localhost"
	}
	base := filepath.Join(dir, EventsPrefix+strconv.FormatInt(now.Unix(), 10)+"."+host)
	path := base
	var f *os.File
	for i := 1; ; i++ {
		var err error
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) || i > 1000 {
			return nil, fmt.Errorf("event file: %w", err)
		}
		path = base + "." + strconv.Itoa(i)
	}
	e := &Events{path: path, f: f}
	var ev []byte
	ev = protowire.AppendTag(ev, eventWallTime, protowire.Fixed64Type)
	ev = protowire.AppendFixed64(ev, math.Float64bits(wallTime(now)))
	ev = protowire.AppendTag(ev, eventFileVersion, protowire.BytesType)
	ev = protowire.AppendString(ev, FileVersion)
	if err := e.write(ev); err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	return e, nil
}

// Path is the event file's path.
func (e *Events) Path() string { return e.path }

// Scalars writes one event at step with a summary of the values; a value that is NaN
// or infinite is written as it is (TensorBoard shows it as such).
func (e *Events) Scalars(step int64, now time.Time, values ...Scalar) error {
	var sum []byte
	for _, v := range values {
		var val []byte
		val = protowire.AppendTag(val, valueTag, protowire.BytesType)
		val = protowire.AppendString(val, v.Tag)
		val = protowire.AppendTag(val, valueSimple, protowire.Fixed32Type)
		val = protowire.AppendFixed32(val, math.Float32bits(float32(v.Value)))
		sum = protowire.AppendTag(sum, summaryValue, protowire.BytesType)
		sum = protowire.AppendBytes(sum, val)
	}
	var ev []byte
	ev = protowire.AppendTag(ev, eventWallTime, protowire.Fixed64Type)
	ev = protowire.AppendFixed64(ev, math.Float64bits(wallTime(now)))
	ev = protowire.AppendTag(ev, eventStep, protowire.VarintType)
	ev = protowire.AppendVarint(ev, uint64(step))
	ev = protowire.AppendTag(ev, eventSummary, protowire.BytesType)
	ev = protowire.AppendBytes(ev, sum)
	return e.write(ev)
}

// wallTime is t in seconds since the Unix epoch, as Event.wall_time holds it.
func wallTime(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// write frames data as one TFRecord and appends it.
func (e *Events) write(data []byte) error {
	rec := make([]byte, 0, 16+len(data))
	rec = binary.LittleEndian.AppendUint64(rec, uint64(len(data)))
	rec = binary.LittleEndian.AppendUint32(rec, MaskedCRC(rec[:8]))
	rec = append(rec, data...)
	rec = binary.LittleEndian.AppendUint32(rec, MaskedCRC(data))
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.f == nil {
		return fmt.Errorf("event file %s: write after Close", e.path)
	}
	if _, err := e.f.Write(rec); err != nil {
		return fmt.Errorf("event file %s: %w", e.path, err)
	}
	if err := e.f.Sync(); err != nil {
		return fmt.Errorf("event file %s: sync: %w", e.path, err)
	}
	return nil
}

// Close closes the file; later calls do nothing.
func (e *Events) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.f == nil {
		return nil
	}
	err := e.f.Close()
	e.f = nil
	if err != nil {
		return fmt.Errorf("event file %s: %w", e.path, err)
	}
	return nil
}
