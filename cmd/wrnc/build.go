package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/wrnc/wrnc/codegen"
	wrnrt "github.com/wrnc/wrnc/runtime"
)

// runtimeDir is where a standalone build keeps its copy of the runtime module.
const runtimeDir = "wrnc"

// writePackage writes the generated files into dir and, for a standalone module, a go.mod
// and the runtime's source. The modules the runtime requires (runtime.Requires, and
// gorgonia.org/cu for cuda) come from the module cache, where building wrnc put them, or
// else from the module proxy.
func writePackage(dir string, files []codegen.File, module, cuda bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range files {
		data := f.Raw
		if f.Code != nil {
			var b bytes.Buffer
			if err := f.Code.Render(&b); err != nil {
				return fmt.Errorf("rendering %s: %w", f.Name, err)
			}
			data = b.Bytes()
		}
		if err := os.WriteFile(filepath.Join(dir, f.Name), data, 0o644); err != nil {
			return err
		}
	}
	if !module {
		return nil
	}
	requires := append([]string{wrnrt.Module + " v0.0.0"}, wrnrt.Requires...)
	if cuda {
		requires = append(requires, wrnrt.CUDAModule)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), wrnrt.ModuleSum, 0o644); err != nil {
		return err
	}
	gomod := fmt.Sprintf("module wrnc.build/network\n\ngo 1.26\n\nrequire (\n\t%s\n)\n\nreplace %s => ./%s\n",
		strings.Join(requires, "\n\t"), wrnrt.Module, runtimeDir)
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		return err
	}
	rt := filepath.Join(dir, runtimeDir)
	if err := os.MkdirAll(rt, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(rt, "go.mod"), []byte("module "+wrnrt.Module+"\n\ngo 1.26\n"), 0o644); err != nil {
		return err
	}
	return wrnrt.Files(func(name string, data []byte) error {
		path := filepath.Join(rt, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		return os.WriteFile(path, data, 0o644)
	})
}

// goTool finds the go command: $GOROOT/bin/go, then PATH, then /usr/local/go/bin/go.
func goTool() (string, error) {
	var candidates []string
	if root := os.Getenv("GOROOT"); root != "" {
		candidates = append(candidates, filepath.Join(root, "bin", "go"))
	}
	if p, err := exec.LookPath("go"); err == nil {
		candidates = append(candidates, p)
	}
	candidates = append(candidates, filepath.Join(runtime.GOROOT(), "bin", "go"), "/usr/local/go/bin/go")
	for _, c := range candidates {
		if fi, err := os.Stat(c); err == nil && !fi.IsDir() {
			return c, nil
		}
	}
	return "", fmt.Errorf("wrnc compile: the Go toolchain (go 1.26 or later) is needed to build a binary and was not found; install it or add it to PATH, or use --emit DIR to write the sources only")
}

// findCUDA finds the CUDA folder of a cuda build: dir, else $CUDA_HOME, else
// /usr/local/cuda, in the toolkit's layout.
func findCUDA(dir string) (string, error) {
	from := "--cuda"
	if dir == "" {
		dir, from = os.Getenv("CUDA_HOME"), "$CUDA_HOME"
	}
	if dir == "" {
		dir, from = "/usr/local/cuda", "the default"
	}
	for _, need := range []string{"include/cuda.h", "lib64/stubs/libcuda.so"} {
		if _, err := os.Stat(filepath.Join(dir, need)); err != nil {
			return "", fmt.Errorf("wrnc compile --device cuda: %s (%s) is not a CUDA folder: it lacks %s; pass --cuda DIR, or make one with .ci/cuda-setup DIR", dir, from, need)
		}
	}
	return filepath.Abs(dir)
}

// mpiFlags are the C compiler and linker flags of an MPI library, for a build with
// --dist mpi.
type mpiFlags struct {
	cflags, ldflags string
}

// findMPI finds the flags of the MPI C library: pkg-config's ompi-c (Open MPI), then
// mpich, then what mpicc says (Open MPI's --showme, MPICH's -compile_info), and checks
// that they compile a program including mpi.h.
func findMPI() (*mpiFlags, error) {
	const install = "install MPI and its headers (Debian/Ubuntu: apt-get install openmpi-bin libopenmpi-dev), or put its mpicc on PATH"
	var f *mpiFlags
	for _, pc := range []string{"ompi-c", "mpich"} {
		c, err1 := exec.Command("pkg-config", "--cflags", pc).Output()
		l, err2 := exec.Command("pkg-config", "--libs", pc).Output()
		if err1 == nil && err2 == nil {
			f = &mpiFlags{strings.TrimSpace(string(c)), strings.TrimSpace(string(l))}
			break
		}
	}
	if f == nil {
		c, err1 := exec.Command("mpicc", "--showme:compile").Output()
		l, err2 := exec.Command("mpicc", "--showme:link").Output()
		if err1 == nil && err2 == nil {
			f = &mpiFlags{strings.TrimSpace(string(c)), strings.TrimSpace(string(l))}
		}
	}
	if f == nil {
		return nil, fmt.Errorf("wrnc compile --dist mpi: no MPI library was found (neither pkg-config ompi-c or mpich, nor mpicc); %s", install)
	}
	if !hasMPIHeader(f.cflags) {
		return nil, fmt.Errorf("wrnc compile --dist mpi: the MPI headers (mpi.h) were not found in the include folders %q; %s", f.cflags, install)
	}
	return f, nil
}

// hasMPIHeader reports whether mpi.h is in one of the -I folders of cflags, or in the
// system's include folders.
func hasMPIHeader(cflags string) bool {
	dirs := []string{"/usr/include", "/usr/local/include"}
	for _, f := range strings.Fields(cflags) {
		if d, ok := strings.CutPrefix(f, "-I"); ok {
			dirs = append(dirs, d)
		}
	}
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "mpi.h")); err == nil {
			return true
		}
	}
	return false
}

// goBuild builds the module in dir into bin: offline and statically linked, or, with a
// CUDA folder, with cgo against its headers and driver stub (and the module proxy, if
// gorgonia.org/cu is not in the module cache yet); with mpi, with cgo against the MPI
// library too (the mpi build tag, runtime/dist).
func goBuild(dir, bin, cuda string, mpi *mpiFlags, stderr io.Writer) error {
	goCmd, err := goTool()
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	args := []string{"build", "-trimpath", "-o", abs}
	env := append(cleanEnv(os.Environ()), "GOFLAGS=-mod=mod -buildvcs=false", "GOWORK=off", "GOTOOLCHAIN=local")
	if cached(goCmd, cuda != "") {
		env = append(env, "GOPROXY=off")
	} else if p := os.Getenv("GOPROXY"); p != "" {
		env = append(env, "GOPROXY="+p)
	}
	var tags, cflags, ldflags []string
	if cuda != "" {
		tags = append(tags, "cuda")
		cflags = append(cflags, "-I"+filepath.Join(cuda, "include"))
		ldflags = append(ldflags, "-L"+filepath.Join(cuda, "lib64", "stubs"), "-L"+filepath.Join(cuda, "lib64"))
	}
	if mpi != nil {
		tags = append(tags, "mpi")
		cflags = append(cflags, mpi.cflags)
		ldflags = append(ldflags, mpi.ldflags)
	}
	if len(tags) == 0 {
		env = append(env, "CGO_ENABLED=0")
	} else {
		args = append(args, "-tags", strings.Join(tags, ","))
		env = append(env, "CGO_ENABLED=1", "CGO_CFLAGS="+strings.Join(cflags, " "), "CGO_LDFLAGS="+strings.Join(ldflags, " "))
	}
	cmd := exec.Command(goCmd, append(args, ".")...)
	cmd.Dir = dir
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("wrnc compile: go build failed (this is a bug in wrnc; please report it with the .wrn file):\n%s%w", out.String(), err)
	}
	return nil
}

// cleanEnv drops the variables that would change how the build module resolves.
func cleanEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		switch strings.SplitN(kv, "=", 2)[0] {
		case "GOFLAGS", "GOPROXY", "GOWORK", "GOTOOLCHAIN", "CGO_ENABLED", "CGO_CFLAGS", "CGO_LDFLAGS":
			continue
		}
		out = append(out, kv)
	}
	return out
}

// cached reports whether the module cache holds every module a build requires, so that
// it can run offline.
func cached(goCmd string, cuda bool) bool {
	out, err := exec.Command(goCmd, "env", "GOMODCACHE").Output()
	if err != nil {
		return false
	}
	mods := wrnrt.Requires
	if cuda {
		mods = append(slices.Clip(mods), wrnrt.CUDAModule)
	}
	for _, m := range mods {
		path, version, _ := strings.Cut(m, " ")
		zip := filepath.Join(strings.TrimSpace(string(out)), "cache", "download", filepath.FromSlash(path), "@v", version+".zip")
		if _, err := os.Stat(zip); err != nil {
			return false
		}
	}
	return true
}
