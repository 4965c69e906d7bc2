package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/wrnc/wrnc/codegen"
	"github.com/wrnc/wrnc/compiler"
	"github.com/wrnc/wrnc/runtime/contract"
)

func runInspect(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("inspect", "FILE.wrn [--json]", "Print the layer table, parameter and MAC counts of a network.", stdout)
	asJSON := fs.Bool("json", false, "print one JSON object instead of the table")
	tune := fs.String("tune", "", "the methods of `FILE` (wrnc tune) in place of the selection rules, as compile --tune")
	files, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(files) != 1 {
		return &usageError{fmt.Sprintf("want one .wrn file, got %d", len(files))}
	}
	p, err := loadTuned(files[0], *tune)
	if err != nil {
		return err
	}
	info := codegen.MakeInfo(p)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(info)
	}
	return writeTable(stdout, info)
}

// writeTable prints a summary for people: a header, one row per layer, totals, memory.
func writeTable(w io.Writer, info codegen.Info) error {
	s := info.Summary
	fmt.Fprintf(w, "%s (%s family), input %dx%dx%d, %d classes, batch %d, %s\n\n",
		s.Name, s.Family, s.Input[0], s.Input[1], s.Input[2], s.Classes, s.Batch, s.Precision)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "layer\top\toutput\tparams\tMACs\tmethods")
	for _, l := range s.Layers {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", l.Name, l.Op, shape(l.Shape), group(l.Params), group(l.MACs), methods(l))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\ntotal: %s trainable parameters (%.1fM), %s MACs per image (%.3f GMAC)\n",
		group(s.Params), float64(s.Params)/1e6, group(s.MACs), float64(s.MACs)/1e9)
	if len(info.Memory) == 0 {
		_, err := fmt.Fprintln(w, "memory plan: none (the network has no compiled phases)")
		return err
	}
	_, err := fmt.Fprintf(w, "memory plan (arena): training %s, inference at batch %d %s, inference at batch 1 %s, each including %s of transformed weights\n",
		mib(info.Memory["train"]), s.Batch, mib(info.Memory["infer"]), mib(info.Memory["infer1"]), mib(info.DerivedBytes))
	return err
}

func mib(bytes int64) string { return fmt.Sprintf("%.1f MiB", float64(bytes)/(1<<20)) }

func shape(dims []int) string {
	s := make([]string, len(dims))
	for i, d := range dims {
		s[i] = fmt.Sprint(d)
	}
	return strings.Join(s, "x")
}

// group writes n with thousands separators.
func group(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// methods is a layer's methods in a few words (`inspect --json` has them in full): per
// phase, each pass and its method; the SGD update, every trainable layer's, left out.
func methods(l compiler.Layer) string {
	short := map[string]string{"forward": "fwd", "loss": "loss", "dgrad": "dgrad", "wgrad": "wgrad",
		"backward": "bwd", "weights": "weights", "weights-dgrad": "weights-dgrad"}
	var parts []string
	for _, ph := range contract.Phases() {
		passes := l.Methods[ph.String()]
		var each []string
		for _, pass := range []string{"forward", "loss", "dgrad", "wgrad", "backward", "weights", "weights-dgrad"} {
			if sel, ok := passes[pass]; ok {
				m := string(sel.Method)
				if sel.Tile > 0 {
					m = fmt.Sprintf("wino%d", sel.Tile)
				}
				each = append(each, short[pass]+" "+m)
			}
		}
		if len(each) > 0 {
			parts = append(parts, ph.String()+": "+strings.Join(each, " "))
		}
	}
	return strings.Join(parts, "; ")
}
