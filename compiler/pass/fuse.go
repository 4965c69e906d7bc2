package pass

import (
	"fmt"

	"github.com/wrnc/wrnc/compiler/ir"
)

// Fuse groups the ops of a cifar-family (pre-activation) network into kernels: a BN-ReLU,
// and the dropout after it, are applied by the convolution that loads their output; a
// residual add is done by the convolution whose output it adds, as it stores; BN-ReLU,
// pooling and the FC layer form the head. Each BN keeps a kernel of its own that computes
// its scale and shift. The imagenet family (post-activation) is not fused yet: its program
// keeps no kernels, and code generation refuses it.
func Fuse(p *ir.Program) error {
	if p.Family != ir.Cifar {
		p.Fused = nil
		return nil
	}
	f := fuser{p: p, uses: uses(p), loadVia: map[int]*load{}, bn: map[string]*ir.Kernel{}}
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
	case ir.OpAdd:
		return f.add(op)
	case ir.OpAvgPool:
		l := f.loadVia[op.In[0]]
		if l == nil || !l.relu || l.drop > 0 {
			return fmt.Errorf("pooling must follow a BN-ReLU to form the head")
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
