package dsl

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseName(t *testing.T) {
	tests := []struct {
		text       string
		depth      int
		width      float64
		kernels    []int
		bottleneck bool
	}{
		{"WRN-40-4", 40, 4, nil, false},
		{"wrn-16-4", 16, 4, nil, false},
		{"WRN-18-1.5", 18, 1.5, nil, false},
		{"WRN-22-2-B(3,1,3)", 22, 2, []int{3, 1, 3}, false},
		{"Wrn-22-2-b(1)", 22, 2, []int{1}, false},
		{"WRN-50-2-bottleneck", 50, 2, nil, true},
		{"WRN-50-2-BOTTLENECK", 50, 2, nil, true},
	}
	for _, tt := range tests {
		f, err := Parse("n.wrn", []byte("model "+tt.text))
		if err != nil {
			t.Errorf("%s: %v", tt.text, err)
			continue
		}
		n := f.Blocks[0].Name
		got := []any{n.Text, n.Depth, n.Width, n.Kernels, n.Bottleneck}
		want := []any{tt.text, tt.depth, tt.width, tt.kernels, tt.bottleneck}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.text, diff)
		}
	}
}

func TestParseFile(t *testing.T) {
	src := `# a comment
model WRN-40-4 { // another
    input   3x32x32
    dropout 0.3

}
train {
    sgd lr=0.1 nesterov=true
    schedule step at=60,120,160
}
`
	f, err := Parse("f.wrn", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	type stmt struct {
		Line, Col int
		Key       string
		Args      []string
	}
	var got []stmt
	for _, b := range f.Blocks {
		got = append(got, stmt{b.Pos.Line, b.Pos.Column, b.Kind, nil})
		for _, s := range b.Stmts {
			st := stmt{s.Pos.Line, s.Pos.Column, s.Key, nil}
			for _, a := range s.Args {
				for _, v := range a.Values {
					st.Args = append(st.Args, a.Key+"="+v.Text())
				}
			}
			got = append(got, st)
		}
	}
	want := []stmt{
		{2, 1, "model", nil},
		{3, 5, "input", []string{"=3x32x32"}},
		{4, 5, "dropout", []string{"=0.3"}},
		{7, 1, "train", nil},
		{8, 5, "sgd", []string{"lr=0.1", "nesterov=true"}},
		{9, 5, "schedule", []string{"=step", "at=60", "at=120", "at=160"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if p := f.Blocks[0].Name.Pos; p.Line != 2 || p.Column != 7 || p.Filename != "f.wrn" {
		t.Errorf("name position %v, want f.wrn:2:7", p)
	}
}

func TestSyntaxErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{"model WRN-16", `s.wrn:1:7: malformed network name "WRN-16": want WRN-<depth>-<k>[-B(kernels)|-bottleneck], e.g. WRN-40-4 or WRN-22-2-B(3,1,3)`},
		{"model WRN-16-4 {\n dropout 0.3\n", `s.wrn:3:1: unexpected token "<EOF>" (expected "}")`},
		{"model WRN-16-4\"; os.Exit(1) //", `s.wrn:1:15: unexpected character '"'`},
		{"model WRN-16-4 {\n sgd lr=\n}", `s.wrn:2:8: unexpected token "="`},
		{"model WRN-16-4-B(3,x)", `s.wrn:1:7: WRN-16-4-B(3,x): block kernels must be a comma-separated list of small integers, got "B(3,x)"`},
		{"ok\n\xff", "s.wrn:2:1: the file is not UTF-8 text (is it a .wrn file?)"},
	}
	for _, tt := range tests {
		_, err := Parse("s.wrn", []byte(tt.src))
		if err == nil {
			t.Errorf("Parse(%q) succeeded", tt.src)
			continue
		}
		if got := err.Error(); !startsWith(got, tt.want) {
			t.Errorf("Parse(%q):\n got %s\nwant %s", tt.src, got, tt.want)
		}
	}
}

func startsWith(s, prefix string) bool { return len(s) >= len(prefix) && s[:len(prefix)] == prefix }
