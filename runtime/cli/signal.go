package cli

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
)

// Exit statuses of a run stopped by a signal, as a shell reports them.
const (
	ExitInterrupt = 130 // SIGINT
	ExitTerminate = 143 // SIGTERM
)

// interrupt watches for SIGINT and SIGTERM while training: the first asks the run to
// stop at the next point where nothing is being written (a training step's end, or after
// the checkpoint being written), the second exits at once (an interrupted write leaves
// only a temporary file, which the next run removes).
type interrupt struct {
	got  atomic.Value // os.Signal, once one came
	ch   chan os.Signal
	done chan struct{}
}

func watchSignals(warn io.Writer) *interrupt {
	in := &interrupt{ch: make(chan os.Signal, 2), done: make(chan struct{})}
	signal.Notify(in.ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		for {
			select {
			case <-in.done:
				return
			case s := <-in.ch:
				if in.got.Load() == nil {
					in.got.Store(s)
					fmt.Fprintf(warn, "\n%s: stopping at the end of this step, after any checkpoint being written (send it again to quit at once)\n", signalName(s))
					continue
				}
				fmt.Fprintf(warn, "\n%s again: quitting at once; the last checkpoint written is kept\n", signalName(s))
				os.Exit(signalExit(s))
			}
		}
	}()
	return in
}

// stop ends the watch.
func (in *interrupt) stop() {
	signal.Stop(in.ch)
	close(in.done)
}

// check returns a *stopped error once a signal came; what says what was kept.
func (in *interrupt) check(what string) error {
	if in == nil {
		return nil
	}
	if s, ok := in.got.Load().(os.Signal); ok {
		return &stopped{sig: s, msg: what}
	}
	return nil
}

// stopped is a run ended by a signal.
type stopped struct {
	sig os.Signal
	msg string
}

func (e *stopped) Error() string { return fmt.Sprintf("%s: %s", signalName(e.sig), e.msg) }

func signalName(s os.Signal) string {
	if s == syscall.SIGTERM {
		return "SIGTERM"
	}
	return "SIGINT"
}

func signalExit(s os.Signal) int {
	if s == syscall.SIGTERM {
		return ExitTerminate
	}
	return ExitInterrupt
}
