package dsl

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/google/go-cmp/cmp"
)

// format writes f back as .wrn text in a canonical form: one block or statement a line,
// single spaces between tokens, no comments.
func format(f *File) []byte {
	var b bytes.Buffer
	for _, bl := range f.Blocks {
		b.WriteString(bl.Kind)
		if bl.Name != nil {
			b.WriteString(" " + bl.Name.Text)
		}
		if bl.Body {
			b.WriteString(" {\n")
			for _, s := range bl.Stmts {
				b.WriteString("\t" + s.Key)
				for _, a := range s.Args {
					b.WriteString(" ")
					if a.Key != "" {
						b.WriteString(a.Key + "=")
					}
					for i, v := range a.Values {
						if i > 0 {
							b.WriteString(",")
						}
						b.WriteString(v.Text())
					}
				}
				b.WriteString("\n")
			}
			b.WriteString("}")
		}
		b.WriteString("\n")
	}
	return b.Bytes()
}

// shape is f without positions, for comparing two parses.
func shape(f *File) any {
	type value struct{ Kind, Text string }
	type arg struct {
		Key    string
		Values []value
	}
	type stmt struct {
		Key  string
		Args []arg
	}
	type block struct {
		Kind  string
		Name  Name
		Body  bool
		Stmts []stmt
	}
	var out []block
	for _, bl := range f.Blocks {
		b := block{Kind: bl.Kind, Body: bl.Body}
		if bl.Name != nil {
			b.Name = *bl.Name
			b.Name.Pos = lexer.Position{}
		}
		for _, s := range bl.Stmts {
			st := stmt{Key: s.Key}
			for _, a := range s.Args {
				ar := arg{Key: a.Key}
				for _, v := range a.Values {
					kind := "ident"
					switch {
					case v.Number != nil:
						kind = "number"
					case v.Shape != nil:
						kind = "shape"
					}
					ar.Values = append(ar.Values, value{kind, v.Text()})
				}
				st.Args = append(st.Args, ar)
			}
			b.Stmts = append(b.Stmts, st)
		}
		out = append(out, b)
	}
	return out
}

// FuzzParse checks the .wrn parser alone on any bytes. A refusal is a non-empty
// ErrorList whose every entry carries the file name, a line within the file (or just
// past its end) and a column of at least 1, and prints as FILE:LINE:COL: message. An
// accepted file's every block kind, network name, statement key, argument key and value
// lies in the source at the offset, line and column its position gives; its network
// names are well-formed; and printing it and parsing the print gives the same tree.
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"*.wrn", "errors/*.wrn"} {
		files, _ := filepath.Glob(filepath.Join("..", "testdata", pattern))
		for _, path := range files {
			src, err := os.ReadFile(path)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(src)
		}
	}
	for _, s := range []string{
		"", "\n\n", "model", "model WRN-16-4", "model WRN-16-4 {\n}", "model WRN-16-4 {\r\n input 3x32x32\r\n}\r\n",
		"model WRN-22-2-B(3,1,3) { dropout .3e-1 }\ntrain { sgd lr=+1.,2 at=1x2,x }",
		"model WRN-16 {", "model {\n sgd lr=\n}", "é model WRN-16-4", "model WRN-16-4 # ünïcode\n{ a b=c }",
		"ok\n\xff", "model WRN-99999999999999999999-4", "model WRN-16-4-B(99999999999)",
		"model WRN-16-4 { a " + strings.Repeat("x", 70_000) + " }",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		const name = "fuzz.wrn"
		file, err := Parse(name, src)
		if err != nil {
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("refusal is not an error list: %T %v", err, err)
			}
			lines := bytes.Count(src, []byte("\n")) + 1
			for _, e := range list {
				p := e.Pos
				if p.Filename != name || p.Line < 1 || p.Line > lines+1 || p.Column < 1 || e.Msg == "" {
					t.Fatalf("refusal %q at %+v (the file has %d lines)", e.Msg, p, lines)
				}
				if prefix := fmt.Sprintf("%s:%d:%d: ", name, p.Line, p.Column); !strings.HasPrefix(e.Error(), prefix) {
					t.Fatalf("error %q does not start with %q", e.Error(), prefix)
				}
			}
			return
		}
		at := func(what, text string, p lexer.Position) {
			t.Helper()
			if p.Filename != name || p.Offset < 0 || !bytes.HasPrefix(src[p.Offset:], []byte(text)) {
				t.Fatalf("%s %q is not at offset %d of the source", what, text, p.Offset)
			}
			line := bytes.Count(src[:p.Offset], []byte("\n")) + 1
			col := utf8.RuneCount(src[bytes.LastIndexByte(src[:p.Offset], '\n')+1:p.Offset]) + 1 // in runes
			if p.Line != line || p.Column != col {
				t.Fatalf("%s %q at offset %d is at %d:%d, its position says %d:%d", what, text, p.Offset, line, col, p.Line, p.Column)
			}
		}
		for _, b := range file.Blocks {
			at("block", b.Kind, b.Pos)
			if n := b.Name; n != nil {
				at("name", n.Text, n.Pos)
				if n.Depth < 0 || n.Width < 0 || !strings.EqualFold(n.Text[:4], "wrn-") {
					t.Fatalf("name %q parsed as depth %d width %g", n.Text, n.Depth, n.Width)
				}
			}
			for _, s := range b.Stmts {
				at("statement", s.Key, s.Pos)
				for _, a := range s.Args {
					if a.Key != "" {
						at("argument", a.Key, a.Pos)
					}
					for _, v := range a.Values {
						at("value", v.Text(), v.Pos)
					}
				}
			}
		}
		out := format(file)
		again, err := Parse(name, out)
		if err != nil {
			t.Fatalf("the print of an accepted file does not parse: %v\n%s", err, out)
		}
		if diff := cmp.Diff(shape(file), shape(again)); diff != "" {
			t.Fatalf("print and parse changed the tree (-before +after):\n%s\nprint:\n%s", diff, out)
		}
	})
}
