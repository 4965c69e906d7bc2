package sim

import "fmt"

// Error is a load-time error: the PTX text is malformed or uses something
// outside the supported subset. It prints as "LINE: message".
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("%d: %s", e.Line, e.Msg) }

func errorf(line int, format string, args ...any) error {
	return &Error{Line: line, Msg: fmt.Sprintf(format, args...)}
}

// ExecError is a run-time error of one thread of a launch: an out-of-bounds
// or misaligned access, a shared-memory race, a barrier that not every thread
// reaches, and the like. Line is the PTX line of the faulting instruction.
type ExecError struct {
	Kernel string
	Line   int
	Block  Dim3
	Thread Dim3
	Msg    string
}

func (e *ExecError) Error() string {
	return fmt.Sprintf("kernel %s, line %d, block (%d,%d,%d), thread (%d,%d,%d): %s",
		e.Kernel, e.Line, e.Block.X, e.Block.Y, e.Block.Z, e.Thread.X, e.Thread.Y, e.Thread.Z, e.Msg)
}
