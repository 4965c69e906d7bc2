package progress

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// clock is a fake clock that moves only when told.
type clock struct{ t time.Time }

func newClock() *clock                   { return &clock{t: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)} }
func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func ms(n int) time.Duration             { return time.Duration(n) * time.Millisecond }
func sec(n int) time.Duration            { return time.Duration(n) * time.Second }
func lines(s string) []string            { return strings.Split(strings.TrimSuffix(s, "\n"), "\n") }
func field(k, v string) Field            { return Field{Key: k, Value: v} }
func plainBar(total int) (*Bar, *bytes.Buffer, *clock) {
	var buf bytes.Buffer
	c := newClock()
	return newBar(&buf, "epoch 1/2 train", total, c.now), &buf, c
}

func TestBarPlain(t *testing.T) {
	b, buf, c := plainBar(50000)
	steps := []struct {
		after time.Duration
		n     int
		f     []Field
	}{
		{sec(4), 10000, nil},                             // t=4s: too early for a line
		{sec(6), 10000, []Field{field("loss", "0.512")}}, // t=10s: 20000 in 10s = 2000/s, 30000 left: 15s
		{sec(5), 10000, nil},                             // t=15s: 5s after the last line
		{sec(5), 5000, nil},                              // t=20s: 35000 in 20s = 1750/s, 15000 left: 8.57s
		{sec(2), 15000, nil},                             // t=22s
	}
	for _, s := range steps {
		c.advance(s.after)
		b.Add(s.n, s.f...)
	}
	b.Finish(field("loss", "0.400"), field("err", "12.3%")) // 50000 in 22s = 2272.7/s
	want := []string{
		"epoch 1/2 train 20000/50000 (40.0%)  2000 img/s  ETA 0:00:15  loss 0.512",
		"epoch 1/2 train 35000/50000 (70.0%)  1750 img/s  ETA 0:00:09  loss 0.512",
		"epoch 1/2 train 50000/50000 (100.0%)  2273 img/s  in 0:00:22  loss 0.400  err 12.3%",
	}
	if diff := cmp.Diff(want, lines(buf.String())); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	if strings.Contains(buf.String(), "\r") {
		t.Errorf("plain output holds a \\r")
	}
	b.Add(1)
	b.Finish()
	if got := len(lines(buf.String())); got != 3 {
		t.Errorf("Add and Finish after Finish wrote; %d lines", got)
	}
}

func TestBarPlainInterval(t *testing.T) {
	b, buf, c := plainBar(1000)
	b.SetInterval(sec(2))
	for range 5 { // a line at 2s and at 4s, none at 1s, 3s, 5s
		c.advance(sec(1))
		b.Add(100)
	}
	c.advance(sec(3595)) // one hour in all
	b.Finish()
	want := []string{
		"epoch 1/2 train 200/1000 (20.0%)  100 img/s  ETA 0:00:08",
		"epoch 1/2 train 400/1000 (40.0%)  100 img/s  ETA 0:00:06",
		"epoch 1/2 train 500/1000 (50.0%)  0.14 img/s  in 1:00:00",
	}
	if diff := cmp.Diff(want, lines(buf.String())); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
}

func TestBarUnknownTotal(t *testing.T) {
	b, buf, c := plainBar(0)
	c.advance(sec(10))
	b.Add(2500, field("files", "12"))
	b.Finish()
	want := []string{
		"epoch 1/2 train 2500  250 img/s  files 12",
		"epoch 1/2 train 2500  250 img/s  in 0:00:10  files 12",
	}
	if diff := cmp.Diff(want, lines(buf.String())); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
}

func TestBarTerminal(t *testing.T) {
	var buf bytes.Buffer
	c := newClock()
	b := newBar(&buf, "train", 1000, c.now)
	b.term = true
	// Adds at 0, 50, 99, 100, 150, 250 ms: redraws at 0 (the first), 100 and
	// 250 ms only.
	start := c.t
	for _, at := range []int{0, 50, 99, 100, 150, 250} {
		c.t = start.Add(ms(at))
		f := []Field{field("loss", "10.000")}
		if at == 250 {
			f = []Field{field("loss", "1.0")}
		}
		b.Add(100, f...)
	}
	c.advance(ms(1750)) // Finish at 2 s
	b.Finish()
	want := "" +
		"\rtrain [##------------------] 100/1000  - img/s  ETA -:--:--  loss 10.000" +
		"\rtrain [########------------] 400/1000  4000 img/s  ETA 0:00:00  loss 10.000" +
		"\rtrain [############--------] 600/1000  2400 img/s  ETA 0:00:00  loss 1.0" + "   " +
		"\rtrain [############--------] 600/1000  300 img/s  in 0:00:02  loss 1.0" + "  " +
		"\n"
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
}

func TestBarTerminalETA(t *testing.T) {
	var buf bytes.Buffer
	c := newClock()
	b := newBar(&buf, "epoch 3/200 train", 50000, c.now)
	b.term = true
	c.advance(sec(5))
	b.Add(12800, field("loss", "0.512"), field("err", "12.3%"))
	want := "\repoch 3/200 train [#####---------------] 12800/50000  2560 img/s  ETA 0:00:15  loss 0.512  err 12.3%"
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
}

func TestIsTerminal(t *testing.T) {
	file, err := os.Create(filepath.Join(t.TempDir(), "out.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	for _, tt := range []struct {
		name string
		w    interface{ Write([]byte) (int, error) }
		want bool
	}{
		{"buffer", &bytes.Buffer{}, false},
		{"regular file", file, false},
		{"character device", null, true},
	} {
		if got := isTerminal(tt.w); got != tt.want {
			t.Errorf("isTerminal(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestFormatHMS(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0:00:00"},
		{ms(499), "0:00:00"},
		{ms(500), "0:00:01"},
		{sec(15), "0:00:15"},
		{ms(59500), "0:01:00"},
		{sec(3723), "1:02:03"},
		{sec(36000 - 1), "9:59:59"},
		{sec(100 * 3600), "100:00:00"},
		{-sec(5), "0:00:00"},
		{seconds(1e30), "2562047:47:16"},
		{seconds(math.Inf(1)), "2562047:47:16"},
	} {
		if got := formatHMS(tt.d); got != tt.want {
			t.Errorf("formatHMS(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestFormatRate(t *testing.T) {
	for _, tt := range []struct {
		r    float64
		want string
	}{
		{-1, "-"},
		{math.NaN(), "-"},
		{math.Inf(1), "-"},
		{0, "0.00"},
		{1.234, "1.23"},
		{45.67, "45.7"},
		{234.5, "234"},
		{12345.6, "12346"},
	} {
		if got := formatRate(tt.r); got != tt.want {
			t.Errorf("formatRate(%v) = %q, want %q", tt.r, got, tt.want)
		}
	}
}
