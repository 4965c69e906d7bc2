package dsl

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

var parser = participle.MustBuild[File](
	participle.Lexer(Lexer),
	participle.Elide("Comment", "Whitespace"),
	participle.UseLookahead(2),
)

// Error is a problem at a place in a file; it prints as FILE:LINE:COL: message.
type Error struct {
	Pos lexer.Position
	Msg string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.Pos.Filename, e.Pos.Line, e.Pos.Column, e.Msg)
}

// ErrorList is every problem found in a file, in the order of their positions.
type ErrorList []*Error

func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Errorf returns an Error at pos.
func Errorf(pos lexer.Position, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// maxMessage bounds how much of the input a syntax error may quote.
const maxMessage = 160

// Parse reads a .wrn file. It returns an ErrorList whose entries carry the file name,
// line and column of each syntax error.
func Parse(filename string, src []byte) (*File, error) {
	if !utf8.Valid(src) {
		return nil, ErrorList{invalidUTF8(filename, src)}
	}
	if e := longLine(filename, src); e != nil {
		return nil, ErrorList{e}
	}
	f, err := parser.ParseBytes(filename, src)
	if err != nil {
		var pe participle.Error
		if errors.As(err, &pe) {
			msg := pe.Message()
			if rest, ok := strings.CutPrefix(msg, "lexer: invalid input text "); ok {
				if text, err := strconv.Unquote(rest); err == nil && text != "" {
					r, _ := utf8.DecodeRuneInString(text)
					msg = fmt.Sprintf("unexpected character %q", r)
				}
			}
			if len(msg) > maxMessage {
				msg = msg[:maxMessage] + "..."
			}
			pos := pe.Position()
			if pos.Filename == "" {
				pos.Filename = filename
			}
			return nil, ErrorList{{Pos: pos, Msg: msg}}
		}
		return nil, ErrorList{{Pos: lexer.Position{Filename: filename, Line: 1, Column: 1}, Msg: err.Error()}}
	}
	var errs ErrorList
	for _, b := range f.Blocks {
		if b.Name != nil {
			if e := b.Name.parse(); e != nil {
				errs = append(errs, e)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return f, nil
}

func invalidUTF8(filename string, src []byte) *Error {
	line, col := 1, 1
	for len(src) > 0 {
		r, size := utf8.DecodeRune(src)
		if r == utf8.RuneError && size <= 1 {
			break
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		src = src[size:]
	}
	return &Error{Pos: lexer.Position{Filename: filename, Line: line, Column: col},
		Msg: "the file is not UTF-8 text (is it a .wrn file?)"}
}

// maxLine is the longest line Parse reads; no .wrn statement comes near it.
const maxLine = 64 << 10

// longLine reports the first line longer than maxLine.
func longLine(filename string, src []byte) *Error {
	for line := 1; len(src) > 0; line++ {
		n := bytes.IndexByte(src, '\n')
		if n < 0 {
			n = len(src)
		}
		if n > maxLine {
			return &Error{Pos: lexer.Position{Filename: filename, Line: line, Column: maxLine + 1},
				Msg: fmt.Sprintf("line %d is %d bytes long; a .wrn line is at most %d", line, n, maxLine)}
		}
		src = src[min(n+1, len(src)):]
	}
	return nil
}

var nameRE = regexp.MustCompile(`(?i)^wrn-(\d+)-(\d+(?:\.\d+)?)(?:-b\(([^()]*)\)|-(bottleneck))?$`)

const nameForm = "WRN-<depth>-<k>[-B(kernels)|-bottleneck]"

// parse fills the fields of n from its text.
func (n *Name) parse() *Error {
	m := nameRE.FindStringSubmatch(n.Text)
	if m == nil {
		return Errorf(n.Pos, "malformed network name %s: want %s, e.g. WRN-40-4 or WRN-22-2-B(3,1,3)", quote(n.Text), nameForm)
	}
	n.DepthText, n.WidthText = m[1], m[2]
	d, err := strconv.Atoi(m[1])
	if err != nil || d > 1_000_000 {
		return Errorf(n.Pos, "%s: depth %s is too large", n.Text, m[1])
	}
	n.Depth = d
	k, err := strconv.ParseFloat(m[2], 64)
	if err != nil || k > 1e6 {
		return Errorf(n.Pos, "%s: width %s is too large", n.Text, m[2])
	}
	n.Width = k
	n.Bottleneck = m[4] != ""
	if strings.Contains(strings.ToLower(n.Text), "-b(") {
		n.Kernels = []int{}
		for _, s := range strings.Split(m[3], ",") {
			v, err := strconv.Atoi(s)
			if err != nil || v > 1_000_000 {
				return Errorf(n.Pos, "%s: block kernels must be a comma-separated list of small integers, got %s", n.Text, quote("B("+m[3]+")"))
			}
			n.Kernels = append(n.Kernels, v)
		}
	}
	return nil
}

// quote quotes s for a message, shortened so that a huge token cannot flood the output.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return strconv.Quote(s)
}
