package compiler

import (
	"fmt"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/wrnc/wrnc/compiler/ir"
	"github.com/wrnc/wrnc/dsl"
)

// settings is what the statements of a file say, before the network is built.
type settings struct {
	file      string
	name      *dsl.Name
	family    ir.Family
	familyPos *lexer.Position // nil when the family is the default
	input     [3]int
	inputPos  *lexer.Position // nil when the input is the default
	classes   int
	dropout   float64
	batch     int
	precision string
	recipe    ir.Recipe
	recipePos map[string]lexer.Position // statement key → where it was given
}

// statement is one row of the language: a block, a keyword, an example and how to apply it.
type statement struct {
	block, key, example string
	apply               func(c *checker, s *settings, st *dsl.Statement)
}

// statements is the whole language of DSL.md, one row a statement.
var statements = []statement{
	{"model", "input", "input 3x32x32", applyInput},
	{"model", "classes", "classes 10", applyClasses},
	{"model", "dropout", "dropout 0.3", applyDropout},
	{"model", "batch", "batch 128", applyBatch},
	{"model", "family", "family imagenet", applyFamily},
	{"model", "precision", "precision bf16", applyPrecision},
	{"train", "epochs", "epochs 200", applyEpochs},
	{"train", "sgd", "sgd lr=0.1 momentum=0.9 nesterov=true weight_decay=5e-4 dampening=0", applySGD},
	{"train", "schedule", "schedule step gamma=0.2 at=60,120,160", applySchedule},
	{"train", "augment", "augment flip crop=4 padding=reflect", applyAugment},
	{"train", "normalize", "normalize meanstd", applyNormalize},
	{"train", "seed", "seed 1", applySeed},
}

var blocks = []string{"model", "train"}

// defaultRecipe is the default recipe of a family (DSL.md, the train table): the paper's
// CIFAR recipe for cifar, torchvision's ImageNet reference recipe for imagenet.
func defaultRecipe(f ir.Family) ir.Recipe {
	if f == ir.ImageNet {
		return ir.Recipe{
			Epochs: 90, LR: 0.1, Momentum: 0.9, Nesterov: false, WeightDecay: 1e-4, Dampening: 0,
			Gamma: 0.1, Milestones: []int{30, 60},
			Flip: true, ResizedCrop: true, Padding: "reflect", Normalize: "imagenet", Seed: 1,
		}
	}
	return ir.Recipe{
		Epochs: 200, LR: 0.1, Momentum: 0.9, Nesterov: true, WeightDecay: 5e-4, Dampening: 0,
		Gamma: 0.2, Milestones: []int{60, 120, 160},
		Flip: true, Crop: 4, Padding: "reflect", Normalize: "meanstd", Seed: 1,
	}
}

// resolveFamily sets the family of a file that does not name one: imagenet for
// -bottleneck names, cifar otherwise.
func (s *settings) resolveFamily() {
	if s.familyPos != nil {
		return
	}
	s.family = ir.Cifar
	if s.name != nil && s.name.Bottleneck {
		s.family = ir.ImageNet
	}
}

// settings reads every block and statement of f. It returns nil when the file has no usable
// model block (the problems are recorded in c).
func (c *checker) settings(f *dsl.File) *settings {
	s := &settings{file: c.file, classes: -1, batch: 128, precision: "fp32",
		recipePos: map[string]lexer.Position{}}
	// The train statements change the family's default recipe, so they are applied once
	// every block has been read and the family is known.
	type pending struct {
		row *statement
		st  *dsl.Statement
	}
	var train []pending
	seenBlock := map[string]lexer.Position{}
	seenStmt := map[string]lexer.Position{}
	for _, b := range f.Blocks {
		if !contains(blocks, b.Kind) {
			c.errorf(b.Pos, "unknown block %q%s; a file has a model block and an optional train block", b.Kind, didYouMean(b.Kind, blocks))
			continue
		}
		if prev, ok := seenBlock[b.Kind]; ok {
			c.errorf(b.Pos, "a second %s block (the first is at %d:%d)", b.Kind, prev.Line, prev.Column)
			continue
		}
		seenBlock[b.Kind] = b.Pos
		switch {
		case b.Kind == "model" && b.Name == nil:
			c.errorf(b.Pos, "model needs a network name, e.g. `model WRN-40-4`")
		case b.Kind == "model":
			s.name = b.Name
		case b.Name != nil:
			c.errorf(b.Name.Pos, "train takes no name, write `train {`")
		case !b.Body:
			c.errorf(b.Pos, "train needs a body: `train { ... }`")
		}
		for _, st := range splitStatements(b.Stmts) {
			row := lookup(b.Kind, st.Key)
			if row == nil {
				c.unknownStatement(b.Kind, st)
				continue
			}
			if prev, ok := seenStmt[b.Kind+"."+st.Key]; ok {
				c.errorf(st.Pos, "%s given twice (first at %d:%d)", st.Key, prev.Line, prev.Column)
				continue
			}
			seenStmt[b.Kind+"."+st.Key] = st.Pos
			if b.Kind == "train" {
				train = append(train, pending{row, st})
				continue
			}
			row.apply(c, s, st)
		}
	}
	s.resolveFamily()
	s.recipe = defaultRecipe(s.family)
	for _, p := range train {
		p.row.apply(c, s, p.st)
	}
	if _, ok := seenBlock["model"]; !ok && len(c.errs) == 0 {
		c.errorf(lexer.Position{Filename: c.file, Line: 1, Column: 1}, "no model block: a .wrn file needs at least `model WRN-<depth>-<k>`")
	}
	if s.name == nil {
		return nil
	}
	return s
}

// splitStatements cuts statements that share a line. The grammar reads a statement as a key
// and every value up to the end of its line, so `input 3x33x31 classes 7` arrives as one
// statement; DSL.md separates statements by whitespace as well as newlines, so a bare word
// (no `=`, no list) that is a statement key starts the next statement. No value of any
// statement is also a statement key, so nothing is cut that was meant as a value.
func splitStatements(stmts []*dsl.Statement) []*dsl.Statement {
	var out []*dsl.Statement
	for _, st := range stmts {
		cur := &dsl.Statement{Pos: st.Pos, Key: st.Key}
		for _, a := range st.Args {
			if a.Key == "" && len(a.Values) == 1 && a.Values[0].Ident != nil && isStatementKey(*a.Values[0].Ident) {
				out = append(out, cur)
				cur = &dsl.Statement{Pos: a.Pos, Key: *a.Values[0].Ident}
				continue
			}
			cur.Args = append(cur.Args, a)
		}
		out = append(out, cur)
	}
	return out
}

// statementKeys are the keys of every block's statements (set by init, since statements
// refers to the functions that use it).
var statementKeys []string

func init() {
	for _, row := range statements {
		statementKeys = append(statementKeys, row.key)
	}
}

// isStatementKey says whether word is the key of a statement of any block.
func isStatementKey(word string) bool { return contains(statementKeys, word) }

func lookup(block, key string) *statement {
	for i := range statements {
		if statements[i].block == block && statements[i].key == key {
			return &statements[i]
		}
	}
	return nil
}

func (c *checker) unknownStatement(block string, st *dsl.Statement) {
	var keys []string
	for _, row := range statements {
		if row.block == block {
			keys = append(keys, row.key)
		} else if row.key == st.Key {
			c.errorf(st.Pos, "%s belongs in the %s block, not in %s", st.Key, row.block, block)
			return
		}
	}
	c.errorf(st.Pos, "unknown statement %q in %s%s", st.Key, block, didYouMean(st.Key, keys))
}

// program makes the IR program of checked settings, without layers.
func (s *settings) program() *ir.Program {
	return &ir.Program{
		Name: canonicalName(s.name), Source: s.file, Family: s.family,
		Depth: s.name.Depth, Width: s.name.Width, Kernels: s.kernels(), Bottleneck: s.name.Bottleneck,
		Input: s.input, Classes: s.classes, Dropout: s.dropout, Batch: s.batch,
		Precision: s.precision, Recipe: s.recipe,
	}
}

// kernels is B(M) of a cifar network, B(3,3) when the name has none.
func (s *settings) kernels() []int {
	if s.family == ir.ImageNet {
		return nil
	}
	if s.name.Kernels == nil {
		return []int{3, 3}
	}
	return s.name.Kernels
}

func canonicalName(n *dsl.Name) string {
	name := fmt.Sprintf("WRN-%d-%g", n.Depth, n.Width)
	switch {
	case n.Bottleneck:
		name += "-bottleneck"
	case n.Kernels != nil && !(len(n.Kernels) == 2 && n.Kernels[0] == 3 && n.Kernels[1] == 3):
		name += "-B("
		for i, k := range n.Kernels {
			if i > 0 {
				name += ","
			}
			name += fmt.Sprint(k)
		}
		name += ")"
	}
	return name
}
