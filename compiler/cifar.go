package compiler

import (
	"fmt"
	"math"

	"github.com/wrnc/wrnc/compiler/ir"
)

// buildCifar lays out the pre-activation WRN of the paper's Table 1 with block type B(M),
// named as the original PyTorch code names its parameters.
func buildCifar(p *ir.Program) {
	b := ir.Builder{P: p}
	n := (p.Depth - 4) / (3 * len(p.Kernels))
	x := b.Value("input")
	p.Ops = append(p.Ops, &ir.Op{Kind: ir.OpInput, Name: "input", Out: x})
	x = b.Conv("conv0", x, p.Input[0], 16, 3, 1, 1)
	c := 16
	for g := 0; g < 3; g++ {
		w := int(math.Round(float64(int(16)<<g) * p.Width))
		for blk := 0; blk < n; blk++ {
			base := fmt.Sprintf("group%d.block%d", g, blk)
			stride := 1
			if blk == 0 && g > 0 {
				stride = 2
			}
			o1 := b.ReLU(base+".relu0", b.BN(base+".bn0", x, c))
			y, ci := o1, c
			for i, k := range p.Kernels {
				s := 1
				if i > 0 {
					y = b.ReLU(fmt.Sprintf("%s.relu%d", base, i), b.BN(fmt.Sprintf("%s.bn%d", base, i), y, w))
					if p.Dropout > 0 {
						y = b.Op(&ir.Op{Kind: ir.OpDropout, Name: fmt.Sprintf("%s.dropout%d", base, i), In: []int{y}, P: p.Dropout})
					}
				} else {
					s = stride
				}
				y = b.Conv(fmt.Sprintf("%s.conv%d", base, i), y, ci, w, k, s, k/2)
				ci = w
			}
			shortcut := x
			if c != w || stride != 1 {
				shortcut = b.Conv(base+".convdim", o1, c, w, 1, stride, 0)
			}
			x = b.Op(&ir.Op{Kind: ir.OpAdd, Name: base + ".add", In: []int{y, shortcut}})
			c = w
		}
	}
	x = b.ReLU("relu", b.BN("bn", x, c))
	x = b.Op(&ir.Op{Kind: ir.OpAvgPool, Name: "avgpool", In: []int{x}})
	b.FC("fc", "fc.weight", "fc.bias", x, c, p.Classes)
}
