package runlog

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"

	"google.golang.org/protobuf/encoding/protowire"
)

// Event is one TensorBoard event as ReadEvents decodes it: the file_version event,
// or the scalars of one step.
type Event struct {
	WallTime    float64
	Step        int64
	FileVersion string
	Scalars     []Scalar // simple_value of each Summary.Value, as float32 holds it
}

// ReadEvents reads an event file back, record by record: it checks the length and
// both masked CRCs of each TFRecord and decodes its Event. A record cut short at the
// end (a crash while writing it) is an error as well, naming its offset.
func ReadEvents(path string) ([]Event, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var evs []Event
	for off := 0; off < len(b); {
		if len(b)-off < 12 {
			return evs, fmt.Errorf("%s: offset %d: a record header cut short", path, off)
		}
		hdr := b[off : off+8]
		n := binary.LittleEndian.Uint64(hdr)
		if binary.LittleEndian.Uint32(b[off+8:]) != MaskedCRC(hdr) {
			return evs, fmt.Errorf("%s: offset %d: the CRC of the record length does not match", path, off)
		}
		if n > uint64(len(b)-off-16) {
			return evs, fmt.Errorf("%s: offset %d: a record of %d bytes cut short", path, off, n)
		}
		data := b[off+12 : off+12+int(n)]
		if binary.LittleEndian.Uint32(b[off+12+int(n):]) != MaskedCRC(data) {
			return evs, fmt.Errorf("%s: offset %d: the CRC of the record data does not match", path, off)
		}
		ev, err := decodeEvent(data)
		if err != nil {
			return evs, fmt.Errorf("%s: offset %d: %v", path, off, err)
		}
		evs = append(evs, ev)
		off += 16 + int(n)
	}
	return evs, nil
}

// decodeEvent decodes the fields of an Event that Events writes; others are skipped.
func decodeEvent(b []byte) (Event, error) {
	var ev Event
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch {
		case num == eventWallTime && typ == protowire.Fixed64Type:
			ev.WallTime = math.Float64frombits(x)
		case num == eventStep && typ == protowire.VarintType:
			ev.Step = int64(x)
		case num == eventFileVersion && typ == protowire.BytesType:
			ev.FileVersion = string(v)
		case num == eventSummary && typ == protowire.BytesType:
			return fields(v, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
				if num != summaryValue || typ != protowire.BytesType {
					return nil
				}
				var s Scalar
				err := fields(v, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
					switch {
					case num == valueTag && typ == protowire.BytesType:
						s.Tag = string(v)
					case num == valueSimple && typ == protowire.Fixed32Type:
						s.Value = float64(math.Float32frombits(uint32(x)))
					}
					return nil
				})
				ev.Scalars = append(ev.Scalars, s)
				return err
			})
		}
		return nil
	})
	return ev, err
}

// fields calls fn for each field of the message b: its number and type, and its bytes
// (length-delimited fields) or its value (varints and fixed-size ones).
func fields(b []byte, fn func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("bad protobuf tag: %v", protowire.ParseError(n))
		}
		b = b[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		case protowire.Fixed64Type:
			x, n = protowire.ConsumeFixed64(b)
		case protowire.Fixed32Type:
			var y uint32
			y, n = protowire.ConsumeFixed32(b)
			x = uint64(y)
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return fmt.Errorf("field %d: %v", num, protowire.ParseError(n))
		}
		b = b[n:]
		if err := fn(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}
