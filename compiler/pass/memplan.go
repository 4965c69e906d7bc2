package pass

import (
	"sort"

	"github.com/wrnc/wrnc/compiler/ir"
)

// PlanMemory gives every parameter its offset in the flat parameter (trainable) or
// statistics (running mean and variance) buffer, and every buffer of every phase a fixed
// offset in that phase's arena: buffers whose lifetimes (first to last step that uses
// them) do not overlap share space, placed largest first at the lowest offset that fits.
// The logits stay live to the end of their phase, since the caller reads them. Derived
// buffers (transformed weights) persist from call to call: they are laid end to end in a
// region at the start of the arena that every phase shares, and the phases' buffers are
// placed above it.
func PlanMemory(p *ir.Program) error {
	params, stats := 0, 0
	for _, x := range p.Params {
		if x.Trainable() {
			x.Offset, params = params, params+x.Size()
		} else {
			x.Offset, stats = stats, stats+x.Size()
		}
	}
	p.Shared = 0
	for _, b := range p.Derived() {
		b.Offset = p.Shared
		p.Shared += align(b.Size(1))
	}
	for _, ph := range p.Phases {
		planPhase(ph, p.Shared)
	}
	return nil
}

type interval struct {
	b           *ir.Buffer
	first, last int
}

func planPhase(ph *ir.Phase, base int) {
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
	var own []*interval
	for _, iv := range order {
		ph.Buffers = append(ph.Buffers, iv.b)
		if !iv.b.Derived {
			own = append(own, iv)
		}
	}
	bySize := own
	sort.SliceStable(bySize, func(i, j int) bool { return bySize[i].b.Size(ph.Batch) > bySize[j].b.Size(ph.Batch) })
	var placed []*interval
	ph.Peak = base
	for _, iv := range bySize {
		size := align(iv.b.Size(ph.Batch))
		// Candidate offsets: the base and the end of every placed buffer whose lifetime overlaps.
		var busy []*interval
		for _, o := range placed {
			if o.first <= iv.last && iv.first <= o.last {
				busy = append(busy, o)
			}
		}
		sort.Slice(busy, func(i, j int) bool { return busy[i].b.Offset < busy[j].b.Offset })
		off := base
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
