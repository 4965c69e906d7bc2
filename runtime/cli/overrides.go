package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/wrnc/wrnc/runtime/model"
)

// metaOverrides is the checkpoint metadata key of the run-time overrides of the compiled
// recipe, a JSON object of flag name to value as given, and metaRecipe the recipe the run
// trains with (the compiled one with the overrides applied), as JSON.
const (
	metaOverrides = "overrides"
	metaRecipe    = "recipe"
)

// override is one flag of train that replaces a field of the compiled recipe.
type override struct {
	name, usage string
	apply       func(r *model.Recipe, v string) error
}

// overrides are train's flags that change the compiled recipe; --epochs is handled
// apart, since a resumed run may raise it.
var overrides = []override{
	{"seed", "`N`: the seed of initialisation, shuffling, augmentation and dropout (default: the recipe's)", func(r *model.Recipe, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("--seed must be an integer >= 0, got %q", v)
		}
		r.Seed = n
		return nil
	}},
	{"lr", "`X`: the initial learning rate (default: the recipe's)", func(r *model.Recipe, v string) error {
		return positive(&r.LR, "lr", v, false)
	}},
	{"wd", "`X`: the weight decay (default: the recipe's)", func(r *model.Recipe, v string) error {
		return positive(&r.WeightDecay, "wd", v, true)
	}},
	{"momentum", "`X` in [0, 1): SGD's momentum (default: the recipe's)", func(r *model.Recipe, v string) error {
		if err := positive(&r.Momentum, "momentum", v, true); err != nil {
			return err
		}
		if r.Momentum >= 1 {
			return fmt.Errorf("--momentum must be below 1, got %s", v)
		}
		return nil
	}},
	{"nesterov", "`true|false`: Nesterov momentum (default: the recipe's)", func(r *model.Recipe, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("--nesterov must be true or false, got %q", v)
		}
		r.Nesterov = b
		return nil
	}},
	{"gamma", "`X` in (0, 1]: the factor of the step schedule (default: the recipe's)", func(r *model.Recipe, v string) error {
		if err := positive(&r.Gamma, "gamma", v, false); err != nil {
			return err
		}
		if r.Gamma > 1 {
			return fmt.Errorf("--gamma must be at most 1, got %s", v)
		}
		return nil
	}},
	{"milestones", "`E1,E2,...`: the epochs after which the learning rate is multiplied by gamma, increasing (default: the recipe's)", func(r *model.Recipe, v string) error {
		var ms []int
		for s := range strings.SplitSeq(v, ",") {
			m, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || m < 1 || (len(ms) > 0 && m <= ms[len(ms)-1]) {
				return fmt.Errorf("--milestones must be increasing epochs >= 1 separated by commas, got %q", v)
			}
			ms = append(ms, m)
		}
		r.Milestones = ms
		return nil
	}},
}

// positive parses a finite number > 0 (or >= 0 with zero) into dst.
func positive(dst *float64, name, v string, zero bool) error {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || (f == 0 && !zero) {
		want := "a number > 0"
		if zero {
			want = "a number >= 0"
		}
		return fmt.Errorf("--%s must be %s, got %q", name, want, v)
	}
	*dst = f
	return nil
}

// declareOverrides adds the override flags to fs; set reports which were given, with
// their values.
func declareOverrides(fs *flag.FlagSet) (set func() map[string]string) {
	for _, o := range overrides {
		fs.String(o.name, "", o.usage)
	}
	return func() map[string]string {
		got := map[string]string{}
		fs.Visit(func(f *flag.Flag) {
			if slices.ContainsFunc(overrides, func(o override) bool { return o.name == f.Name }) {
				got[f.Name] = f.Value.String()
			}
		})
		return got
	}
}

// applyOverrides returns r with the overrides given applied, checked together.
func applyOverrides(r model.Recipe, given map[string]string) (model.Recipe, error) {
	r.Milestones = slices.Clone(r.Milestones)
	for _, o := range overrides {
		if v, ok := given[o.name]; ok {
			if err := o.apply(&r, v); err != nil {
				return r, usagef("%v", err)
			}
		}
	}
	if r.Nesterov && (r.Momentum <= 0 || r.Dampening != 0) {
		return r, usagef("Nesterov momentum needs momentum > 0 and dampening 0 (momentum %g, dampening %g), as torch.optim.SGD does", r.Momentum, r.Dampening)
	}
	return r, nil
}

// checkResumeOverrides refuses a resumed run whose overrides differ from those the run
// was started with (recorded in its checkpoint's metadata), and returns the recorded
// ones, which the resumed run keeps.
func checkResumeOverrides(path string, meta map[string]string, given map[string]string) (map[string]string, error) {
	recorded := map[string]string{}
	if s, ok := meta[metaOverrides]; ok && s != "" {
		if err := json.Unmarshal([]byte(s), &recorded); err != nil {
			return nil, fmt.Errorf("%s: its metadata %q is not a JSON object of flags: %v", path, metaOverrides, err)
		}
	}
	for _, o := range overrides {
		v, ok := given[o.name]
		if !ok {
			continue
		}
		was, had := recorded[o.name]
		switch {
		case !had:
			return nil, fmt.Errorf("--resume: the run in %s was started without --%s (the compiled recipe's value); a resumed run keeps its recipe, so drop --%s %s, or start a new run with --out",
				path, o.name, o.name, v)
		case !sameValue(o.name, was, v):
			return nil, fmt.Errorf("--resume: the run in %s was started with --%s %s; a resumed run keeps its recipe, so drop --%s %s (or give --%s %s), or start a new run with --out",
				path, o.name, was, o.name, v, o.name, was)
		}
	}
	return recorded, nil
}

// sameValue compares two values of an override flag as the values they mean.
func sameValue(name, a, b string) bool {
	var ra, rb model.Recipe
	given := func(v string) map[string]string { return map[string]string{name: v} }
	ra, ea := applyOverrides(ra, given(a))
	rb, eb := applyOverrides(rb, given(b))
	if ea != nil || eb != nil {
		return a == b
	}
	ja, _ := json.Marshal(ra)
	jb, _ := json.Marshal(rb)
	return string(ja) == string(jb)
}

// overridesMeta is the metadata of a run's overrides and recipe.
func overridesMeta(given map[string]string, r model.Recipe) map[string]string {
	m := map[string]string{}
	if len(given) > 0 {
		b, _ := json.Marshal(given) // sorted keys
		m[metaOverrides] = string(b)
	}
	if b, err := json.Marshal(r); err == nil {
		m[metaRecipe] = string(b)
	}
	return m
}

// overridesString is the overrides as flags, in a stable order, for messages.
func overridesString(given map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(given)) {
		parts = append(parts, "--"+k+" "+given[k])
	}
	return strings.Join(parts, " ")
}
