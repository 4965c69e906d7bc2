package sim

// The shared-memory checker. Threads of a block run one after another
// between barriers, so a kernel that forgets a bar.sync can still compute
// the right answer here while it races on a GPU. The checker keeps, for
// every 4-byte word of shared memory, the last writer and the readers since
// the last barrier (an epoch), and reports:
//   - a read of a word written by another thread in the same epoch,
//   - a write of a word written or read by another thread in the same epoch,
//   - a read of a word no thread of the block has written (uninitialized).
// Atomics only check for uninitialized words. 16-bit accesses are not checked.

// shadowWord records the last write and the reads of one word. A stamp is
// epoch<<16 | (thread+1); a read stamp with thread bits 0xffff means several
// readers.
type shadowWord struct {
	w, r uint64
}

const manyReaders = 0xffff

func (w *worker) shRead(addr uint64, n int, tid int) bool {
	me := w.epoch<<16 | uint64(tid+1)
	for i := addr >> 2; i < (addr+uint64(n))>>2; i++ {
		s := &w.shadow[i]
		if s.w>>16 != w.epoch {
			if s.w>>16 < w.blockEpoch {
				w.fail("read of uninitialized shared memory: %d bytes at shared offset 0x%x, which no thread of this block has written yet (a missing write, or a missing barrier before a later thread's write)", n, addr)
				return false
			}
		} else if s.w != me {
			w.fail("shared memory race: read of %d bytes at shared offset 0x%x, which thread %s wrote since the last barrier", n, addr, w.threadName(int(s.w&0xffff)-1))
			return false
		}
		switch {
		case s.r>>16 != w.epoch:
			s.r = me
		case s.r != me:
			s.r = w.epoch<<16 | manyReaders
		}
	}
	return true
}

func (w *worker) shWrite(addr uint64, n int, tid int) bool {
	me := w.epoch<<16 | uint64(tid+1)
	for i := addr >> 2; i < (addr+uint64(n))>>2; i++ {
		s := &w.shadow[i]
		if s.w>>16 == w.epoch && s.w != me {
			w.fail("shared memory race: write of %d bytes at shared offset 0x%x, which thread %s also wrote since the last barrier", n, addr, w.threadName(int(s.w&0xffff)-1))
			return false
		}
		if s.r>>16 == w.epoch && s.r != me {
			who := "another thread"
			if s.r&0xffff != manyReaders {
				who = "thread " + w.threadName(int(s.r&0xffff)-1)
			}
			w.fail("shared memory race: write of %d bytes at shared offset 0x%x, which %s read since the last barrier", n, addr, who)
			return false
		}
		s.w = me
	}
	return true
}

func (w *worker) shAtomic(addr uint64, n int, tid int) bool {
	for i := addr >> 2; i < (addr+uint64(n))>>2; i++ {
		if w.shadow[i].w>>16 < w.blockEpoch {
			w.fail("atomic on uninitialized shared memory at shared offset 0x%x", addr)
			return false
		}
	}
	return true
}
