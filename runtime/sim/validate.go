package sim

import "fmt"

// validate checks that every register slot, pool entry and branch target of
// the decoded code is in range. The interpreter relies on it to address
// registers and instructions without bounds checks, so a failure here is an
// internal error of the decoder, reported instead of risking memory.
func (k *Kernel) validate() error {
	ns := int32(k.nslots)
	slot := func(s int32) bool { return s >= 0 && s < ns }
	list := func(off, n int32) bool {
		if off < 0 || n < 0 || int(off)+int(n) > len(k.pool) {
			return false
		}
		for _, s := range k.pool[off : off+n] {
			if !slot(s) {
				return false
			}
		}
		return true
	}
	if len(k.code) == 0 || k.code[len(k.code)-1].op != opExit {
		return fmt.Errorf("sim: internal error: kernel %s does not end with exit", k.name)
	}
	for pc, in := range k.code {
		ok := in.guard == 0 || slot(in.guard-1) || slot(-in.guard-1)
		switch in.op {
		case opExit, opBar:
		case opBra:
			ok = ok && in.imm >= 0 && in.imm < int64(len(k.code))
		case opLdGV32, opLdGV64, opLdSV32, opLdSV64:
			ok = ok && slot(in.a) && list(in.d, in.c)
		case opStGV32, opStGV64, opStSV32, opStSV64:
			ok = ok && slot(in.a) && list(in.b, in.c)
		case opAtomGAddF, opAtomGAddU32, opAtomGAddU64, opAtomSAddF, opAtomSAddU32, opAtomSAddU64:
			ok = ok && slot(in.a) && slot(in.b) && (in.d == -1 || slot(in.d))
		case opMma:
			ok = ok && list(in.a, 14)
		case opShfl:
			ok = ok && slot(in.d) && slot(in.a) && slot(in.b) && slot(in.c) && (in.imm == 0 || slot(int32(in.imm-1)))
		case opInvalid:
			ok = false
		default:
			ok = ok && slot(in.d) && slot(in.a) && slot(in.b) && slot(in.c)
		}
		if !ok {
			return fmt.Errorf("sim: internal error: kernel %s, line %d: instruction %d has an operand out of range", k.name, k.lines[pc], pc)
		}
	}
	return nil
}
