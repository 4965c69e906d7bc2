// Package cli is the command line of wrnc's generated binaries (train, eval, predict, bench,
// export, info, plot) and the flag handling that wrnc itself shares with them.
package cli

import "flag"

// ParseInterspersed parses args with fs, allowing flags before, between and after the
// positional arguments (`inspect FILE --json` as well as `inspect --json FILE`); `--` ends
// the flags. It returns the positional arguments in order.
func ParseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
