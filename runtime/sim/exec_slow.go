package sim

import (
	"math"
	"math/bits"
	"sync/atomic"
	"unsafe"
)

// slowOp executes the instructions that the main loop leaves out: rarer
// integer and float forms, conversions, 16-bit, 64-bit and vector memory
// accesses, and atomics. It reports false on a fault.
func (w *worker) slowOp(in *inst, regs []uint64, tid int) bool {
	if in.op >= opLdG16 && in.op <= opAtomSAddU64 {
		return w.memOp(in, regs, tid)
	}
	a, b, c := regs[in.a], regs[in.b], regs[in.c]
	var r uint64
	switch in.op {
	case opMulHiS32:
		r = uint64(uint32(uint64(int64(int32(a))*int64(int32(b))) >> 32))
	case opMulHiU32:
		r = a * b >> 32
	case opMulHiS64:
		r = mulHiS64(a, b)
	case opMulHiU64:
		r, _ = bits.Mul64(a, b)
	case opDivS32:
		r = 0xffffffff
		if int32(b) != 0 {
			r = uint64(uint32(int32(a) / int32(b)))
		}
	case opDivU32:
		r = 0xffffffff
		if b != 0 {
			r = a / b
		}
	case opRemS32:
		r = a
		if int32(b) != 0 {
			r = uint64(uint32(int32(a) % int32(b)))
		}
	case opRemU32:
		r = a
		if b != 0 {
			r = a % b
		}
	case opDivS64:
		r = math.MaxUint64
		if b != 0 {
			r = uint64(int64(a) / int64(b))
		}
	case opDivU64:
		r = math.MaxUint64
		if b != 0 {
			r = a / b
		}
	case opRemS64:
		r = a
		if b != 0 {
			r = uint64(int64(a) % int64(b))
		}
	case opRemU64:
		r = a
		if b != 0 {
			r = a % b
		}
	case opMinS32:
		r = uint64(uint32(min(int32(a), int32(b))))
	case opMaxS32:
		r = uint64(uint32(max(int32(a), int32(b))))
	case opMinU32, opMinU64:
		r = min(a, b)
	case opMaxU32, opMaxU64:
		r = max(a, b)
	case opMinS64:
		r = uint64(min(int64(a), int64(b)))
	case opMaxS64:
		r = uint64(max(int64(a), int64(b)))
	case opAbsS32:
		r = uint64(uint32(a))
		if int32(a) < 0 {
			r = uint64(uint32(-int32(a)))
		}
	case opAbsS64:
		r = a
		if int64(a) < 0 {
			r = -a
		}
	case opNeg32:
		r = uint64(uint32(-a))
	case opNeg64:
		r = -a
	case opNot32:
		r = uint64(^uint32(a))
	case opNot64:
		r = ^a
	case opNotPred:
		r = a ^ 1
	case opSetEqF, opSetNeF:
		x, y := f32(a), f32(b)
		if in.flags != 0 {
			x, y = ftz(x), ftz(y)
		}
		r = b2u(x == y)
		if in.op == opSetNeF {
			r = b2u(x != y && x == x && y == y)
		}
	case opDivF, opNegF, opAbsF, opMinF, opMaxF, opSqrtF, opRsqrtF, opRcpF, opEx2F, opLg2F:
		r = fbits(floatOp(in.op, in.flags, f32(a), f32(b), f32(c)))
	case opCvtTrunc16:
		r = uint64(uint16(a))
	case opCvt:
		r = cvtGeneric(a, in.imm, in.flags)
	case opCvtTF32:
		r = uint64(tf32(uint32(a)))
	case opCvtBF16x2:
		r = uint64(bf16(uint32(a))<<16 | bf16(uint32(b)))
	default:
		w.fail("internal error: opcode %d not implemented", in.op)
		return false
	}
	regs[in.d] = r
	return true
}

// memOp executes the loads, stores and atomics outside the main loop.
func (w *worker) memOp(in *inst, regs []uint64, tid int) bool {
	addr := regs[in.a] + uint64(in.imm)
	var (
		global = true
		load   = true
		size   = 4
		n      = 1
		what   = "load from"
	)
	switch in.op {
	case opLdG16, opLdG64, opLdGV32, opLdGV64:
	case opStG16, opStG64, opStGV32, opStGV64:
		load = false
	case opLdS16, opLdS64, opLdSV32, opLdSV64:
		global = false
	case opStS16, opStS64, opStSV32, opStSV64:
		global, load = false, false
	case opAtomGAddF, opAtomGAddU32, opAtomGAddU64:
		return w.atomic(in, regs, addr, true, tid)
	case opAtomSAddF, opAtomSAddU32, opAtomSAddU64:
		return w.atomic(in, regs, addr, false, tid)
	default:
		w.fail("internal error: opcode %d not implemented", in.op)
		return false
	}
	switch in.op {
	case opLdG16, opStG16, opLdS16, opStS16:
		size = 2
	case opLdG64, opStG64, opLdS64, opStS64, opLdGV64, opStGV64, opLdSV64, opStSV64:
		size = 8
	}
	vec := false
	switch in.op {
	case opLdGV32, opLdGV64, opStGV32, opStGV64, opLdSV32, opLdSV64, opStSV32, opStSV64:
		n, vec = int(in.c), true
	}
	if !load {
		what = "store to"
	}
	mode := accRead
	if !load {
		mode = accWrite
	}
	mem, ok := w.span(addr, size*n, global, what, tid, mode)
	if !ok {
		return false
	}
	for i := 0; i < n; i++ {
		var slot int32
		switch {
		case vec && load:
			slot = w.pool[int(in.d)+i]
		case vec:
			slot = w.pool[int(in.b)+i]
		case load:
			slot = in.d
		default:
			slot = in.b
		}
		p := mem[i*size:]
		switch {
		case load && size == 2:
			regs[slot] = uint64(le.Uint16(p))
		case load && size == 4:
			regs[slot] = uint64(le.Uint32(p))
		case load:
			regs[slot] = le.Uint64(p)
		case size == 2:
			le.PutUint16(p, uint16(regs[slot]))
		case size == 4:
			le.PutUint32(p, uint32(regs[slot]))
		default:
			le.PutUint64(p, regs[slot])
		}
	}
	return true
}

// Kinds of access for the shared-memory checker.
const (
	accRead = iota
	accWrite
	accAtomic
)

// span bounds- and alignment-checks an access of n bytes (aligned to the
// element size, which n is a multiple of) and returns the memory it covers;
// shared accesses also go through the race checker (except 16-bit ones).
func (w *worker) span(addr uint64, n int, global bool, what string, tid int, mode int) ([]byte, bool) {
	mem, base, space := w.shared, uint64(0), "shared"
	if global {
		mem, base, space = w.g, memBase, "global"
	}
	off := addr - base
	if addr&uint64(n-1) != 0 || off >= uint64(len(mem)) || uint64(len(mem))-off < uint64(n) {
		w.memFault(what, space, addr, n)
		return nil, false
	}
	if !global && w.check && n >= 4 {
		ok := true
		switch mode {
		case accRead:
			ok = w.shRead(addr, n, tid)
		case accWrite:
			ok = w.shWrite(addr, n, tid)
		case accAtomic:
			ok = w.shAtomic(addr, n, tid)
		}
		if !ok {
			return nil, false
		}
	}
	return mem[off : off+uint64(n)], true
}

func (w *worker) atomic(in *inst, regs []uint64, addr uint64, global bool, tid int) bool {
	size := 4
	if in.op == opAtomGAddU64 || in.op == opAtomSAddU64 {
		size = 8
	}
	mem, ok := w.span(addr, size, global, "atomic on", tid, accAtomic)
	if !ok {
		return false
	}
	v := regs[in.b]
	var old uint64
	switch {
	case !global: // a block runs on one goroutine: no host atomics needed
		if size == 8 {
			old = le.Uint64(mem)
			le.PutUint64(mem, old+v)
		} else {
			old = uint64(le.Uint32(mem))
			le.PutUint32(mem, uint32(addOp(in.op, old, v)))
		}
	case size == 8:
		old = atomic.AddUint64((*uint64)(unsafe.Pointer(&mem[0])), v) - v
	case in.op == opAtomGAddU32:
		old = uint64(atomic.AddUint32((*uint32)(unsafe.Pointer(&mem[0])), uint32(v)) - uint32(v))
	default:
		p := (*uint32)(unsafe.Pointer(&mem[0]))
		for {
			o := atomic.LoadUint32(p)
			if atomic.CompareAndSwapUint32(p, o, uint32(fbits(f32(uint64(o))+f32(v)))) {
				old = uint64(o)
				break
			}
		}
	}
	if in.d >= 0 {
		regs[in.d] = old
	}
	return true
}

// addOp adds v to old as the atomic's type (float32 or uint32).
func addOp(op opcode, old, v uint64) uint64 {
	if op == opAtomSAddF || op == opAtomGAddF {
		return fbits(f32(old) + f32(v))
	}
	return old + v
}
