package compiler

import (
	"strconv"
	"strings"

	"github.com/wrnc/wrnc/compiler/ir"
	"github.com/wrnc/wrnc/dsl"
)

// Limits that keep every count of a network inside int64 and every buffer addressable.
const (
	maxChannels = 64
	maxSide     = 4096
	maxClasses  = 1 << 20
	maxBatch    = 1 << 16
)

func applyInput(c *checker, s *settings, st *dsl.Statement) {
	v := c.single(st, "input 3x32x32")
	if v == nil {
		return
	}
	if v.Shape == nil || strings.Count(*v.Shape, "x") != 2 {
		c.errorf(v.Pos, "input must be CxHxW (channels x height x width), e.g. 3x32x32, got %s", show(v))
		return
	}
	parts := strings.Split(*v.Shape, "x")
	limits := []int{maxChannels, maxSide, maxSide}
	names := []string{"channels", "height", "width"}
	var dims [3]int
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > limits[i] {
			c.errorf(v.Pos, "input %s must be in [1, %d], got %s", names[i], limits[i], p)
			return
		}
		dims[i] = n
	}
	s.input, s.inputPos = dims, &v.Pos
}

func applyClasses(c *checker, s *settings, st *dsl.Statement) {
	if n, ok := c.integer(c.single(st, "classes 10"), "classes", 2, maxClasses); ok {
		s.classes = int(n)
	}
}

func applyDropout(c *checker, s *settings, st *dsl.Statement) {
	if p, ok := c.real(c.single(st, "dropout 0.3"), "dropout", "[0, 1)", func(x float64) bool { return x >= 0 && x < 1 }); ok {
		s.dropout = p
	}
}

func applyBatch(c *checker, s *settings, st *dsl.Statement) {
	if n, ok := c.integer(c.single(st, "batch 128"), "batch", 1, maxBatch); ok {
		s.batch = int(n)
	}
}

func applyFamily(c *checker, s *settings, st *dsl.Statement) {
	v := c.single(st, "family imagenet")
	if w, ok := c.word(v, "family", string(ir.Cifar), string(ir.ImageNet)); ok {
		s.family, s.familyPos = ir.Family(w), &v.Pos
	}
}

func applyPrecision(c *checker, s *settings, st *dsl.Statement) {
	if w, ok := c.word(c.single(st, "precision fp32"), "precision", "fp32", "tf32", "bf16"); ok {
		s.precision = w
	}
}
