package sim

import "fmt"

// runBlock runs block b (linear index) to completion. Threads run one at a
// time, each until it exits or reaches a synchronization point: warps are
// run in order and a warp collective executes once every lane of the warp
// has reached it; the block barrier releases once every thread has reached it.
func (w *worker) runBlock(b int) error {
	k := w.k
	w.bid = Dim3{b % w.grid.X, b / w.grid.X % w.grid.Y, b / (w.grid.X * w.grid.Y)}
	if s := k.special[spCtaidX]; s >= 0 {
		w.tmpl[s] = uint64(w.bid.X)
	}
	if s := k.special[spCtaidY]; s >= 0 {
		w.tmpl[s] = uint64(w.bid.Y)
	}
	if s := k.special[spCtaidZ]; s >= 0 {
		w.tmpl[s] = uint64(w.bid.Z)
	}
	for i := range w.threads {
		t := &w.threads[i]
		copy(t.regs, w.tmpl)
		idx := w.threadIndex(i)
		for _, sv := range [...][2]int{{spTidX, idx.X}, {spTidY, idx.Y}, {spTidZ, idx.Z}, {spLaneid, i % 32}, {spWarpid, i / 32}} {
			if s := k.special[sv[0]]; s >= 0 {
				t.regs[s] = uint64(sv[1])
			}
		}
		t.pc, t.state, t.steps = 0, stReady, 0
	}
	clear(w.shared)
	w.epoch++
	w.blockEpoch = w.epoch
	nt := len(w.threads)
	for {
		for lo := 0; lo < nt; lo += 32 {
			if err := w.runWarp(lo, min(lo+32, nt)); err != nil {
				return err
			}
		}
		// Every thread has exited or waits at a barrier.
		var barTid, exitTid = -1, -1
		for i := range w.threads {
			if w.threads[i].state == stExit {
				if exitTid < 0 {
					exitTid = i
				}
			} else if barTid < 0 {
				barTid = i
			}
		}
		if barTid < 0 {
			return nil
		}
		bar := w.threads[barTid].pc
		if exitTid >= 0 {
			return w.execErr(barTid, bar, fmt.Sprintf("deadlock: barrier %d waits for all %d threads of the block, but thread %s exited at line %d",
				w.code[bar].imm, nt, w.threadName(exitTid), w.k.lines[w.threads[exitTid].pc]))
		}
		for i := range w.threads {
			t := &w.threads[i]
			if w.code[t.pc].imm != w.code[bar].imm {
				return w.execErr(i, t.pc, fmt.Sprintf("deadlock: thread waits at barrier %d while thread %s waits at barrier %d",
					w.code[t.pc].imm, w.threadName(barTid), w.code[bar].imm))
			}
			t.pc++
			t.state = stReady
		}
		w.epoch++
	}
}

// runWarp runs the threads lo..hi-1 of one warp until each has exited or
// waits at a barrier, executing the warp collectives they meet on the way.
func (w *worker) runWarp(lo, hi int) error {
	for {
		for i := lo; i < hi; i++ {
			t := &w.threads[i]
			if t.state != stReady {
				continue
			}
			t.state = w.run(t, i)
			if t.state == stFault {
				return w.execErr(i, t.pc, w.fault)
			}
		}
		first := -1
		for i := lo; i < hi; i++ {
			if w.threads[i].state == stWarp {
				first = i
				break
			}
		}
		if first < 0 {
			return nil
		}
		pc := w.threads[first].pc
		for i := lo; i < hi; i++ {
			t := &w.threads[i]
			switch {
			case t.state == stExit:
				return w.execErr(first, pc, fmt.Sprintf("%s needs all lanes of the warp, but thread %s exited at line %d", w.opName(pc), w.threadName(i), w.k.lines[t.pc]))
			case t.state == stBar:
				return w.execErr(first, pc, fmt.Sprintf("deadlock: %s needs all lanes of the warp, but thread %s waits at the barrier at line %d", w.opName(pc), w.threadName(i), w.k.lines[t.pc]))
			case t.pc != pc:
				return w.execErr(first, pc, fmt.Sprintf("warp lanes diverged: thread %s is at line %d, not at this %s", w.threadName(i), w.k.lines[t.pc], w.opName(pc)))
			}
		}
		in := &w.code[pc]
		var err error
		if in.op == opShfl {
			err = w.shfl(in, lo, hi)
		} else {
			err = w.mma(in, lo, hi)
		}
		if err != nil {
			return err
		}
		for i := lo; i < hi; i++ {
			w.threads[i].pc++
			w.threads[i].state = stReady
		}
		w.steps += uint64(hi - lo)
	}
}

func (w *worker) opName(pc int32) string {
	if w.code[pc].op == opShfl {
		return "shfl.sync"
	}
	return "mma.sync"
}

// shfl executes shfl.sync for lanes lo..hi-1, following the PTX ISA's
// pseudo-code (c packs the clamp value in bits 0-4 and the segment mask in
// bits 8-12).
func (w *worker) shfl(in *inst, lo, hi int) error {
	var vals [32]uint64
	for i := lo; i < hi; i++ {
		vals[i-lo] = w.threads[i].regs[in.a] & 0xffffffff
	}
	for i := lo; i < hi; i++ {
		regs := w.threads[i].regs
		lane := int32(i - lo)
		bval := int32(regs[in.b] & 0x1f)
		cval := int32(regs[in.c])
		seg := cval >> 8 & 0x1f
		maxLane := lane&seg | cval&0x1f&^seg
		minLane := lane & seg
		var j int32
		var ok bool
		switch in.flags {
		case shflUp:
			j = lane - bval
			ok = j >= maxLane
		case shflDown:
			j = lane + bval
			ok = j <= maxLane
		case shflBfly:
			j = lane ^ bval
			ok = j <= maxLane
		default:
			j = minLane | bval&^seg
			ok = j <= maxLane
		}
		if !ok {
			j = lane
		}
		if int(j) >= hi-lo {
			return w.execErr(i, w.threads[i].pc, fmt.Sprintf("shfl.sync reads lane %d, which this partial warp of %d threads lacks", j, hi-lo))
		}
		regs[in.d] = vals[j]
		if in.imm != 0 {
			regs[in.imm-1] = b2u(ok)
		}
	}
	return nil
}
