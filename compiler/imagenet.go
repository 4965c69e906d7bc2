package compiler

import (
	"fmt"
	"math"

	"github.com/wrnc/wrnc/compiler/ir"
)

// buildImageNet lays out the post-activation ResNet of the paper's Tables 7 and 8, named as
// torchvision names its parameters: basic blocks widen every stage by k, bottleneck blocks
// widen their inner width by k and output four times the stage width.
func buildImageNet(p *ir.Program) {
	b := ir.Builder{P: p}
	x := b.Value("input")
	p.Ops = append(p.Ops, &ir.Op{Kind: ir.OpInput, Name: "input", Out: x})
	x = b.Conv("conv1.weight", x, p.Input[0], 64, 7, 2, 3)
	x = b.ReLU("relu", b.BN("bn1", x, 64))
	x = b.Op(&ir.Op{Kind: ir.OpMaxPool, Name: "maxpool", In: []int{x}, Kernel: 3, Stride: 2, Pad: 1})
	c := 64
	for s, blocks := range imagenetStages[p.Depth] {
		stage := 64 << s
		inner := int(math.Round(float64(stage) * p.Width))
		out := inner
		kernels := []int{3, 3}
		if p.Bottleneck {
			out, kernels = 4*stage, []int{1, 3, 1}
		}
		for blk := 0; blk < blocks; blk++ {
			base := fmt.Sprintf("layer%d.%d", s+1, blk)
			stride := 1
			if blk == 0 && s > 0 {
				stride = 2
			}
			y, ci := x, c
			for i, k := range kernels {
				co, st := inner, 1
				if i == len(kernels)-1 {
					co = out
				}
				// torchvision puts the stride on the 3x3 convolution (ResNet v1.5).
				if k == 3 && (i == 0 || p.Bottleneck) {
					st = stride
				}
				y = b.Conv(fmt.Sprintf("%s.conv%d.weight", base, i+1), y, ci, co, k, st, k/2)
				y = b.BN(fmt.Sprintf("%s.bn%d", base, i+1), y, co)
				if i < len(kernels)-1 {
					y = b.ReLU(fmt.Sprintf("%s.relu%d", base, i+1), y)
				}
				ci = co
			}
			shortcut := x
			if c != out || stride != 1 {
				shortcut = b.Conv(base+".downsample.0.weight", x, c, out, 1, stride, 0)
				shortcut = b.BN(base+".downsample.1", shortcut, out)
			}
			x = b.Op(&ir.Op{Kind: ir.OpAdd, Name: base + ".add", In: []int{y, shortcut}})
			x = b.ReLU(base+".relu", x)
			c = out
		}
	}
	x = b.Op(&ir.Op{Kind: ir.OpAvgPool, Name: "avgpool", In: []int{x}})
	b.FC("fc", "fc.weight", "fc.bias", x, c, p.Classes)
}
