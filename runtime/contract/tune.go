package contract

import (
	"encoding/json"
	"fmt"
	"io"
)

// RowMinChannels is the fewest input channels the CPU's im2row takes: fewer would leave
// most of each 8-channel vector of its channel-blocked input as padding.
const RowMinChannels = 8

// ForwardFits reports whether the CPU method sel computes the forward pass of c: the
// kernels' preconditions, not whether the method is a good choice there.
func (c *Conv) ForwardFits(sel Selection) bool {
	switch sel.Method {
	case Im2col:
		return true
	case Pointwise:
		return c.OneByOne()
	case Im2row:
		return c.C >= RowMinChannels
	case Winograd:
		return c.Winograd3() && (sel.Tile == 2 || sel.Tile == 4)
	}
	return false
}

// ForwardCandidates lists the CPU methods that compute the forward pass of c, in the
// order im2col, pointwise, im2row, Winograd F(2x2), F(4x4), those that fit.
func (c *Conv) ForwardCandidates() []Selection {
	var out []Selection
	for _, s := range []Selection{
		{Method: Im2col}, {Method: Pointwise}, {Method: Im2row},
		{Method: Winograd, Tile: 2}, {Method: Winograd, Tile: 4},
	} {
		if c.ForwardFits(s) {
			out = append(out, s)
		}
	}
	return out
}

// TuneFile is what `wrnc tune` writes and `wrnc compile --tune` reads: the forward
// method measured fastest for each convolution of a network at each batch its binary
// runs, on one machine.
type TuneFile struct {
	Format   string      `json:"format"` // TuneFormat
	Network  string      `json:"network"`
	CPU      string      `json:"cpu"`      // the model name of the machine measured
	Features string      `json:"features"` // its SIMD features, as the kernels saw them
	Threads  int         `json:"threads"`
	Convs    []TunedConv `json:"convs"`
}

// TuneFormat names the current TuneFile format.
const TuneFormat = "wrnc-tune/1"

// TunedConv is one convolution at one batch: the method chosen and, per candidate, the
// median time measured (µs).
type TunedConv struct {
	Conv   Conv               `json:"conv"`
	Batch  int                `json:"batch"`
	Choice Selection          `json:"choice"`
	Rule   Selection          `json:"rule"` // what the rules chose
	Micros map[string]float64 `json:"micros,omitempty"`
}

// Label is how TunedConv.Micros names a selection: the method, with F(m x m)'s tile.
func (s Selection) Label() string {
	if s.Method == Winograd {
		return fmt.Sprintf("%s%d", s.Method, s.Tile)
	}
	return string(s.Method)
}

// ReadTuneFile reads and checks a TuneFile: its format, and for every entry a valid
// convolution, a batch >= 1 and a CPU method that computes it.
func ReadTuneFile(r io.Reader) (*TuneFile, error) {
	dec := json.NewDecoder(io.LimitReader(r, 16<<20))
	dec.DisallowUnknownFields()
	var f TuneFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("not a tune file: %w", err)
	}
	if f.Format != TuneFormat {
		return nil, fmt.Errorf("format %q, want %q (written by wrnc tune)", f.Format, TuneFormat)
	}
	for i, t := range f.Convs {
		if err := t.Conv.Validate(); err != nil {
			return nil, fmt.Errorf("convs[%d]: %w", i, err)
		}
		if t.Batch < 1 {
			return nil, fmt.Errorf("convs[%d]: batch %d, want at least 1", i, t.Batch)
		}
		if !t.Conv.ForwardFits(t.Choice) {
			return nil, fmt.Errorf("convs[%d]: %q does not compute the forward pass of conv %+v (it takes %s)", i, t.Choice.Label(), t.Conv, labels(t.Conv.ForwardCandidates()))
		}
	}
	return &f, nil
}

func labels(s []Selection) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ", "
		}
		out += x.Label()
	}
	return out
}
