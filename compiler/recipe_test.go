package compiler_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wrnc/wrnc/compiler"
	"github.com/wrnc/wrnc/compiler/ir"
)

// TestFamilyRecipes checks the default recipe of each family (DSL.md, the train table) and
// that every explicit statement overrides the family's default, whatever the order of the
// blocks.
func TestFamilyRecipes(t *testing.T) {
	cifar := ir.Recipe{
		Epochs: 200, LR: 0.1, Momentum: 0.9, Nesterov: true, WeightDecay: 5e-4, Dampening: 0,
		Gamma: 0.2, Milestones: []int{60, 120, 160},
		Flip: true, Crop: 4, Padding: "reflect", Normalize: "meanstd", Seed: 1,
	}
	// torchvision's references/classification recipe for ResNets.
	imagenet := ir.Recipe{
		Epochs: 90, LR: 0.1, Momentum: 0.9, Nesterov: false, WeightDecay: 1e-4, Dampening: 0,
		Gamma: 0.1, Milestones: []int{30, 60},
		Flip: true, ResizedCrop: true, Padding: "reflect", Normalize: "imagenet", Seed: 1,
	}
	with := func(r ir.Recipe, f func(*ir.Recipe)) ir.Recipe {
		r.Milestones = append([]int(nil), r.Milestones...)
		f(&r)
		return r
	}
	tests := []struct {
		name, src string
		want      ir.Recipe
	}{
		{"cifar default", "model WRN-16-4", cifar},
		{"family imagenet", "model WRN-18-1 { family imagenet }", imagenet},
		{"bottleneck name", "model WRN-50-2-bottleneck", imagenet},
		{"bottleneck with family", "model WRN-101-1-bottleneck { family imagenet }", imagenet},
		{"sgd overrides one field", "model WRN-18-1 { family imagenet }\ntrain { sgd lr=0.05 }",
			with(imagenet, func(r *ir.Recipe) { r.LR = 0.05 })},
		{"nesterov on imagenet", "model WRN-18-1 { family imagenet }\ntrain { sgd nesterov=true weight_decay=5e-5 }",
			with(imagenet, func(r *ir.Recipe) { r.Nesterov, r.WeightDecay = true, 5e-5 })},
		{"train block first", "train { epochs 3 schedule step at=1,2 }\nmodel WRN-50-1-bottleneck",
			with(imagenet, func(r *ir.Recipe) { r.Epochs, r.Milestones = 3, []int{1, 2} })},
		{"resized_crop without flip", "model WRN-18-1 { family imagenet }\ntrain { augment resized_crop }",
			with(imagenet, func(r *ir.Recipe) { r.Flip = false })},
		{"imagenet with the cifar crop", "model WRN-18-1 { family imagenet input 3x64x64 }\ntrain { augment flip crop=4 }",
			with(imagenet, func(r *ir.Recipe) { r.ResizedCrop, r.Crop = false, 4 })},
		{"imagenet without augmentation", "model WRN-18-1 { family imagenet }\ntrain { augment none normalize scale seed 9 }",
			with(imagenet, func(r *ir.Recipe) { r.ResizedCrop, r.Flip, r.Normalize, r.Seed = false, false, "scale", 9 })},
		{"cifar with resized_crop", "model WRN-16-4\ntrain { augment resized_crop flip normalize imagenet }",
			with(cifar, func(r *ir.Recipe) { r.ResizedCrop, r.Crop, r.Normalize = true, 0, "imagenet" })},
		{"cifar with normalize imagenet", "model WRN-16-4\ntrain { normalize imagenet }",
			with(cifar, func(r *ir.Recipe) { r.Normalize = "imagenet" })},
		{"imagenet meanstd with the cifar crop", "model WRN-18-1 { family imagenet }\ntrain { augment flip crop=4 normalize meanstd }",
			with(imagenet, func(r *ir.Recipe) { r.ResizedCrop, r.Crop, r.Normalize = false, 4, "meanstd" })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := compiler.Compile("recipe.wrn", []byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, p.Recipe); diff != "" {
				t.Errorf("recipe of %q (-want +got):\n%s", tt.src, diff)
			}
		})
	}
}
