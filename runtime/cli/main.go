package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/wrnc/wrnc/runtime/model"
)

// Exit statuses of a generated binary.
const (
	ExitOK      = 0 // success
	ExitRefused = 1 // an input was refused, or the work failed
	ExitUsage   = 2 // a mistake on the command line
)

// Env is where a command writes: the program name used in messages, standard output
// (results) and standard error (progress and errors).
type Env struct {
	Prog           string
	Stdout, Stderr io.Writer
}

// Device is a compute device built into a binary besides the CPU: the PTX simulator
// ("sim") or an NVIDIA GPU ("cuda").
type Device struct {
	Name string
	// Available reports whether the device can run here (a GPU and its driver are
	// present); the default --device is the first available non-sim device, else cpu.
	Available func() bool
	// Open makes the network run on the device. The returned Net computes into the same
	// model.State as the CPU's and reports device failures through an Err() error method.
	Open func() (model.Net, io.Closer, error)
}

// Main runs the command line args (without the program name) of a generated binary
// for the compiled program prog, with the extra devices built into it, and returns its
// exit status; a generated main is
//
//	func main() { os.Exit(cli.Main(os.Args[1:], net{})) }
func Main(args []string, prog model.Program, devices ...Device) int {
	env := Env{Prog: filepath.Base(os.Args[0]), Stdout: os.Stdout, Stderr: os.Stderr}
	net, err := model.NewNet(prog)
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: %v\n", env.Prog, err)
		return 1
	}
	return Run(env, args, net, devices...)
}

// usageError is a mistake on the command line (exit status 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// errHelp reports that --help was asked for and its text printed.
var errHelp = errors.New("help")

// verb is one command of the binary. setup declares the verb's flags on c.fs and
// returns what runs once they are parsed.
type verb struct {
	name, synopsis, about string
	setup                 func(c *cmd) func() error
}

// verbs in the order usage lists them.
var verbs = []verb{
	{"info", "[--json]", infoAbout, runInfo},
	{"train", "--data DIR [--out RUN] [--epochs N] [--limit N] [--seed N] [--lr X] [--wd X] [--momentum X] [--nesterov B] [--gamma X] [--milestones E,...] [--device D] [--resume] [--init W] [--threads N]", trainAbout, runTrain},
	{"eval", "--weights W --data DIR [--device D] [--json] [--threads N]", evalAbout, runEval},
	{"predict", "--weights W IMAGE... | --weights W --npy X.npy --out Y.npy [--device D] [--threads N]", predictAbout, runPredict},
	{"bench", "[--device D] [--batch N] [--json] [--cpuprofile F] [--threads N]", benchAbout, runBench},
	{"export", "--weights W --onnx OUT.onnx", exportAbout, runExport},
	{"plot", "RUN... [--out F.svg|F.png]", plotAbout, runPlot},
}

// Run is Main with the output streams and program name given.
func Run(env Env, args []string, net model.Net, devices ...Device) int {
	if env.Prog == "" {
		env.Prog = "net"
	}
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, usage(env.Prog, net))
		return ExitUsage
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help":
		fmt.Fprint(env.Stdout, usage(env.Prog, net))
		return ExitOK
	case "help":
		if len(args) == 1 {
			fmt.Fprint(env.Stdout, usage(env.Prog, net))
			return ExitOK
		}
		name, args = args[1], []string{args[1], "--help"}
	}
	for i := range verbs {
		v := &verbs[i]
		if v.name != name {
			continue
		}
		c := &cmd{env: env, net: net, verb: v, devices: devices}
		err := c.parseAndRun(args[1:])
		var ue *usageError
		var st *stopped
		switch {
		case err == nil, errors.Is(err, errHelp):
			return ExitOK
		case errors.As(err, &st):
			fmt.Fprintf(env.Stderr, "%s %s: %v\n", env.Prog, v.name, err)
			return signalExit(st.sig)
		case errors.As(err, &ue):
			fmt.Fprintf(env.Stderr, "%s %s: %s\nRun '%s %s --help' for usage.\n", env.Prog, v.name, ue.msg, env.Prog, v.name)
			return ExitUsage
		default:
			fmt.Fprintf(env.Stderr, "%s %s: %v\n", env.Prog, v.name, err)
			return ExitRefused
		}
	}
	fmt.Fprintf(env.Stderr, "%s: unknown command %q\n\n%s", env.Prog, name, usage(env.Prog, net))
	return ExitUsage
}

// usage is the text of `PROG --help`.
func usage(prog string, net model.Net) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: the %s network, compiled by wrnc.\n\nUsage:\n", prog, net.Spec().Name)
	for _, v := range verbs {
		fmt.Fprintf(&b, "  %s %s %s\n", prog, v.name, v.synopsis)
	}
	fmt.Fprintf(&b, "\nRun '%s COMMAND --help' for a command's flags. Exit status: 0 success, 1 input refused or failure, 2 usage error, 130 / 143 training stopped by SIGINT / SIGTERM.\n", prog)
	return b.String()
}

// cmd is one run of a verb: its flags and where it writes.
type cmd struct {
	env     Env
	net     model.Net
	verb    *verb
	fs      *flag.FlagSet
	devices []Device

	positional []string // the arguments left after the flags

	// The flags every computing verb shares (declared by computeFlags).
	device  string
	threads int
}

// parseAndRun lets the verb declare its flags, parses args and runs it.
func (c *cmd) parseAndRun(args []string) error {
	c.fs = flag.NewFlagSet(c.env.Prog+" "+c.verb.name, flag.ContinueOnError)
	c.fs.SetOutput(io.Discard)
	c.fs.Usage = func() {}
	run := c.verb.setup(c)
	pos, err := ParseInterspersed(c.fs, args)
	if errors.Is(err, flag.ErrHelp) {
		c.printHelp()
		return errHelp
	}
	if err != nil {
		return &usageError{err.Error()}
	}
	return c.exec(pos, run)
}

// exec checks the shared flags and runs the verb with its positional arguments.
func (c *cmd) exec(pos []string, run func() error) error {
	c.positional = pos
	if c.threads < 0 {
		return usagef("--threads must be at least 1 (0 or leaving it out uses all %d cores), got %d", runtime.NumCPU(), c.threads)
	}
	if c.threads == 0 {
		c.threads = runtime.NumCPU()
	}
	var note string
	if c.threads, note = capThreads(c.threads); note != "" {
		fmt.Fprintf(c.env.Stderr, "note: %s\n", note)
	}
	closer, err := c.openDevice()
	if err != nil {
		return err
	}
	if closer != nil {
		defer closer.Close()
	}
	return run()
}

// openDevice switches c.net to the device --device names (or, when the flag was not
// given, to the first available GPU of the build).
func (c *cmd) openDevice() (io.Closer, error) {
	given := false
	c.fs.Visit(func(f *flag.Flag) { given = given || f.Name == "device" })
	if !given && c.device == "cpu" {
		for _, d := range c.devices {
			if d.Name != "sim" && d.Available != nil && d.Available() {
				c.device = d.Name
				break
			}
		}
	}
	if c.device == "" || c.device == "cpu" {
		return nil, nil
	}
	for _, d := range c.devices {
		if d.Name == c.device {
			net, closer, err := d.Open()
			if err != nil {
				return nil, fmt.Errorf("--device %s: %w", d.Name, err)
			}
			c.net = net
			return closer, nil
		}
	}
	switch c.device {
	case "cuda", "sim":
		return nil, fmt.Errorf("--device %s: this binary was built without the %s device (it has %s); rebuild it with 'wrnc compile --device %s'",
			c.device, c.device, c.deviceList(), c.device)
	}
	return nil, usagef("--device must be cpu, cuda or sim, got %q", c.device)
}

// deviceList names the devices of this build, e.g. "cpu, sim".
func (c *cmd) deviceList() string {
	names := []string{"cpu"}
	for _, d := range c.devices {
		names = append(names, d.Name)
	}
	return strings.Join(names, ", ")
}

// deviceErr is the failure of a device computation since the last check (always nil
// on the CPU).
func deviceErr(net model.Net) error {
	if e, ok := net.(interface{ Err() error }); ok {
		return e.Err()
	}
	return nil
}

// printHelp writes the verb's usage and flags to standard output.
func (c *cmd) printHelp() {
	w := c.env.Stdout
	fmt.Fprintf(w, "Usage: %s %s %s\n\n%s\n\nFlags:\n", c.env.Prog, c.verb.name, c.verb.synopsis, strings.TrimSpace(c.verb.about))
	c.fs.SetOutput(w)
	c.fs.PrintDefaults()
	c.fs.SetOutput(io.Discard)
}

// computeFlags declares --device and --threads.
func (c *cmd) computeFlags() {
	c.fs.StringVar(&c.device, "device", "cpu", "where to compute: "+c.deviceList()+" (the devices built into this binary)")
	c.fs.IntVar(&c.threads, "threads", 0, "CPU threads (default: all cores)")
}

// noArgs refuses positional arguments.
func (c *cmd) noArgs() error {
	if len(c.positional) > 0 {
		return usagef("unexpected argument %q", c.positional[0])
	}
	return nil
}
