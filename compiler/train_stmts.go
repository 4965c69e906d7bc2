package compiler

import (
	"math"

	"github.com/wrnc/wrnc/dsl"
)

func applyEpochs(c *checker, s *settings, st *dsl.Statement) {
	if n, ok := c.integer(c.single(st, "epochs 200"), "epochs", 1, 1_000_000); ok {
		s.recipe.Epochs = int(n)
		s.recipePos["epochs"] = st.Pos
	}
}

func applySGD(c *checker, s *settings, st *dsl.Statement) {
	const example = "sgd lr=0.1 momentum=0.9 nesterov=true weight_decay=5e-4 dampening=0"
	pos, named := c.args(st, []string{"lr", "momentum", "nesterov", "weight_decay", "dampening"}, example)
	if len(pos) > 0 {
		c.errorf(pos[0].Pos, "sgd takes named arguments only, e.g. `%s`", example)
	}
	r := &s.recipe
	positive := func(x float64) bool { return x > 0 }
	if a := named["lr"]; a != nil {
		if x, ok := c.real(c.one(a), "lr", "(0, inf)", positive); ok {
			r.LR = x
		}
	}
	if a := named["momentum"]; a != nil {
		if x, ok := c.real(c.one(a), "momentum", "[0, 1)", func(x float64) bool { return x >= 0 && x < 1 }); ok {
			r.Momentum = x
		}
	}
	if a := named["nesterov"]; a != nil {
		if b, ok := c.boolean(c.one(a), "nesterov"); ok {
			r.Nesterov = b
		}
	}
	if a := named["weight_decay"]; a != nil {
		if x, ok := c.real(c.one(a), "weight_decay", "[0, inf)", func(x float64) bool { return x >= 0 }); ok {
			r.WeightDecay = x
		}
	}
	if a := named["dampening"]; a != nil {
		if x, ok := c.real(c.one(a), "dampening", "[0, 1]", func(x float64) bool { return x >= 0 && x <= 1 }); ok {
			r.Dampening = x
		}
	}
	if r.Nesterov && (r.Momentum == 0 || r.Dampening != 0) {
		c.errorf(st.Pos, "nesterov=true needs momentum > 0 and dampening=0 (as torch.optim.SGD), got momentum=%g dampening=%g", r.Momentum, r.Dampening)
	}
}

func applySchedule(c *checker, s *settings, st *dsl.Statement) {
	const example = "schedule step gamma=0.2 at=60,120,160"
	pos, named := c.args(st, []string{"gamma", "at"}, example)
	if len(pos) != 1 {
		c.errorf(st.Pos, "schedule takes its kind and named arguments, e.g. `%s`", example)
	} else {
		c.word(pos[0], "schedule", "step")
	}
	r := &s.recipe
	if a := named["gamma"]; a != nil {
		if x, ok := c.real(c.one(a), "gamma", "(0, 1]", func(x float64) bool { return x > 0 && x <= 1 }); ok {
			r.Gamma = x
		}
	}
	if a := named["at"]; a != nil {
		var at []int
		for _, v := range a.Values {
			n, ok := c.integer(v, "a milestone of at=", 1, 1_000_000)
			if !ok {
				return
			}
			if len(at) > 0 && int(n) <= at[len(at)-1] {
				c.errorf(v.Pos, "milestones of at= must increase, got %d after %d", n, at[len(at)-1])
				return
			}
			at = append(at, int(n))
		}
		r.Milestones = at
	}
}

func applyAugment(c *checker, s *settings, st *dsl.Statement) {
	const example = "augment flip crop=4 padding=reflect"
	pos, named := c.args(st, []string{"crop", "padding"}, example)
	r := &s.recipe
	r.Flip, r.Crop, r.Padding, r.ResizedCrop = false, 0, "reflect", false
	s.recipePos["augment"] = st.Pos
	for i, v := range pos {
		w, ok := c.word(v, "augment", "flip", "resized_crop", "none")
		if !ok {
			continue
		}
		if w == "none" && (len(st.Args) > 1 || i > 0) {
			c.errorf(v.Pos, "augment none takes nothing else")
		}
		r.Flip = r.Flip || w == "flip"
		r.ResizedCrop = r.ResizedCrop || w == "resized_crop"
	}
	if a := named["crop"]; a != nil {
		if r.ResizedCrop {
			c.errorf(a.Pos, "augment resized_crop takes no crop=: it crops a random area and resizes it to the input size; write `augment resized_crop flip`, or `%s` without resized_crop", example)
		} else if n, ok := c.integer(c.one(a), "crop", 0, maxSide); ok {
			r.Crop = int(n)
			s.recipePos["crop"] = a.Pos
		}
	}
	if a := named["padding"]; a != nil {
		if r.ResizedCrop {
			c.errorf(a.Pos, "augment resized_crop takes no padding=: nothing is padded (padding= goes with crop=P)")
		} else if w, ok := c.word(c.one(a), "padding", "reflect", "zero"); ok {
			r.Padding = w
		}
	}
	if len(st.Args) == 0 {
		c.errorf(st.Pos, "augment needs flip, crop=P, padding=..., resized_crop or none, e.g. `%s` or `augment resized_crop flip`", example)
	}
}

func applyNormalize(c *checker, s *settings, st *dsl.Statement) {
	if w, ok := c.word(c.single(st, "normalize meanstd"), "normalize", "meanstd", "zca", "scale", "imagenet"); ok {
		s.recipe.Normalize = w
		s.recipePos["normalize"] = st.Pos
	}
}

func applySeed(c *checker, s *settings, st *dsl.Statement) {
	if n, ok := c.integer(c.single(st, "seed 1"), "seed", 0, math.MaxInt64); ok {
		s.recipe.Seed = n
	}
}
