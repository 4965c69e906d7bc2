package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/wrnc/wrnc/codegen"
)

func runCompile(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("compile", "FILE.wrn -o BIN [--device cpu|cuda|sim] [--emit DIR]",
		`Compile a network into one standalone binary that trains, evaluates, predicts and
benchmarks it. Building needs the Go toolchain (go 1.26) but no network: the runtime
travels inside wrnc. With --emit, write the generated package (a Go module with its
runtime) to DIR and stop before building.`, stdout)
	out := fs.String("o", "", "the binary to write (default: the network's name in the current folder)")
	device := fs.String("device", "cpu", "devices to build in: cpu, sim (the GPU code on the PTX simulator) or cuda (an NVIDIA GPU, and sim)")
	cudaDir := fs.String("cuda", "", "with --device cuda: the CUDA folder (include/cuda.h, lib64/stubs/libcuda.so); default $CUDA_HOME, else /usr/local/cuda")
	emit := fs.String("emit", "", "write the generated package to DIR and stop before building")
	packageOnly := fs.Bool("package-only", false, "with --emit: write only the generated Go files (for go generate inside the wrnc module)")
	files, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(files) != 1 {
		return &usageError{fmt.Sprintf("want one .wrn file, got %d", len(files))}
	}
	var devices []string
	switch *device {
	case "cpu":
	case "sim":
		devices = []string{"sim"}
	case "cuda":
		devices = []string{"cuda", "sim"}
	default:
		return &usageError{fmt.Sprintf("--device must be cpu, cuda or sim, got %q", *device)}
	}
	if *packageOnly && *emit == "" {
		return &usageError{"--package-only needs --emit DIR"}
	}
	p, err := load(files[0])
	if err != nil {
		return err
	}
	gofiles, err := codegen.Go(p, filepath.Base(files[0]), devices...)
	if err != nil {
		return fmt.Errorf("wrnc compile: %w", err)
	}
	var cuda string
	if *device == "cuda" && (*emit == "" || !*packageOnly) {
		if cuda, err = findCUDA(*cudaDir); err != nil {
			return err
		}
	}
	if *emit != "" {
		if err := writePackage(*emit, gofiles, !*packageOnly, cuda != ""); err != nil {
			return fmt.Errorf("wrnc compile: %w", err)
		}
		fmt.Fprintf(stderr, "wrote the package of %s to %s\n", p.Name, *emit)
		return nil
	}
	bin := *out
	if bin == "" {
		bin = strings.ToLower(strings.NewReplacer("(", "", ")", "", ",", "-").Replace(p.Name))
	}
	dir, err := os.MkdirTemp("", "wrnc-build-")
	if err != nil {
		return fmt.Errorf("wrnc compile: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := writePackage(dir, gofiles, true, cuda != ""); err != nil {
		return fmt.Errorf("wrnc compile: %w", err)
	}
	fmt.Fprintf(stderr, "compiling %s to %s (devices: cpu", p.Name, bin)
	for _, d := range devices {
		fmt.Fprintf(stderr, ", %s", d)
	}
	fmt.Fprintln(stderr, ")")
	return goBuild(dir, bin, cuda, stderr)
}
