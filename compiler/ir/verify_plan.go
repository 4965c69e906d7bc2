package ir

import "fmt"

// verifyPlans checks the memory plan of every planned phase: each arena buffer lies inside
// the peak, derived buffers lie in the shared region at the start of the arena and the
// phase's own buffers above it, and buffers in use at the same step never overlap.
func verifyPlans(p *Program) error {
	for _, ph := range p.Phases {
		if ph.Peak == 0 {
			continue
		}
		first, last := map[*Buffer]int{}, map[*Buffer]int{}
		for i, st := range ph.Steps {
			for _, b := range st.Buffers() {
				if b.External {
					continue
				}
				if _, ok := first[b]; !ok {
					first[b] = i
				}
				last[b] = i
			}
		}
		if ph.Logits != nil {
			last[ph.Logits] = len(ph.Steps)
		}
		bufs := ph.Buffers
		for i, a := range bufs {
			if a.Offset < 0 || a.Offset+a.Size(ph.Batch) > ph.Peak {
				return fmt.Errorf("phase %s: buffer %s [%d, %d) outside the arena of %d", ph.Kind, a.Name, a.Offset, a.Offset+a.Size(ph.Batch), ph.Peak)
			}
			if a.Derived != (a.Offset < p.Shared) || a.Derived && a.Offset+a.Size(ph.Batch) > p.Shared {
				return fmt.Errorf("phase %s: buffer %s [%d, %d) on the wrong side of the shared region [0, %d) (derived: %t)",
					ph.Kind, a.Name, a.Offset, a.Offset+a.Size(ph.Batch), p.Shared, a.Derived)
			}
			for _, b := range bufs[i+1:] {
				liveTogether := first[a] <= last[b] && first[b] <= last[a] || a.Derived && b.Derived
				overlap := a.Offset < b.Offset+b.Size(ph.Batch) && b.Offset < a.Offset+a.Size(ph.Batch)
				if liveTogether && overlap {
					return fmt.Errorf("phase %s: buffers %s and %s are live together and overlap", ph.Kind, a.Name, b.Name)
				}
			}
		}
	}
	return nil
}
