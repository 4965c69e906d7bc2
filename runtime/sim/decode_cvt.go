package sim

// Rounding modes of cvt.
const (
	rndNone = iota
	rndRN
	rndRZ
	rndRM
	rndRP
	rndRNI
	rndRZI
	rndRMI
	rndRPI
)

var rndNames = map[string]int{
	"": rndNone, "rn": rndRN, "rz": rndRZ, "rm": rndRM, "rp": rndRP,
	"rni": rndRNI, "rzi": rndRZI, "rmi": rndRMI, "rpi": rndRPI,
}

// cvtSpec packs the types and rounding of a generic cvt into inst.imm.
func cvtSpec(dst, src ptype, rnd int) int64 {
	return int64(src) | int64(dst)<<8 | int64(rnd)<<16
}

func unpackCvt(imm int64) (dst, src ptype, rnd int) {
	return ptype(imm >> 8 & 0xff), ptype(imm & 0xff), int(imm >> 16 & 0xff)
}

func (d *decoder) cvt(s *stmt, mods []string) error {
	ints := []string{"f32", "s32", "u32", "s64", "u64", "u16"}
	m, err := d.mods(s.op, mods,
		[]string{"?", "rn", "rz", "rm", "rp", "rni", "rzi", "rmi", "rpi", "rna"}, optFtz, optSat,
		append([]string{"tf32", "bf16x2"}, ints...), ints)
	if err != nil {
		return err
	}
	rnd, dt, st := m[0], typeNames[m[3]], typeNames[m[4]]
	flags := floatFlags(m[1], m[2])
	switch dt {
	case tyTF32:
		if rnd != "rna" || st != tyF32 || flags != 0 {
			return d.errf("only cvt.rna.tf32.f32 converts to .tf32")
		}
		return d.nary(s, opCvtTF32, 0, tyB32, tyF32)
	case tyBF16x2:
		if rnd != "rn" || st != tyF32 || flags != 0 {
			return d.errf("only cvt.rn.bf16x2.f32 converts to .bf16x2")
		}
		return d.nary(s, opCvtBF16x2, 0, tyB32, tyF32, tyF32)
	}
	if rnd == "rna" {
		return d.errf("%s: .rna is only for cvt.rna.tf32.f32", s.op)
	}
	r := rndNames[rnd]
	fromF, toF := st == tyF32, dt == tyF32
	intRnd := r >= rndRNI
	switch {
	case fromF && toF:
		if r != rndNone && !intRnd {
			return d.errf("%s: cvt.f32.f32 takes an integer rounding (.rni .rzi .rmi .rpi) or none", s.op)
		}
	case fromF:
		if !intRnd {
			return d.errf("%s: float-to-integer cvt needs .rni, .rzi, .rmi or .rpi", s.op)
		}
	case toF:
		if r == rndNone || intRnd {
			return d.errf("%s: integer-to-float cvt needs .rn, .rz, .rm or .rp", s.op)
		}
	default:
		if r != rndNone || flags&flagFtz != 0 {
			return d.errf("%s: integer-to-integer cvt takes no rounding or .ftz", s.op)
		}
		if flags&flagSat != 0 && covers(dt, st) {
			return d.errf("%s: .sat is only allowed where the value can be out of range", s.op)
		}
	}
	if flags&flagFtz != 0 && !fromF && !toF {
		return d.errf("%s: .ftz needs a .f32 operand", s.op)
	}
	if flags == 0 {
		switch {
		case toF && r == rndRN && st == tyS32:
			return d.nary(s, opCvtF32S32, 0, dt, st)
		case toF && r == rndRN && st == tyU32:
			return d.nary(s, opCvtF32U32, 0, dt, st)
		case !fromF && !toF && st.size() < dt.size() && st.isUnsigned():
			return d.nary(s, opCvtZext32, 0, dt, st)
		case !fromF && !toF && st.size() < dt.size() && st == tyS32:
			return d.nary(s, opCvtSext32, 0, dt, st)
		case !fromF && !toF && dt.size() == 4 && st.size() == 8:
			return d.nary(s, opCvtTrunc32, 0, dt, st)
		case !fromF && !toF && dt.size() == 2:
			return d.nary(s, opCvtTrunc16, 0, dt, st)
		case !fromF && !toF && dt.size() == st.size():
			return d.nary(s, opMov, 0, dt, st)
		}
	}
	if err := d.nary(s, opCvt, flags, dt, st); err != nil {
		return err
	}
	d.k.code[len(d.k.code)-1].imm = cvtSpec(dt, st, r)
	return nil
}

// covers reports whether every value of integer type src fits integer type dst.
func covers(dst, src ptype) bool {
	if dst.isSigned() == src.isSigned() {
		return dst.size() >= src.size()
	}
	return dst.isSigned() && dst.size() > src.size()
}
