package ir

import "fmt"

// verifyPlans checks the memory plan of every planned phase: each arena buffer lies inside
// the peak, and buffers in use at the same step never overlap.
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
				return fmt.Errorf("phase %s: buffer %s [%d, %d) outside the arena of %d", ph.Name, a.Name, a.Offset, a.Offset+a.Size(ph.Batch), ph.Peak)
			}
			for _, b := range bufs[i+1:] {
				liveTogether := first[a] <= last[b] && first[b] <= last[a]
				overlap := a.Offset < b.Offset+b.Size(ph.Batch) && b.Offset < a.Offset+a.Size(ph.Batch)
				if liveTogether && overlap {
					return fmt.Errorf("phase %s: buffers %s and %s are live together and overlap", ph.Name, a.Name, b.Name)
				}
			}
		}
	}
	return nil
}
