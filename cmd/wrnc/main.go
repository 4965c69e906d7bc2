// Command wrnc compiles Wide Residual Networks described in .wrn files into standalone
// binaries that train, evaluate, run and benchmark them.
//
//	wrnc compile FILE.wrn -o BIN [--device cpu|cuda|sim] [--emit DIR]
//	wrnc check FILE.wrn...
//	wrnc inspect FILE.wrn [--json]
//	wrnc tune FILE.wrn [-o FILE.tune.json]
//
// Exit status: 0 on success, 1 when an input is refused, 2 on a usage error.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
)

const usage = `wrnc compiles Wide Residual Networks described in .wrn files.

Usage:
  wrnc compile FILE.wrn -o BIN [--device cpu|cuda|sim] [--emit DIR]   build one binary (or only write its sources;
                                                                       --tune F: the methods wrnc tune measured)
  wrnc check FILE.wrn...                                               report errors, nothing else
  wrnc inspect FILE.wrn [--json] [--tune F]                            layer table, params, MACs, methods, memory plan
  wrnc tune FILE.wrn [-o FILE.tune.json]                               measure the convolution methods on this machine

Run 'wrnc COMMAND --help' for a command's flags. Exit status: 0 success, 1 input refused, 2 usage error.
`

// Exit statuses.
const (
	exitOK      = 0
	exitRefused = 1
	exitUsage   = 2
)

// usageError is a mistake on the command line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

type command struct {
	name string
	run  func(args []string, stdout, stderr io.Writer) error
}

var commands = []command{
	{"compile", runCompile},
	{"check", runCheck},
	{"inspect", runInspect},
	{"tune", runTune},
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := c.run(args[1:], stdout, stderr)
		var ue *usageError
		switch {
		case err == nil:
			return exitOK
		case errors.Is(err, errHelp):
			return exitOK
		case errors.As(err, &ue):
			fmt.Fprintf(stderr, "wrnc %s: %s\nRun 'wrnc %s --help' for usage.\n", c.name, ue.msg, c.name)
			return exitUsage
		default:
			fmt.Fprintln(stderr, err)
			return exitRefused
		}
	}
	fmt.Fprintf(stderr, "wrnc: unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}
