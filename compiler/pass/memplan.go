package pass

import (
	"sort"

	"github.com/wrnc/wrnc/compiler/ir"
)

// PlanMemory gives every parameter its offset in the flat parameter (trainable) or
// statistics (running mean and variance) buffer, and every buffer of every phase a fixed
// offset in that phase's arena: buffers whose lifetimes (first to last step that uses
// them) do not overlap share space, placed largest first at the lowest offset that fits.
// The logits stay live to the end of their phase, since the caller reads them.
func PlanMemory(p *ir.Program) error {
	params, stats := 0, 0
	for _, x := range p.Params {
		if x.Trainable() {
			x.Offset, params = params, params+x.Size()
		} else {
			x.Offset, stats = stats, stats+x.Size()
		}
	}
	for _, ph := range p.Phases {
		planPhase(ph)
	}
	return nil
}

type interval struct {
	b           *ir.Buffer
	first, last int
}

func planPhase(ph *ir.Phase) {
	live := map[*ir.Buffer]*interval{}
	var order []*interval
	for i, st := range ph.Steps {
		for _, b := range st.Buffers() {
			if b.External {
				continue
			}
			iv := live[b]
			if iv == nil {
				iv = &interval{b: b, first: i}
				live[b] = iv
				order = append(order, iv)
			}
			iv.last = i
		}
	}
	if iv := live[ph.Logits]; iv != nil {
		iv.last = len(ph.Steps)
	}
	ph.Buffers = nil
	for _, iv := range order {
		ph.Buffers = append(ph.Buffers, iv.b)
	}
	bySize := append([]*interval(nil), order...)
	sort.SliceStable(bySize, func(i, j int) bool { return bySize[i].b.Size(ph.Batch) > bySize[j].b.Size(ph.Batch) })
	var placed []*interval
	ph.Peak = 0
	for _, iv := range bySize {
		size := align(iv.b.Size(ph.Batch))
		// Candidate offsets: 0 and the end of every placed buffer whose lifetime overlaps.
		var busy []*interval
		for _, o := range placed {
			if o.first <= iv.last && iv.first <= o.last {
				busy = append(busy, o)
			}
		}
		sort.Slice(busy, func(i, j int) bool { return busy[i].b.Offset < busy[j].b.Offset })
		off := 0
		for _, o := range busy {
			if off+size <= o.b.Offset {
				break
			}
			off = max(off, o.b.Offset+align(o.b.Size(ph.Batch)))
		}
		iv.b.Offset = off
		placed = append(placed, iv)
		ph.Peak = max(ph.Peak, off+size)
	}
}

// align rounds n floats up to a 64-byte cache line.
func align(n int) int { return (n + 15) &^ 15 }
