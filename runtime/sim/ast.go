package sim

// The syntax tree of a PTX module, as parsed and before any checks of types,
// registers or instruction forms (those happen in decode).

type module struct {
	version  string
	target   string
	addrSize int
	shared   []*sharedDecl // module-scope .shared declarations
	entries  []*entry
}

type sharedDecl struct {
	name   string
	align  int
	size   int // bytes; 0 for .extern
	extern bool
	line   int
}

type entry struct {
	name    string
	line    int
	endLine int
	params  []param
	maxntid []int
	reqntid []int
	body    []stmt
}

type param struct {
	name string
	line int
}

type stmtKind uint8

const (
	sInst   stmtKind = iota
	sLabel           // name:
	sReg             // .reg .type items;
	sShared          // .shared / .extern .shared
	sOpen            // {
	sClose           // }
)

type stmt struct {
	kind     stmtKind
	line     int
	name     string // label name
	guard    string // predicate register of @%p / @!%p, "" if none
	guardNeg bool
	op       string // mnemonic, e.g. "ld.global.nc.v4.f32"
	ops      []operand
	regType  string    // .reg: the type directive, e.g. ".f32"
	regs     []regItem // .reg: the names declared
	shared   *sharedDecl
}

// regItem is one name of a .reg declaration: %r (count 0) or %r<N> (count N).
type regItem struct {
	name  string
	count int
}

type operandKind uint8

const (
	oReg  operandKind = iota // %r1, %tid.x
	oImm                     // 12, -3, 0x10, 0f3F800000, 1.5
	oSym                     // a label, shared variable or parameter name
	oAddr                    // [base+off]
	oVec                     // {a, b, ...}
	oPair                    // a|b
)

type operand struct {
	kind  operandKind
	name  string    // oReg, oSym; for oAddr the base register or symbol ("" for an absolute address)
	imm   string    // oImm: literal text, with a leading '-' when negated
	off   int64     // oAddr: byte offset (or the absolute address when name is "")
	elems []operand // oVec, oPair
}
