package sim

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var errorComment = regexp.MustCompile(`// ERROR "(.*)"`)

// TestLoadErrors loads each testdata/errors/*.ptx, whose expected error is
// written inline on the line it refers to: // ERROR "part of the message".
func TestLoadErrors(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "errors", "*.ptx"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no error cases: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			wantLine, wantMsg := 0, ""
			for i, l := range strings.Split(string(src), "\n") {
				if m := errorComment.FindStringSubmatch(l); m != nil {
					wantLine, wantMsg = i+1, m[1]
				}
			}
			if wantLine == 0 {
				t.Fatal("no // ERROR comment")
			}
			_, err = Load(string(src))
			var le *Error
			if !errors.As(err, &le) {
				t.Fatalf("Load returned %v, want an *Error at line %d", err, wantLine)
			}
			if le.Line != wantLine || !strings.Contains(le.Msg, wantMsg) {
				t.Errorf("got %q, want line %d with %q", err, wantLine, wantMsg)
			}
		})
	}
}
