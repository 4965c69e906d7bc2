package dsl

import "github.com/alecthomas/participle/v2/lexer"

// File is a whole .wrn file: a sequence of blocks (model, train). The parser does not check
// which blocks appear or how often; package compiler does.
type File struct {
	Pos    lexer.Position
	Blocks []*Block `parser:"Newline* ( @@ Newline* )*"`
}

// Block is `KIND [NAME] [{ statements }]`.
type Block struct {
	Pos    lexer.Position
	Kind   string       `parser:"@Ident"`
	Name   *Name        `parser:"@@?"`
	Body   bool         `parser:"( @'{'"`
	Stmts  []*Statement `parser:"  ( Newline | @@ )* '}' )?"`
	EndPos lexer.Position
}

// Name is the network's name token, `WRN-<depth>-<k>[-B(M)|-bottleneck]`. Text is the token
// as written; the other fields are filled by Parse from it.
type Name struct {
	Pos  lexer.Position
	Text string `parser:"@Name"`

	Depth      int     // the first number
	DepthText  string  // as written
	Width      float64 // k
	WidthText  string  // as written
	Kernels    []int   // B(M), nil when absent
	Bottleneck bool    // the -bottleneck suffix
}

// Statement is `KEY ARG...` on one line.
type Statement struct {
	Pos  lexer.Position
	Key  string `parser:"@Ident"`
	Args []*Arg `parser:"@@*"`
}

// Arg is a value list, optionally named: `0.3`, `3x32x32`, `flip`, `lr=0.1`, `at=60,120,160`.
type Arg struct {
	Pos    lexer.Position
	Key    string   `parser:"( @Ident '=' )?"`
	Values []*Value `parser:"@@ ( ',' @@ )*"`
}

// Value is one number, shape or word, kept as written so that the compiler can report range
// and overflow errors at its position.
type Value struct {
	Pos    lexer.Position
	Number *string `parser:"  @Number"`
	Shape  *string `parser:"| @Shape"`
	Ident  *string `parser:"| @Ident"`
}

// Text is the value as written.
func (v *Value) Text() string {
	switch {
	case v.Number != nil:
		return *v.Number
	case v.Shape != nil:
		return *v.Shape
	case v.Ident != nil:
		return *v.Ident
	}
	return ""
}
