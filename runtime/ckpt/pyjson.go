package ckpt

import (
	"strconv"
	"unicode/utf8"
)

// This file writes JSON the way Python's json.dumps does with its default
// arguments (separators ", " and ": ", ensure_ascii), so that a safetensors
// header written here is byte for byte the one the reference writer
// (bench/torch/torch_wrn.py) produces for the same tensors.

const hexDigits = "0123456789abcdef"

// appendPyString appends s as a JSON string literal, escaped as Python's
// json.dumps escapes it: \" \\ \n \r \t \b \f by name, every other byte
// outside ' '..'~' as \uXXXX (UTF-16 surrogate pairs above U+FFFF).
// s must be valid UTF-8.
func appendPyString(b []byte, s string) []byte {
	b = append(b, '"')
	for _, r := range s {
		switch r {
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		default:
			switch {
			case r >= ' ' && r <= '~':
				b = append(b, byte(r))
			case r > 0xFFFF:
				r -= 0x10000
				b = appendU4(b, 0xD800|(r>>10)&0x3FF)
				b = appendU4(b, 0xDC00|r&0x3FF)
			default:
				b = appendU4(b, r)
			}
		}
	}
	return append(b, '"')
}

func appendU4(b []byte, r rune) []byte {
	return append(b, '\\', 'u', hexDigits[r>>12&15], hexDigits[r>>8&15], hexDigits[r>>4&15], hexDigits[r&15])
}

// appendPyInts appends a JSON list of integers, as "[2, 3]".
func appendPyInts(b []byte, v []int64) []byte {
	b = append(b, '[')
	for i, x := range v {
		if i > 0 {
			b = append(b, ',', ' ')
		}
		b = strconv.AppendInt(b, x, 10)
	}
	return append(b, ']')
}

// validName reports whether s can be written as a JSON string that reads
// back as s.
func validName(s string) bool { return utf8.ValidString(s) }
