package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/wrnc/wrnc/runtime/cli"
)

// errHelp reports that --help was asked for and printed.
var errHelp = errors.New("help")

// newFlags makes the flag set of a command whose usage line and description are given.
func newFlags(name, synopsis, about string, stdout io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("wrnc "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(stdout, "Usage: wrnc %s %s\n\n%s\n", name, synopsis, about)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// parse parses args, turning --help into errHelp (the flag package has printed the usage) and every other
// problem into a usage error.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	pos, err := cli.ParseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil, errHelp
	}
	if err != nil {
		return nil, &usageError{err.Error()}
	}
	return pos, nil
}
