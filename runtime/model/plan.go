package model

import (
	"fmt"

	"github.com/wrnc/wrnc/runtime/contract"
)

// Extent is one buffer of a memory plan: PerImage*n + Fixed floats at Off in the arena of
// Phase, for up to the phase's batch of images. Derived buffers (Phase Step) persist in the
// region shared by every phase.
type Extent struct {
	Name            string
	Phase           contract.Phase
	Off             int
	PerImage, Fixed int
	Derived         bool
}

// planAlign is the alignment of every buffer, in floats: one 64-byte cache line.
const planAlign = 16

// CheckPlan validates a spec's memory plan and shapes once, so that the kernels need not
// check their arguments while they run: every convolution is consistent, every parameter
// lies inside its flat buffer, and every buffer of the plan is aligned and lies inside the
// arena of its phase (derived buffers inside the shared region).
func CheckPlan(sp *Spec) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s: invalid plan: %s", sp.Name, fmt.Sprintf(format, args...))
	}
	if sp.Batch < 1 {
		return bad("batch %d", sp.Batch)
	}
	for i := range sp.Convs {
		if err := sp.Convs[i].Validate(); err != nil {
			return bad("%v", err)
		}
	}
	for _, p := range sp.Params {
		size := sp.StatsSize
		if p.Trainable() {
			size = sp.ParamsSize
		}
		if p.Offset < 0 || p.Offset+p.Size() > size {
			return bad("parameter %s [%d, %d) outside its buffer of %d", p.Name, p.Offset, p.Offset+p.Size(), size)
		}
	}
	arenas := [contract.NumPhases]int{contract.Train: sp.TrainArena, contract.Infer: sp.InferArena,
		contract.Infer1: sp.Infer1Arena, contract.Step: sp.Shared}
	batch := [contract.NumPhases]int{contract.Train: sp.Batch, contract.Infer: sp.Batch, contract.Infer1: 1, contract.Step: sp.Batch}
	for _, a := range arenas {
		if a < sp.Shared {
			return bad("an arena of %d floats smaller than the shared region of %d", a, sp.Shared)
		}
	}
	for _, e := range sp.Plan {
		if e.Phase >= contract.NumPhases {
			return bad("buffer %s of phase %d", e.Name, e.Phase)
		}
		end, limit := e.Off+e.PerImage*batch[e.Phase]+e.Fixed, arenas[e.Phase]
		if e.Derived {
			limit = sp.Shared
		}
		switch {
		case e.Off%planAlign != 0:
			return bad("buffer %s at %d is not aligned to %d floats", e.Name, e.Off, planAlign)
		case e.Off < 0 || e.PerImage < 0 || e.Fixed < 0 || end > limit:
			return bad("buffer %s [%d, %d) of phase %s outside its region of %d floats", e.Name, e.Off, end, e.Phase, limit)
		case !e.Derived && e.Off < sp.Shared:
			return bad("buffer %s at %d inside the shared region [0, %d)", e.Name, e.Off, sp.Shared)
		}
	}
	return nil
}
