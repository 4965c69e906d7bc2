// Package progress reports the progress of long work: a progress bar (or, when
// the output is not a terminal, a periodic plain line) and an append-only log
// of JSON records that survives crashes.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Field is an extra value shown after the counters, such as {"loss", "0.512"}.
type Field struct {
	Key   string
	Value string
}

const (
	// termInterval is the shortest time between two redraws on a terminal.
	termInterval = 100 * time.Millisecond
	// defaultInterval is the time between two plain lines.
	defaultInterval = 10 * time.Second
	// barWidth is the number of cells of the bar itself.
	barWidth = 20
)

// Bar reports the progress of one phase (such as "epoch 3/200 train") over a
// total number of units (images).
//
// On a terminal (out is an *os.File that is a character device) it redraws
// one line in place with \r, at most 10 times a second:
//
//	epoch 3/200 train [#####---------------] 12800/50000  2345 img/s  ETA 0:00:15  loss 0.512  err 12.3%
//
// Elsewhere (a file, a pipe) it writes a plain line at most once per interval
// (10 s unless SetInterval says otherwise) and never a \r:
//
//	epoch 3/200 train 12800/50000 (25.6%)  2345 img/s  ETA 0:00:15  loss 0.512  err 12.3%
//
// Finish writes the final line, with the elapsed time in place of the ETA,
// and a newline. The rate is the average since NewBar. A total of 0 or less
// means the total is unknown: no bar, percentage or ETA. Write errors on out
// are ignored: progress output is best effort. A Bar may be used from several
// goroutines.
type Bar struct {
	mu       sync.Mutex
	out      io.Writer
	label    string
	total    int
	done     int
	fields   []Field
	term     bool
	now      func() time.Time
	start    time.Time
	last     time.Time // when the last line was written
	drawn    bool      // whether a terminal line has been drawn
	width    int       // length in runes of the last terminal line
	interval time.Duration
	finished bool
}

// NewBar starts a bar for label over total units, writing to out.
func NewBar(out io.Writer, label string, total int) *Bar {
	return newBar(out, label, total, time.Now)
}

// newBar is NewBar with a clock, for tests.
func newBar(out io.Writer, label string, total int, now func() time.Time) *Bar {
	t := now()
	return &Bar{out: out, label: label, total: total, term: isTerminal(out), now: now,
		start: t, last: t, interval: defaultInterval}
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// SetInterval sets the time between two plain lines when out is not a
// terminal; d <= 0 restores the default of 10 s.
func (b *Bar) SetInterval(d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if d <= 0 {
		d = defaultInterval
	}
	b.interval = d
}

// Add counts n more units done. Fields, when given, replace the extra fields
// shown; without fields the previous ones stay. Add after Finish does nothing.
func (b *Bar) Add(n int, fields ...Field) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finished {
		return
	}
	b.done = max(0, b.done+n)
	if len(fields) > 0 {
		b.fields = append(b.fields[:0], fields...)
	}
	t := b.now()
	elapsed := t.Sub(b.start)
	switch {
	case b.term && (!b.drawn || t.Sub(b.last) >= termInterval):
		b.drawTerm(b.line(elapsed, false))
	case !b.term && t.Sub(b.last) >= b.interval:
		io.WriteString(b.out, b.line(elapsed, false)+"\n")
	default:
		return
	}
	b.last = t
}

// Finish writes the final line and a newline. Fields, when given, replace the
// extra fields shown. Only the first call does anything.
func (b *Bar) Finish(fields ...Field) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finished {
		return
	}
	b.finished = true
	if len(fields) > 0 {
		b.fields = append(b.fields[:0], fields...)
	}
	line := b.line(b.now().Sub(b.start), true)
	if b.term {
		b.drawTerm(line)
		io.WriteString(b.out, "\n")
		return
	}
	io.WriteString(b.out, line+"\n")
}

// drawTerm redraws the terminal line, blanking what is left of a longer
// previous one.
func (b *Bar) drawTerm(line string) {
	n := utf8.RuneCountInString(line)
	pad := max(0, b.width-n)
	io.WriteString(b.out, "\r"+line+strings.Repeat(" ", pad))
	b.width = n
	b.drawn = true
}

// line formats the state after elapsed time; final shows the elapsed time in
// place of the ETA.
func (b *Bar) line(elapsed time.Duration, final bool) string {
	var s strings.Builder
	s.WriteString(b.label)
	if b.term && b.total > 0 {
		s.WriteString(" [" + bar(b.done, b.total) + "]")
	}
	if b.total > 0 {
		fmt.Fprintf(&s, " %d/%d", b.done, b.total)
		if !b.term {
			fmt.Fprintf(&s, " (%.1f%%)", 100*float64(b.done)/float64(b.total))
		}
	} else {
		fmt.Fprintf(&s, " %d", b.done)
	}
	rate := -1.0
	if sec := elapsed.Seconds(); sec > 0 {
		rate = float64(b.done) / sec
	}
	s.WriteString("  " + formatRate(rate) + " img/s")
	switch {
	case final:
		s.WriteString("  in " + formatHMS(elapsed))
	case b.total > 0 && rate > 0:
		left := float64(max(0, b.total-b.done)) / rate
		s.WriteString("  ETA " + formatHMS(seconds(left)))
	case b.total > 0:
		s.WriteString("  ETA -:--:--")
	}
	for _, f := range b.fields {
		s.WriteString("  " + f.Key + " " + f.Value)
	}
	return s.String()
}

// bar draws done/total as barWidth cells of '#' and '-'.
func bar(done, total int) string {
	full := min(barWidth, max(0, int(int64(done)*barWidth/int64(total))))
	return strings.Repeat("#", full) + strings.Repeat("-", barWidth-full)
}
