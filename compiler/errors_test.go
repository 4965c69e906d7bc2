package compiler_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/wrnc/wrnc/compiler"
	"github.com/wrnc/wrnc/dsl"
)

// expectRE finds the expected errors written inline in testdata/errors/*.wrn: a comment
// `# ERROR "text"` on the line the error refers to; text must appear in the message.
var expectRE = regexp.MustCompile(`#\s*ERROR\s+("(?:[^"\\]|\\.)*")`)

type expectation struct {
	line int
	text string
}

func expectations(t *testing.T, src []byte) []expectation {
	var out []expectation
	for i, line := range strings.Split(string(src), "\n") {
		for _, m := range expectRE.FindAllStringSubmatch(line, -1) {
			text, err := strconv.Unquote(m[1])
			if err != nil {
				t.Fatalf("line %d: bad ERROR comment %s: %v", i+1, m[1], err)
			}
			out = append(out, expectation{i + 1, text})
		}
	}
	return out
}

// TestErrors compiles every file of testdata/errors and checks that it is refused with
// exactly the positioned errors written inline, and no others.
func TestErrors(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "errors", "*.wrn"))
	if len(files) < 40 {
		t.Fatalf("found %d error cases, want at least 40", len(files))
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want := expectations(t, src)
			if len(want) == 0 {
				t.Fatal("no # ERROR comment in the file")
			}
			got := refuse(t, path, src)
			matched := make([]bool, len(got))
		next:
			for _, w := range want {
				for i, e := range got {
					if !matched[i] && e.Pos.Line == w.line && strings.Contains(e.Msg, w.text) {
						matched[i] = true
						continue next
					}
				}
				t.Errorf("line %d: no error containing %q; got:\n%v", w.line, w.text, got)
			}
			for i, e := range got {
				if !matched[i] {
					t.Errorf("unexpected error: %v", e)
				}
			}
		})
	}
}

// refuse compiles src and returns its errors, failing unless every one is positioned.
func refuse(t *testing.T, path string, src []byte) dsl.ErrorList {
	t.Helper()
	p, err := compiler.Compile(path, src)
	if err == nil {
		t.Fatalf("%s compiled to %s; want it refused", path, p.Name)
	}
	var list dsl.ErrorList
	if !errors.As(err, &list) || len(list) == 0 {
		t.Fatalf("error is %T, not a positioned error list: %v", err, err)
	}
	for _, e := range list {
		if e.Pos.Filename != path || e.Pos.Line < 1 || e.Pos.Column < 1 {
			t.Errorf("error without a position in %s: %q at %v", path, e.Msg, e.Pos)
		}
		if !strings.HasPrefix(e.Error(), path+":") {
			t.Errorf("message does not start with FILE:LINE:COL: %q", e.Error())
		}
	}
	return list
}

// TestExactMessages checks the messages DSL.md shows, word for word.
func TestExactMessages(t *testing.T) {
	tests := []struct{ file, src, want string }{
		{"wrn-41-4.wrn", "model WRN-41-4", "wrn-41-4.wrn:1:7: WRN-41-4: depth 41 does not fit 3 groups of B(3,3) blocks (depth-4 must be a multiple of 6); nearest valid depths: 40, 46"},
		{"bad.wrn", "# a typo\nmodel WRN-16-4 {\n    dropuot 0.3\n}", `bad.wrn:3:5: unknown statement "dropuot" in model (did you mean "dropout"?)`},
		{"bad.wrn", "# a typo\nmodel WRN-16-4 {\n    classes 10\n    dropout 1.5\n}", "bad.wrn:4:13: dropout must be in [0, 1), got 1.5"},
	}
	for _, tt := range tests {
		_, err := compiler.Compile(tt.file, []byte(tt.src))
		if err == nil || err.Error() != tt.want {
			t.Errorf("Compile(%q):\n got %v\nwant %s", tt.src, err, tt.want)
		}
	}
}

// TestMalformed feeds inputs no text editor makes: they must be refused with positioned
// errors, quickly, and with short messages that do not echo the input wholesale.
func TestMalformed(t *testing.T) {
	junk := make([]byte, 4096)
	for i := range junk {
		junk[i] = byte(i*131 + 7)
	}
	tests := []struct {
		name string
		src  []byte
	}{
		{"binary junk", junk},
		{"NUL bytes", []byte("model WRN-16-4\x00\x00")},
		{"invalid UTF-8", []byte("model WRN-16-4 {\n  dropout \xff\xfe\n}")},
		{"10 MB line", append([]byte("model WRN-16-4 { dropout "), bytes.Repeat([]byte("9"), 10<<20)...)},
		{"10 MB comment then junk", append(append([]byte("# "), bytes.Repeat([]byte("x"), 10<<20)...), []byte("\n}}}")...)},
		{"deep braces", bytes.Repeat([]byte("{"), 100000)},
		{"only closing braces", []byte("}}}}")},
		{"huge numbers", []byte("model WRN-16-4 {\n batch 1e999999\n dropout 1e-99999999\n classes -99999999999999999999999999\n}")},
		{"overflowing width", []byte("model WRN-16-1e308")},
		{"nested quotes", []byte("model WRN-16-4\"; os.Exit(1) //\n")},
		{"backquote", []byte("model WRN-16-4 { input `rm -rf /` }")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, e := range refuse(t, "junk.wrn", tt.src) {
				if len(e.Msg) > 400 {
					t.Errorf("message of %d bytes: %.100q...", len(e.Msg), e.Msg)
				}
			}
		})
	}
}
