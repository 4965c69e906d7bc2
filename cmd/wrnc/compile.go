package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/wrnc/wrnc/codegen"
	"github.com/wrnc/wrnc/compiler/ir"
	"github.com/wrnc/wrnc/runtime/sysmem"
)

func runCompile(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("compile", "FILE.wrn -o BIN [--device cpu|cuda|sim] [--dist mpi] [--emit DIR]",
		`Compile a network into one standalone binary that trains, evaluates, predicts and
benchmarks it. Building needs the Go toolchain (go 1.26) but no network: the runtime
travels inside wrnc. With --emit, write the generated package (a Go module with its
runtime) to DIR and stop before building.`, stdout)
	out := fs.String("o", "", "the binary to write (default: the network's name in the current folder)")
	device := fs.String("device", "cpu", "devices to build in: cpu, sim (the GPU code on the PTX simulator) or cuda (an NVIDIA GPU, and sim)")
	cudaDir := fs.String("cuda", "", "with --device cuda: the CUDA folder (include/cuda.h, lib64/stubs/libcuda.so); default $CUDA_HOME, else /usr/local/cuda")
	distFlag := fs.String("dist", "", "with mpi: link the MPI library (cgo) so that train runs data-parallel under mpirun, one process per rank (needs MPI's headers, e.g. apt-get install openmpi-bin libopenmpi-dev)")
	emit := fs.String("emit", "", "write the generated package to DIR and stop before building")
	maxMem := fs.String("max-memory", "", "refuse a network whose training needs more than `SIZE` (weights, gradients, momentum and the largest arena; e.g. 16GiB, 500MiB; default: this machine's memory)")
	tune := fs.String("tune", "", "take the forward methods `FILE` (written by wrnc tune on the machine the binary will run on) records in place of the selection rules")
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
	switch *distFlag {
	case "", "mpi":
	default:
		return &usageError{fmt.Sprintf("--dist must be mpi, got %q", *distFlag)}
	}
	if *packageOnly && *emit == "" {
		return &usageError{"--package-only needs --emit DIR"}
	}
	limit := machineMemory()
	if *maxMem != "" {
		if limit, err = parseSize(*maxMem); err != nil {
			return &usageError{fmt.Sprintf("--max-memory: %v", err)}
		}
	}
	p, err := loadTuned(files[0], *tune)
	if err != nil {
		return err
	}
	if err := checkMemory(p, files[0], limit); err != nil {
		return err
	}
	gofiles, err := codegen.Go(p, filepath.Base(files[0]), devices...)
	if err != nil {
		return fmt.Errorf("wrnc compile: %w", err)
	}
	if *emit != "" {
		// Writing the package needs no CUDA folder; building it does.
		if err := writePackage(*emit, gofiles, !*packageOnly, *device == "cuda"); err != nil {
			return fmt.Errorf("wrnc compile: %w", err)
		}
		fmt.Fprintf(stderr, "wrote the package of %s to %s\n", p.Name, *emit)
		return nil
	}
	var cuda string
	if *device == "cuda" {
		if cuda, err = findCUDA(*cudaDir); err != nil {
			return err
		}
	}
	var mpi *mpiFlags
	if *distFlag == "mpi" {
		if mpi, err = findMPI(); err != nil {
			return err
		}
	}
	name := strings.ToLower(strings.NewReplacer("(", "", ")", "", ",", "-").Replace(p.Name))
	bin, err := outputPath(*out, name)
	if err != nil {
		return err
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
	if mpi != nil {
		fmt.Fprint(stderr, "; with MPI")
	}
	fmt.Fprintln(stderr, ")")
	return goBuild(dir, bin, cuda, mpi, stderr)
}

// outputPath is where the binary goes: out, or name in the current folder when out is
// empty, or name inside out when out is a folder. It refuses, before anything is built, a
// path that cannot take a binary: an existing file that is not an executable (a binary
// is replaced, anything else is kept), or a folder that does not exist or cannot be
// written.
func outputPath(out, name string) (string, error) {
	if out == "" {
		out = name
	}
	if st, err := os.Stat(out); err == nil && st.IsDir() {
		out = filepath.Join(out, name)
	}
	if st, err := os.Stat(out); err == nil {
		switch {
		case st.IsDir():
			return "", fmt.Errorf("wrnc compile: -o %s: is a folder", out)
		case !st.Mode().IsRegular():
			return "", fmt.Errorf("wrnc compile: -o %s: exists and is not a regular file", out)
		case !isExecutable(out):
			return "", fmt.Errorf("wrnc compile: -o %s: exists and is not a program; remove it or choose another name (an existing binary is replaced, other files are kept)", out)
		}
	}
	dir := filepath.Dir(out)
	if st, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("wrnc compile: -o %s: the folder %s does not exist", out, dir)
	} else if !st.IsDir() {
		return "", fmt.Errorf("wrnc compile: -o %s: %s is not a folder", out, dir)
	}
	probe, err := os.CreateTemp(dir, ".wrnc-probe-*")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return "", fmt.Errorf("wrnc compile: -o %s: cannot write in %s: %v", out, dir, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	return out, nil
}

// isExecutable says whether path starts like an ELF, Mach-O or PE binary, or a script.
func isExecutable(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var b [4]byte
	n, _ := io.ReadFull(f, b[:])
	h := string(b[:n])
	return h == "\x7fELF" || strings.HasPrefix(h, "MZ") || strings.HasPrefix(h, "#!") ||
		h == "\xcf\xfa\xed\xfe" || h == "\xfe\xed\xfa\xcf"
}

// trainingBytes is what a binary of p allocates to train: the trainable parameters three
// times (weights, gradients, momentum), the running statistics and the largest phase's arena.
func trainingBytes(p *ir.Program) (params, arena int64) {
	for _, q := range p.Params {
		if q.Trainable() {
			params += 3 * int64(q.Size())
		} else {
			params += int64(q.Size())
		}
	}
	for _, ph := range p.Phases {
		arena = max(arena, int64(ph.Peak))
	}
	return 4 * params, 4 * arena
}

// fallbackMemory is the limit when this machine's memory cannot be read (no /proc/meminfo).
const fallbackMemory = 64 << 30

// machineMemory is the default of --max-memory: this machine's memory.
func machineMemory() int64 {
	if total, ok := sysmem.Total(); ok && total > 0 {
		return total
	}
	return fallbackMemory
}

// checkMemory refuses a network whose training needs more than limit bytes, naming the sizes.
func checkMemory(p *ir.Program, file string, limit int64) error {
	params, arena := trainingBytes(p)
	if params+arena <= limit {
		return nil
	}
	return fmt.Errorf("%s: %s needs %s to train (%s of weights, gradients, momentum and statistics; an arena of %s at batch %d), more than --max-memory %s; make it smaller (width, depth, batch, input) or raise --max-memory",
		file, p.Name, sysmem.Bytes(params+arena), sysmem.Bytes(params), sysmem.Bytes(arena), p.Batch, sysmem.Bytes(limit))
}

// parseSize reads a byte count: a number with an optional unit B, KiB, MiB, GiB, TiB (or
// KB, MB, GB, TB, also powers of 1024, as memory sizes are).
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"TB", 1 << 40}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"T", 1 << 40}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(strings.ToUpper(t), strings.ToUpper(u.suffix)) {
			t, mult = strings.TrimSpace(t[:len(t)-len(u.suffix)]), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v <= 0 || math.IsInf(v, 0) || v*float64(mult) > 1<<62 {
		return 0, fmt.Errorf("want a positive size such as 16GiB or 500MiB, got %q", s)
	}
	return int64(v * float64(mult)), nil
}
