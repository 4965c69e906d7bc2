package pass

import (
	"fmt"

	"github.com/wrnc/wrnc/compiler/ir"
)

// Fuse groups the ops of a network into kernels: a BN-ReLU, and the dropout after it, are
// applied by the convolution (or max pool) that loads their output; in the pre-activation
// cifar family a residual add is done by the convolution whose output it adds, as it
// stores; BN-ReLU (or nothing, post-activation), pooling and the FC layer form the head.
// Each BN keeps a kernel of its own that computes its scale and shift. In the
// post-activation imagenet family a block ends with ReLU(BN(y) + shortcut), the shortcut
// through its own BN when it is a downsample: one add-ReLU kernel.
func Fuse(p *ir.Program) error {
	f := fuser{p: p, uses: uses(p), loadVia: map[int]*load{}, bn: map[string]*ir.Kernel{}, adds: map[int]*ir.Kernel{}}
	for _, op := range p.Ops {
		if err := f.op(op); err != nil {
			return fmt.Errorf("%s (%s): %w", op.Name, op.Kind, err)
		}
	}
	p.Fused = f.out
	return nil
}

// load is how a value is produced from another by element-wise ops a conv can apply as
// it loads: x → BN-ReLU → dropout.
type load struct {
	x    int
	bn   *ir.Kernel
	relu bool
	drop float64
}

type fuser struct {
	p       *ir.Program
	uses    [][]*ir.Op
	loadVia map[int]*load // value → how to load it from a stored value
	bn      map[string]*ir.Kernel
	pooled  map[int]*load
	adds    map[int]*ir.Kernel // the value of a post-activation add → its kernel, until the ReLU after it
	out     []*ir.Kernel
}

func (f *fuser) op(op *ir.Op) error {
	switch op.Kind {
	case ir.OpInput:
		return nil
	case ir.OpBN:
		k := &ir.Kernel{Kind: ir.KBN, Name: op.Name, Op: op, In: op.In[0], Out: -1, Res: -1}
		f.bn[op.Name] = k
		f.out = append(f.out, k)
		f.loadVia[op.Out] = &load{x: op.In[0], bn: k}
		return nil
	case ir.OpReLU:
		if k := f.adds[op.In[0]]; k != nil {
			delete(f.adds, op.In[0])
			k.Out = op.Out
			f.out = append(f.out, k)
			return nil
		}
		l := f.loadVia[op.In[0]]
		if l == nil || l.relu || l.drop > 0 {
			return fmt.Errorf("a ReLU must follow a BN to be fused")
		}
		f.loadVia[op.Out] = &load{x: l.x, bn: l.bn, relu: true}
		return nil
	case ir.OpDropout:
		l := f.loadVia[op.In[0]]
		if l == nil || !l.relu || l.drop > 0 {
			return fmt.Errorf("dropout must follow a BN-ReLU to be fused")
		}
		f.loadVia[op.Out] = &load{x: l.x, bn: l.bn, relu: true, drop: op.P}
		return nil
	case ir.OpConv:
		k := &ir.Kernel{Kind: ir.KConv, Name: op.Name, Op: op, In: op.In[0], Out: op.Out, Res: -1}
		if l := f.loadVia[op.In[0]]; l != nil {
			if !l.relu {
				return fmt.Errorf("a conv can load through BN-ReLU, not through a BN alone")
			}
			k.In, k.Pre, k.Drop = l.x, l.bn, l.drop
		}
		f.out = append(f.out, k)
		return nil
	case ir.OpMaxPool:
		k := &ir.Kernel{Kind: ir.KPool, Name: op.Name, Op: op, In: op.In[0], Out: op.Out, Res: -1}
		if l := f.loadVia[op.In[0]]; l != nil {
			if !l.relu || l.drop > 0 {
				return fmt.Errorf("a max pool can load through BN-ReLU, not through a BN alone or dropout")
			}
			k.In, k.Pre = l.x, l.bn
		}
		f.out = append(f.out, k)
		return nil
	case ir.OpAdd:
		if f.plainBN(op.In[0]) || f.plainBN(op.In[1]) {
			return f.postAdd(op)
		}
		return f.add(op)
	case ir.OpAvgPool:
		l := f.loadVia[op.In[0]]
		switch {
		case l == nil && f.stored(op.In[0]):
			l = &load{x: op.In[0]} // post-activation: the pooled value is stored as it is
		case l == nil || !l.relu || l.drop > 0:
			return fmt.Errorf("pooling must follow a BN-ReLU or a stored value to form the head")
		}
		if f.pooled == nil {
			f.pooled = map[int]*load{}
		}
		f.pooled[op.Out] = l
		return nil
	case ir.OpFC:
		l := f.pooled[op.In[0]]
		if l == nil {
			return fmt.Errorf("the FC layer must follow BN-ReLU and pooling to form the head")
		}
		f.out = append(f.out, &ir.Kernel{Kind: ir.KHead, Name: "head", Op: op, In: l.x, Out: op.Out, Pre: l.bn, Res: -1})
		return nil
	}
	return fmt.Errorf("no fusion rule for %s", op.Kind)
}

// plainBN reports whether v is a BN's output with nothing applied after it.
func (f *fuser) plainBN(v int) bool {
	l := f.loadVia[v]
	return l != nil && !l.relu && l.drop == 0
}

// stored reports whether a kernel (or the input) stores v.
func (f *fuser) stored(v int) bool {
	if v == 0 {
		return true
	}
	for _, k := range f.out {
		if k.Kind != ir.KBN && k.Out == v {
			return true
		}
	}
	return false
}

// postAdd makes the add-ReLU kernel of a post-activation block: the add of BN(y) and the
// shortcut, which is a stored value or a BN of one; the ReLU that must follow it completes
// the kernel.
func (f *fuser) postAdd(op *ir.Op) error {
	y, sc := op.In[0], op.In[1]
	if !f.plainBN(y) {
		y, sc = sc, y
	}
	if len(f.uses[op.Out]) != 1 || f.uses[op.Out][0].Kind != ir.OpReLU {
		return fmt.Errorf("a post-activation add must be followed by a ReLU alone")
	}
	ly := f.loadVia[y]
	k := &ir.Kernel{Kind: ir.KAddReLU, Name: op.Name, Op: op, In: ly.x, Pre: ly.bn, Res: sc, Out: -1}
	switch {
	case f.plainBN(sc):
		ls := f.loadVia[sc]
		k.Res, k.ResPre = ls.x, ls.bn
	case !f.stored(sc):
		return fmt.Errorf("the shortcut is neither a stored value nor a BN of one")
	}
	f.adds[op.Out] = k
	return nil
}

// add moves a residual add into the store of the conv that computes one of its inputs,
// when that conv's output has no other use; the conv then writes the add's value. Of two
// candidates it takes the one that runs last, so that the other input is already stored.
func (f *fuser) add(op *ir.Op) error {
	best, bestAt := -1, -1
	for i, in := range op.In {
		at := f.convOf(in)
		if at < 0 || len(f.uses[in]) != 1 || f.out[at].Res >= 0 {
			continue
		}
		if at > bestAt {
			best, bestAt = i, at
		}
	}
	if best < 0 {
		return fmt.Errorf("neither input is a conv output with no other use")
	}
	k := f.out[bestAt]
	k.Res, k.Out = op.In[1-best], op.Out
	return nil
}

// convOf is the index in f.out of the conv kernel that stores v, or -1.
func (f *fuser) convOf(v int) int {
	for i := len(f.out) - 1; i >= 0; i-- {
		if k := f.out[i]; k.Kind == ir.KConv && k.Out == v {
			return i
		}
	}
	return -1
}

// uses lists, for every value, the ops that read it.
func uses(p *ir.Program) [][]*ir.Op {
	u := make([][]*ir.Op, len(p.Values))
	for _, op := range p.Ops {
		for _, in := range op.In {
			u[in] = append(u[in], op)
		}
	}
	return u
}
