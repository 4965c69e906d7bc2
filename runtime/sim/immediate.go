package sim

import (
	"math"
	"strconv"
	"strings"
)

// immediate converts literal text to the bits of a value of type t.
// Integer types take integer literals (negative ones in two's complement)
// that fit the type; .f32 takes 0fXXXXXXXX, 0dXXXXXXXXXXXXXXXX or a decimal
// literal with a point or exponent; .b32 also takes 0fXXXXXXXX.
func (d *decoder) immediate(text string, t ptype) (uint64, error) {
	neg := strings.HasPrefix(text, "-")
	body := strings.TrimPrefix(text, "-")
	isHexFloat := len(body) > 2 && body[0] == '0' && (body[1] == 'f' || body[1] == 'F')
	if t == tyF32 || (t == tyB32 && isHexFloat) {
		bits, err := floatLit(body)
		if err != nil {
			return 0, d.errf("bad .f32 immediate %s: %v", text, err)
		}
		if neg {
			bits ^= 1 << 31
		}
		return uint64(bits), nil
	}
	n := uint(t.size() * 8)
	if n == 0 || !(t.isInt() || t.isBits()) {
		return 0, d.errf("an immediate cannot be a %v operand", t)
	}
	u, err := parseIntLit(body)
	if err != nil {
		return 0, d.errf("bad integer immediate %s", text)
	}
	mask := uint64(math.MaxUint64)
	if n < 64 {
		mask = 1<<n - 1
	}
	if neg {
		if uint64(u) > 1<<(n-1) {
			return 0, d.errf("immediate %s does not fit %v", text, t)
		}
		return uint64(-u) & mask, nil
	}
	if uint64(u) > mask {
		return 0, d.errf("immediate %s does not fit %v", text, t)
	}
	return uint64(u), nil
}

// floatLit parses an unsigned float literal into float32 bits.
func floatLit(s string) (uint32, error) {
	if len(s) > 2 && s[0] == '0' && (s[1] == 'f' || s[1] == 'F') {
		if len(s) != 10 {
			return 0, errBadLit("0f needs exactly 8 hex digits")
		}
		v, err := strconv.ParseUint(s[2:], 16, 32)
		return uint32(v), err
	}
	if len(s) > 2 && s[0] == '0' && (s[1] == 'd' || s[1] == 'D') {
		if len(s) != 18 {
			return 0, errBadLit("0d needs exactly 16 hex digits")
		}
		v, err := strconv.ParseUint(s[2:], 16, 64)
		return math.Float32bits(float32(math.Float64frombits(v))), err
	}
	if !strings.ContainsAny(s, ".eE") {
		return 0, errBadLit("integer literal for a float operand (write 0fXXXXXXXX or a number with a point)")
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, errBadLit("not a number")
	}
	return math.Float32bits(float32(v)), nil
}

type errBadLit string

func (e errBadLit) Error() string { return string(e) }
