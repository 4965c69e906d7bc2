package ir

import (
	"fmt"
	"io"
	"strings"
)

// Dump writes p as text, one line per parameter and per op, for golden files and debugging.
// The output depends only on p (no map order).
func Dump(w io.Writer, p *Program) error {
	var b strings.Builder
	fmt.Fprintf(&b, "program %s family=%s depth=%d width=%g kernels=%v input=%v classes=%d dropout=%g batch=%d precision=%s\n",
		p.Name, p.Family, p.Depth, p.Width, p.Kernels, p.Input, p.Classes, p.Dropout, p.Batch, p.Precision)
	r := p.Recipe
	crop := fmt.Sprintf("crop=%d padding=%s", r.Crop, r.Padding)
	if r.ResizedCrop {
		crop = "resized_crop=true"
	}
	fmt.Fprintf(&b, "recipe epochs=%d lr=%g momentum=%g nesterov=%t weight_decay=%g dampening=%g gamma=%g at=%v flip=%t %s normalize=%s seed=%d\n",
		r.Epochs, r.LR, r.Momentum, r.Nesterov, r.WeightDecay, r.Dampening, r.Gamma, r.Milestones, r.Flip, crop, r.Normalize, r.Seed)
	for _, x := range p.Params {
		fmt.Fprintf(&b, "param %s %v %s\n", x.Name, x.Shape, x.Role)
	}
	for _, op := range p.Ops {
		fmt.Fprintf(&b, "%%%d %v = %s", op.Out, p.Values[op.Out].Shape, op.Kind)
		for _, in := range op.In {
			fmt.Fprintf(&b, " %%%d", in)
		}
		switch op.Kind {
		case OpConv, OpMaxPool:
			fmt.Fprintf(&b, " k=%d s=%d p=%d", op.Kernel, op.Stride, op.Pad)
		case OpDropout:
			fmt.Fprintf(&b, " p=%g", op.P)
		}
		fmt.Fprintf(&b, " # %s\n", op.Name)
	}
	for _, k := range p.Fused {
		fmt.Fprintf(&b, "kernel %s %s in=%%%d", k.Kind, k.Name, k.In)
		if k.Pre != nil {
			fmt.Fprintf(&b, " pre=%s", k.Pre.Name)
		}
		if k.Drop > 0 {
			fmt.Fprintf(&b, " drop=%g", k.Drop)
		}
		if k.Out >= 0 {
			fmt.Fprintf(&b, " out=%%%d", k.Out)
		}
		if k.Res >= 0 {
			fmt.Fprintf(&b, " res=%%%d", k.Res)
		}
		if k.ResPre != nil {
			fmt.Fprintf(&b, " respre=%s", k.ResPre.Name)
		}
		b.WriteString("\n")
	}
	if p.Shared > 0 {
		fmt.Fprintf(&b, "shared %d floats\n", p.Shared)
	}
	for _, ph := range p.Phases {
		fmt.Fprintf(&b, "phase %s batch=%d steps=%d peak=%d floats\n", ph.Kind, ph.Batch, len(ph.Steps), ph.Peak)
		for _, st := range ph.Prepare {
			dumpStep(&b, "prepare ", st)
		}
		for _, st := range ph.Steps {
			dumpStep(&b, "", st)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func dumpStep(b *strings.Builder, prefix string, st *Step) {
	fmt.Fprintf(b, "  %s%s %s", prefix, st.Kind, st.Name())
	for _, x := range []struct {
		role string
		buf  *Buffer
	}{{"x", st.X}, {"y", st.Y}, {"res", st.Res}, {"dy", st.DY}, {"dz", st.DZ}, {"dx", st.DX}, {"u", st.Derived}} {
		if x.buf != nil {
			fmt.Fprintf(b, " %s=%s@%d", x.role, x.buf.Name, x.buf.Offset)
		}
	}
	if st.Acc {
		b.WriteString(" acc")
	}
	if st.Sel.Method != "" {
		fmt.Fprintf(b, " [%s", st.Sel)
		if st.WSel.Method != "" {
			fmt.Fprintf(b, "; wgrad %s", st.WSel)
		}
		if st.GPU.Method != "" {
			fmt.Fprintf(b, "; gpu %s", st.GPU)
		}
		if st.GPUW.Method != "" {
			fmt.Fprintf(b, "; gpu wgrad %s", st.GPUW)
		}
		b.WriteString("]")
	}
	b.WriteString("\n")
}
