package codegen_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/wrnc/wrnc/codegen"
	"github.com/wrnc/wrnc/compiler"
)

// TestSpecRecipe checks that the recipe reaches the generated spec: `augment resized_crop`
// as ResizedCrop: true (written only when set, so that the specs of other recipes stay as
// they were) and `normalize imagenet`.
func TestSpecRecipe(t *testing.T) {
	for _, tc := range []struct {
		train      string
		want, nots []string
	}{
		{"augment resized_crop flip normalize imagenet", []string{"ResizedCrop: true", `Normalize:   "imagenet"`, "Flip:        true", "Crop:        0"}, nil},
		{"augment resized_crop normalize scale", []string{"ResizedCrop: true", "Flip:        false"}, nil},
		{"augment flip crop=4", []string{"Crop:        4"}, []string{"ResizedCrop"}},
	} {
		p, err := compiler.Compile("r.wrn", []byte("model WRN-10-1 { input 3x16x16 batch 2 }\ntrain { "+tc.train+" }"))
		if err != nil {
			t.Fatal(err)
		}
		files, err := codegen.Go(p, "r.wrn")
		if err != nil {
			t.Fatal(err)
		}
		var spec bytes.Buffer
		for _, f := range files {
			if f.Name == "spec.go" {
				if err := f.Code.Render(&spec); err != nil {
					t.Fatal(err)
				}
			}
		}
		i := strings.Index(spec.String(), "Recipe: model.Recipe{")
		if i < 0 {
			t.Fatalf("%s: no recipe in spec.go", tc.train)
		}
		recipe := spec.String()[i:]
		recipe = recipe[:strings.Index(recipe, "Seed:")] // the fields are sorted
		for _, w := range tc.want {
			if !strings.Contains(recipe, w) {
				t.Errorf("%s: the recipe lacks %q:\n%s", tc.train, w, recipe)
			}
		}
		for _, w := range tc.nots {
			if strings.Contains(recipe, w) {
				t.Errorf("%s: the recipe has %q:\n%s", tc.train, w, recipe)
			}
		}
	}
}
