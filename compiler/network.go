package compiler

import (
	"fmt"
	"math"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/wrnc/wrnc/compiler/ir"
)

// checkNetwork applies the rules of the name and the input: valid depths and kernels per
// family, the family's defaults, and an input big enough for every stride.
func (c *checker) checkNetwork(s *settings) {
	n := s.name
	if n.Width <= 0 {
		c.errorf(n.Pos, "%s: the width k must be positive, got %s", n.Text, n.WidthText)
		return
	}
	if s.family == ir.ImageNet {
		c.checkImageNet(s)
	} else {
		c.checkCifar(s)
	}
	if s.inputPos == nil {
		s.input = [3]int{3, 32, 32}
		if s.family == ir.ImageNet {
			s.input = [3]int{3, 224, 224}
		}
	}
	if s.classes < 0 {
		s.classes = 10
		if s.family == ir.ImageNet {
			s.classes = 1000
		}
	}
	halvings := 2
	if s.family == ir.ImageNet {
		halvings = 5
	}
	inputPos := n.Pos
	if s.inputPos != nil {
		inputPos = *s.inputPos
	}
	if need := 1 << halvings; s.input[1] < need || s.input[2] < need {
		c.errorf(inputPos, "input %dx%dx%d is too small for %s: it halves the image %d times, so height and width must be at least %d",
			s.input[0], s.input[1], s.input[2], n.Text, halvings, need)
		return
	}
	if r := s.recipe; r.Crop > 0 && r.Padding == "reflect" && (r.Crop >= s.input[1] || r.Crop >= s.input[2]) {
		if pos, ok := s.recipePos["crop"]; ok {
			c.errorf(pos, "crop=%d with padding=reflect needs an image larger than the padding, and the input is %dx%d",
				r.Crop, s.input[1], s.input[2])
		} else {
			c.errorf(inputPos, "the default augmentation (crop=%d, padding=reflect) needs images larger than %d pixels; set `augment` in the train block",
				r.Crop, r.Crop)
		}
	}
	c.checkRecipe(s, inputPos)
}

// checkRecipe applies the rules that tie the normalization to the augmentation and the
// input: `normalize imagenet` has three channel statistics, and resized_crop streams images
// of any size, so no statistics of whole images at the input size can be fitted for it.
func (c *checker) checkRecipe(s *settings, inputPos lexer.Position) {
	r := s.recipe
	normPos, normGiven := s.recipePos["normalize"]
	augPos, augGiven := s.recipePos["augment"]
	if r.Normalize == "imagenet" && s.input[0] != 3 {
		if normGiven {
			c.errorf(normPos, "normalize imagenet needs 3-channel (RGB) images, and the input is %dx%dx%d; use normalize meanstd or scale",
				s.input[0], s.input[1], s.input[2])
		} else {
			c.errorf(inputPos, "the imagenet family's default normalize imagenet needs 3-channel (RGB) images, and the input is %dx%dx%d; set `normalize` in the train block",
				s.input[0], s.input[1], s.input[2])
		}
	}
	if r.ResizedCrop && (r.Normalize == "meanstd" || r.Normalize == "zca") {
		why := fmt.Sprintf("normalize %s fits statistics on the training images at the input size, but augment resized_crop reads images of any size one batch at a time", r.Normalize)
		switch {
		case normGiven:
			c.errorf(normPos, "%s; use normalize imagenet or scale with it", why)
		case augGiven:
			c.errorf(augPos, "%s (the default normalize of the %s family); add `normalize imagenet` or `normalize scale` to the train block", why, s.family)
		}
	}
}

// maxWidth bounds the widest layer's channels; with maxSide and the depth limit it keeps
// every count of a network inside int64.
const maxWidth = 16384

func (c *checker) checkCifar(s *settings) {
	n := s.name
	if n.Bottleneck {
		at := n.Pos
		if s.familyPos != nil {
			at = *s.familyPos
		}
		c.errorf(at, "%s: -bottleneck blocks belong to the imagenet family, not cifar", n.Text)
		return
	}
	kernels := s.kernels()
	ok := true
	if len(kernels) < 1 || len(kernels) > 4 {
		c.errorf(n.Pos, "%s: a block type B(M) lists one to four kernel sizes, got %d", n.Text, len(kernels))
		ok = false
	}
	for _, k := range kernels {
		if k != 1 && k != 3 && k != 5 && k != 7 {
			c.errorf(n.Pos, "%s: kernel size %d in B(M) must be 1, 3, 5 or 7", n.Text, k)
			ok = false
		}
	}
	if !ok {
		return
	}
	if n.Width > maxWidth/64 || math.Round(16*n.Width) < 1 {
		c.errorf(n.Pos, "%s: width k=%s gives %d channels in the first group; k must keep it in [1, %d]",
			n.Text, n.WidthText, int(math.Round(16*n.Width)), maxWidth/4)
	}
	step := 3 * len(kernels)
	if d := n.Depth - 4; d < step || d%step != 0 {
		c.errorf(n.Pos, "%s: depth %d does not fit 3 groups of %s blocks (depth-4 must be a multiple of %d); %s",
			n.Text, n.Depth, blockName(kernels), step, nearestDepths(n.Depth, step))
	}
	if n.Depth > 1000 {
		c.errorf(n.Pos, "%s: depth %d is beyond what wrnc compiles (at most 1000)", n.Text, n.Depth)
	}
}

func blockName(kernels []int) string {
	s := make([]string, len(kernels))
	for i, k := range kernels {
		s[i] = fmt.Sprint(k)
	}
	return "B(" + strings.Join(s, ",") + ")"
}

// nearestDepths names the valid cifar depths (4 + step*N, N >= 1) around depth.
func nearestDepths(depth, step int) string {
	below := 4 + (depth-4)/step*step
	above := below + step
	if below < 4+step {
		return fmt.Sprintf("nearest valid depth: %d", 4+step)
	}
	return fmt.Sprintf("nearest valid depths: %d, %d", below, above)
}

// imagenetStages gives the blocks per stage for each depth of the imagenet family.
var imagenetStages = map[int][4]int{
	18: {2, 2, 2, 2}, 34: {3, 4, 6, 3}, 50: {3, 4, 6, 3}, 101: {3, 4, 23, 3}, 152: {3, 8, 36, 3},
}

func (c *checker) checkImageNet(s *settings) {
	n := s.name
	if n.Kernels != nil {
		at := n.Pos
		if s.familyPos != nil {
			at = *s.familyPos
		}
		c.errorf(at, "%s: a B(M) block type is for the cifar family; imagenet networks use basic or -bottleneck blocks", n.Text)
		return
	}
	if n.Width > maxWidth/512 {
		c.errorf(n.Pos, "%s: width k=%s is beyond what wrnc compiles for imagenet (at most %d)", n.Text, n.WidthText, maxWidth/512)
	}
	if math.Round(64*n.Width) < 1 {
		c.errorf(n.Pos, "%s: width k=%s leaves the first stage without channels", n.Text, n.WidthText)
	}
	switch {
	case n.Bottleneck && n.Depth != 50 && n.Depth != 101 && n.Depth != 152:
		c.errorf(n.Pos, "%s: imagenet bottleneck networks have depth 50, 101 or 152, got %d", n.Text, n.Depth)
	case !n.Bottleneck && n.Depth != 18 && n.Depth != 34:
		hint := ""
		if _, ok := imagenetStages[n.Depth]; ok {
			hint = fmt.Sprintf(" (for depth %d write WRN-%d-%s-bottleneck)", n.Depth, n.Depth, n.WidthText)
		}
		c.errorf(n.Pos, "%s: imagenet basic-block networks have depth 18 or 34, got %d%s", n.Text, n.Depth, hint)
	}
}
