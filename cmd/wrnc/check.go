package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/wrnc/wrnc/compiler"
	"github.com/wrnc/wrnc/compiler/ir"
	"github.com/wrnc/wrnc/runtime/contract"
)

// maxSource is the largest .wrn file wrnc reads.
const maxSource = 64 << 20

// load reads and compiles one .wrn file.
func load(path string) (*ir.Program, error) { return loadTuned(path, "") }

// loadTuned is load with the forward methods of the tune file at tunePath (wrnc tune)
// in place of the selection rules where it names a convolution; none when tunePath is
// empty.
func loadTuned(path, tunePath string) (*ir.Program, error) {
	var tune *contract.TuneFile
	if tunePath != "" {
		f, err := os.Open(tunePath)
		if err != nil {
			return nil, fmt.Errorf("wrnc: --tune: %w", err)
		}
		tune, err = contract.ReadTuneFile(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("wrnc: --tune %s: %w", tunePath, err)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("wrnc: %w", err)
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, maxSource+1))
	if err != nil {
		return nil, fmt.Errorf("wrnc: %s: %w", path, err)
	}
	if len(src) > maxSource {
		return nil, fmt.Errorf("%s:1:1: the file is larger than %d MiB; a .wrn file is a few lines", path, maxSource>>20)
	}
	return compiler.CompileTuned(path, src, tune)
}

func runCheck(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("check", "FILE.wrn...", "Check .wrn files and report every problem as FILE:LINE:COL: message.", stdout)
	files, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return &usageError{"no .wrn file given"}
	}
	var errs []error
	for _, path := range files {
		if _, err := load(path); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
