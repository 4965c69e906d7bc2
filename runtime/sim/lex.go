package sim

import "fmt"

// tokKind classifies a token of PTX text.
type tokKind uint8

const (
	tEOF   tokKind = iota
	tWord          // identifiers, directives, mnemonics, registers: .reg ld.global.f32 %r1 %tid.x $L__BB0_1
	tNum           // numeric literals: 12 0x1F 0f3F800000 1.5
	tPunct         // one of { } ( ) [ ] ; , : < > + - | @ !
)

// token is one lexical unit with the line it starts on.
type token struct {
	kind tokKind
	text string
	line int
}

func (t token) String() string {
	if t.kind == tEOF {
		return "end of file"
	}
	return fmt.Sprintf("%q", t.text)
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isWordStart(c byte) bool {
	return isLetter(c) || c == '_' || c == '.' || c == '%' || c == '$'
}
func isWordPart(c byte) bool { return isWordStart(c) || isDigit(c) }

// lex splits PTX source into tokens, dropping // and /* */ comments.
func lex(src string) ([]token, error) {
	var toks []token
	line := 1
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '\n':
			line++
			i++
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			start := line
			i += 2
			for {
				if i+1 >= len(src) {
					return nil, &Error{Line: start, Msg: "unterminated /* comment"}
				}
				if src[i] == '*' && src[i+1] == '/' {
					i += 2
					break
				}
				if src[i] == '\n' {
					line++
				}
				i++
			}
		case isWordStart(c):
			j := i + 1
			for j < len(src) && isWordPart(src[j]) {
				j++
			}
			toks = append(toks, token{tWord, src[i:j], line})
			i = j
		case isDigit(c):
			j := i + 1
			for j < len(src) && (isLetter(src[j]) || isDigit(src[j]) || src[j] == '.' ||
				((src[j] == '+' || src[j] == '-') && (src[j-1] == 'e' || src[j-1] == 'E') && !isHexPrefixed(src[i:j]))) {
				j++
			}
			toks = append(toks, token{tNum, src[i:j], line})
			i = j
		case c == '"':
			return nil, &Error{Line: line, Msg: "string literals are not supported"}
		default:
			switch c {
			case '{', '}', '(', ')', '[', ']', ';', ',', ':', '<', '>', '+', '-', '|', '@', '!':
				toks = append(toks, token{tPunct, src[i : i+1], line})
				i++
			default:
				return nil, &Error{Line: line, Msg: fmt.Sprintf("unexpected character %q", c)}
			}
		}
	}
	toks = append(toks, token{tEOF, "", line})
	return toks, nil
}

// isHexPrefixed reports whether a numeric literal prefix is hexadecimal or a
// hex float (0x.., 0f.., 0d..), where 'e' is a digit and not an exponent.
func isHexPrefixed(s string) bool {
	return len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X' || s[1] == 'f' || s[1] == 'F' || s[1] == 'd' || s[1] == 'D')
}
