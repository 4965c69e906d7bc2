package sim

import (
	"encoding/binary"
	"math"
	"math/bits"
	"unsafe"
)

// Thread states.
const (
	stReady uint8 = iota
	stBar         // waiting at bar.sync
	stWarp        // waiting at a warp collective (shfl.sync, mma.sync)
	stExit
	stFault
)

type thread struct {
	regs  []uint64
	steps uint64 // instructions executed in this block
	pc    int32
	state uint8
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

var le = binary.LittleEndian

// run executes thread t (linear index tid) from its pc until it exits,
// reaches a barrier or a warp collective, or faults. It returns the new
// state; a fault leaves its message in w.fault.
func (w *worker) run(t *thread, tid int) uint8 {
	// Registers and instructions are addressed without bounds checks:
	// Kernel.validate has checked every slot and branch target at load.
	rp := unsafe.Pointer(unsafe.SliceData(t.regs))
	cp := unsafe.Pointer(unsafe.SliceData(w.code))
	g := w.g
	glen := uint64(len(g))
	sh := w.shared
	slen := uint64(len(sh))
	pc := t.pc
	check, shadow, epoch, blockEpoch := w.check, w.shadow, w.epoch, w.blockEpoch
	me := epoch<<16 | uint64(tid+1)
	limit := w.limit
	var n uint64
	var state uint8
	for {
		in := (*inst)(unsafe.Add(cp, uintptr(pc)*unsafe.Sizeof(inst{})))
		n++
		if gd := in.guard; gd != 0 {
			if gd > 0 {
				if *reg(rp, gd-1) == 0 {
					pc++
					continue
				}
			} else if *reg(rp, -gd-1) != 0 {
				pc++
				continue
			}
		}
		switch in.op {
		case opMov:
			*reg(rp, in.d) = *reg(rp, in.a)
		case opSelp:
			if *reg(rp, in.c) != 0 {
				*reg(rp, in.d) = *reg(rp, in.a)
			} else {
				*reg(rp, in.d) = *reg(rp, in.b)
			}
		case opAdd32:
			*reg(rp, in.d) = uint64(uint32(*reg(rp, in.a) + *reg(rp, in.b)))
		case opSub32:
			*reg(rp, in.d) = uint64(uint32(*reg(rp, in.a) - *reg(rp, in.b)))
		case opMulLo32:
			*reg(rp, in.d) = uint64(uint32(*reg(rp, in.a) * *reg(rp, in.b)))
		case opMulWideS32:
			*reg(rp, in.d) = uint64(int64(int32(*reg(rp, in.a))) * int64(int32(*reg(rp, in.b))))
		case opMulWideU32:
			*reg(rp, in.d) = *reg(rp, in.a) * *reg(rp, in.b)
		case opMadLo32:
			*reg(rp, in.d) = uint64(uint32(*reg(rp, in.a)**reg(rp, in.b) + *reg(rp, in.c)))
		case opMadWideS32:
			*reg(rp, in.d) = uint64(int64(int32(*reg(rp, in.a)))*int64(int32(*reg(rp, in.b)))) + *reg(rp, in.c)
		case opMadWideU32:
			*reg(rp, in.d) = *reg(rp, in.a)**reg(rp, in.b) + *reg(rp, in.c)
		case opAdd64:
			*reg(rp, in.d) = *reg(rp, in.a) + *reg(rp, in.b)
		case opSub64:
			*reg(rp, in.d) = *reg(rp, in.a) - *reg(rp, in.b)
		case opMulLo64:
			*reg(rp, in.d) = *reg(rp, in.a) * *reg(rp, in.b)
		case opMadLo64:
			*reg(rp, in.d) = *reg(rp, in.a)**reg(rp, in.b) + *reg(rp, in.c)
		case opAnd:
			*reg(rp, in.d) = *reg(rp, in.a) & *reg(rp, in.b)
		case opOr:
			*reg(rp, in.d) = *reg(rp, in.a) | *reg(rp, in.b)
		case opXor:
			*reg(rp, in.d) = *reg(rp, in.a) ^ *reg(rp, in.b)
		case opShl32:
			*reg(rp, in.d) = uint64(uint32(*reg(rp, in.a)) << uint32(*reg(rp, in.b)))
		case opShl64:
			*reg(rp, in.d) = *reg(rp, in.a) << uint32(*reg(rp, in.b))
		case opShrU32:
			*reg(rp, in.d) = uint64(uint32(*reg(rp, in.a)) >> uint32(*reg(rp, in.b)))
		case opShrS32:
			*reg(rp, in.d) = uint64(uint32(int32(*reg(rp, in.a)) >> uint32(*reg(rp, in.b))))
		case opShrU64:
			*reg(rp, in.d) = *reg(rp, in.a) >> uint32(*reg(rp, in.b))
		case opShrS64:
			*reg(rp, in.d) = uint64(int64(*reg(rp, in.a)) >> uint32(*reg(rp, in.b)))
		case opSetEq32, opSetEq64:
			*reg(rp, in.d) = b2u(*reg(rp, in.a) == *reg(rp, in.b))
		case opSetNe32, opSetNe64:
			*reg(rp, in.d) = b2u(*reg(rp, in.a) != *reg(rp, in.b))
		case opSetLtS32:
			*reg(rp, in.d) = b2u(int32(*reg(rp, in.a)) < int32(*reg(rp, in.b)))
		case opSetLeS32:
			*reg(rp, in.d) = b2u(int32(*reg(rp, in.a)) <= int32(*reg(rp, in.b)))
		case opSetLtU32, opSetLtU64:
			*reg(rp, in.d) = b2u(*reg(rp, in.a) < *reg(rp, in.b))
		case opSetLeU32, opSetLeU64:
			*reg(rp, in.d) = b2u(*reg(rp, in.a) <= *reg(rp, in.b))
		case opSetLtS64:
			*reg(rp, in.d) = b2u(int64(*reg(rp, in.a)) < int64(*reg(rp, in.b)))
		case opSetLeS64:
			*reg(rp, in.d) = b2u(int64(*reg(rp, in.a)) <= int64(*reg(rp, in.b)))
		case opSetLtF:
			a, b := f32(*reg(rp, in.a)), f32(*reg(rp, in.b))
			if in.flags != 0 {
				a, b = ftz(a), ftz(b)
			}
			*reg(rp, in.d) = b2u(a < b)
		case opSetLeF:
			a, b := f32(*reg(rp, in.a)), f32(*reg(rp, in.b))
			if in.flags != 0 {
				a, b = ftz(a), ftz(b)
			}
			*reg(rp, in.d) = b2u(a <= b)
		case opAddF:
			if in.flags == 0 {
				*reg(rp, in.d) = fbits(f32(*reg(rp, in.a)) + f32(*reg(rp, in.b)))
			} else {
				*reg(rp, in.d) = fbits(floatOp(in.op, in.flags, f32(*reg(rp, in.a)), f32(*reg(rp, in.b)), 0))
			}
		case opSubF:
			if in.flags == 0 {
				*reg(rp, in.d) = fbits(f32(*reg(rp, in.a)) - f32(*reg(rp, in.b)))
			} else {
				*reg(rp, in.d) = fbits(floatOp(in.op, in.flags, f32(*reg(rp, in.a)), f32(*reg(rp, in.b)), 0))
			}
		case opMulF:
			if in.flags == 0 {
				*reg(rp, in.d) = fbits(f32(*reg(rp, in.a)) * f32(*reg(rp, in.b)))
			} else {
				*reg(rp, in.d) = fbits(floatOp(in.op, in.flags, f32(*reg(rp, in.a)), f32(*reg(rp, in.b)), 0))
			}
		case opFmaF:
			a, b, c := f32(*reg(rp, in.a)), f32(*reg(rp, in.b)), f32(*reg(rp, in.c))
			// The product is exact in float64, so one more rounding to
			// float32 is exact unless the sum lands on a float32 midpoint
			// (or is subnormal, infinite or NaN): then take the slow path.
			s := float64(a)*float64(b) + float64(c)
			if u := math.Float64bits(s); in.flags == 0 && u&(1<<29-1) != 1<<28 && u>>52&0x7ff-(1023-126) < 254 {
				*reg(rp, in.d) = fbits(float32(s))
			} else {
				*reg(rp, in.d) = fbits(floatOp(opFmaF, in.flags, a, b, c))
			}
		case opCvtZext32:
			*reg(rp, in.d) = *reg(rp, in.a)
		case opCvtSext32:
			*reg(rp, in.d) = uint64(int64(int32(*reg(rp, in.a))))
		case opCvtTrunc32:
			*reg(rp, in.d) = uint64(uint32(*reg(rp, in.a)))
		case opCvtF32S32:
			*reg(rp, in.d) = fbits(float32(int32(*reg(rp, in.a))))
		case opCvtF32U32:
			*reg(rp, in.d) = fbits(float32(uint32(*reg(rp, in.a))))
		case opLdG32:
			addr := *reg(rp, in.a) + uint64(in.imm)
			off := addr - memBase
			if addr&3 != 0 || off >= glen || glen-off < 4 {
				w.memFault("load from", "global", addr, 4)
				state = stFault
				goto stop
			}
			*reg(rp, in.d) = uint64(le.Uint32(g[off:]))
		case opStG32:
			addr := *reg(rp, in.a) + uint64(in.imm)
			off := addr - memBase
			if addr&3 != 0 || off >= glen || glen-off < 4 {
				w.memFault("store to", "global", addr, 4)
				state = stFault
				goto stop
			}
			le.PutUint32(g[off:], uint32(*reg(rp, in.b)))
		case opLdS32:
			addr := *reg(rp, in.a) + uint64(in.imm)
			if addr&3 != 0 || addr >= slen || slen-addr < 4 {
				w.memFault("load from", "shared", addr, 4)
				state = stFault
				goto stop
			}
			if check {
				s := &shadow[addr>>2]
				if sw := s.w; sw != me && (sw>>16 == epoch || sw>>16 < blockEpoch) {
					w.shRead(addr, 4, tid) // reports the fault
					state = stFault
					goto stop
				}
				if s.r>>16 != epoch {
					s.r = me
				} else if s.r != me {
					s.r = epoch<<16 | manyReaders
				}
			}
			*reg(rp, in.d) = uint64(le.Uint32(sh[addr:]))
		case opStS32:
			addr := *reg(rp, in.a) + uint64(in.imm)
			if addr&3 != 0 || addr >= slen || slen-addr < 4 {
				w.memFault("store to", "shared", addr, 4)
				state = stFault
				goto stop
			}
			if w.check && !w.shWrite(addr, 4, tid) {
				state = stFault
				goto stop
			}
			le.PutUint32(sh[addr:], uint32(*reg(rp, in.b)))
		case opBra:
			if t.steps+n > limit {
				w.fail("thread executed more than %d instructions: an endless loop? (Config.MaxThreadInstructions)", limit)
				state = stFault
				goto stop
			}
			pc = int32(in.imm)
			continue
		case opExit:
			state = stExit
			goto stop
		case opBar:
			state = stBar
			goto stop
		case opShfl, opMma:
			state = stWarp
			goto stop
		default:
			if !w.slowOp(in, t.regs, tid) {
				state = stFault
				goto stop
			}
		}
		pc++
	}
stop:
	t.pc = pc
	t.steps += n
	w.steps += n
	return state
}

// reg is register slot i of the register file at rp.
func reg(rp unsafe.Pointer, i int32) *uint64 {
	return (*uint64)(unsafe.Add(rp, uintptr(i)*8))
}

// mulHiS64 is the high half of the signed 128-bit product.
func mulHiS64(a, b uint64) uint64 {
	hi, _ := bits.Mul64(a, b)
	if int64(a) < 0 {
		hi -= b
	}
	if int64(b) < 0 {
		hi -= a
	}
	return hi
}
