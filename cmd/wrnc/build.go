package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/wrnc/wrnc/codegen"
	wrnrt "github.com/wrnc/wrnc/runtime"
)

// runtimeDir is where a standalone build keeps its copy of the runtime module.
const runtimeDir = "wrnc"

// writePackage writes the generated files into dir and, for a standalone module, a go.mod
// and the runtime's source, so that `go build` there needs no network.
func writePackage(dir string, files []codegen.File, module bool) error {
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
	gomod := fmt.Sprintf("module wrnc.build/network\n\ngo 1.26\n\nrequire %s v0.0.0\n\nreplace %s => ./%s\n",
		wrnrt.Module, wrnrt.Module, runtimeDir)
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

// goBuild builds the module in dir into bin, offline and statically linked.
func goBuild(dir, bin string, stderr io.Writer) error {
	goCmd, err := goTool()
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	cmd := exec.Command(goCmd, "build", "-trimpath", "-o", abs, ".")
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(os.Environ()),
		"GOFLAGS=-mod=mod -buildvcs=false", "GOPROXY=off", "GOWORK=off", "GOTOOLCHAIN=local", "CGO_ENABLED=0")
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
		case "GOFLAGS", "GOPROXY", "GOWORK", "GOTOOLCHAIN", "CGO_ENABLED":
			continue
		}
		out = append(out, kv)
	}
	return out
}
