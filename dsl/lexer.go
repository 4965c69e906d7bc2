// Package dsl reads the .wrn language of DSL.md into an AST. It knows the syntax only: every
// semantic rule (valid depths, ranges, unknown statements) is checked by package compiler.
package dsl

import "github.com/alecthomas/participle/v2/lexer"

// Lexer splits a .wrn file into tokens. Comments and horizontal space are dropped by the
// parser; newlines are kept because they end statements.
var Lexer = lexer.MustSimple([]lexer.SimpleRule{
	{Name: "Comment", Pattern: `(#|//)[^\n]*`},
	{Name: "Name", Pattern: `(?i)wrn-[0-9a-z.,()\-]*`},
	{Name: "Shape", Pattern: `\d+(x\d+)+`},
	{Name: "Number", Pattern: `[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?`},
	{Name: "Ident", Pattern: `[A-Za-z_][A-Za-z0-9_]*`},
	{Name: "Punct", Pattern: `[{}=,]`},
	{Name: "Newline", Pattern: `\n`},
	{Name: "Whitespace", Pattern: `[ \t\r]+`},
})
