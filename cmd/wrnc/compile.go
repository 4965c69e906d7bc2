package main

import (
	"errors"
	"io"
)

func runCompile(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("compile", "FILE.wrn -o BIN [--device cpu|cuda|sim] [--emit DIR]",
		"Compile a network into a standalone binary.", stdout)
	fs.String("o", "", "the binary to write")
	fs.String("device", "cpu", "devices to build in: cpu, cuda or sim")
	fs.String("emit", "", "write the generated Go package to DIR and stop before building")
	files, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(files) != 1 {
		return &usageError{"want one .wrn file"}
	}
	if _, err := load(files[0]); err != nil {
		return err
	}
	return errors.New("wrnc compile: code generation is not implemented yet")
}
