package runlog

import (
	"encoding/binary"
	"encoding/csv"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestMaskedCRC(t *testing.T) {
	// CRC-32C's check value: "123456789" gives 0xe3069283; masked as TFRecord does.
	c := uint32(0xe3069283)
	want := (c>>15 | c<<17) + 0xa282ead8
	if got := crc32.Checksum([]byte("123456789"), castagnoli); got != c {
		t.Fatalf("crc32c = %#x, want %#x", got, c)
	}
	if got := MaskedCRC([]byte("123456789")); got != want {
		t.Errorf("MaskedCRC = %#x, want %#x", got, want)
	}
}

func TestEventsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	now := time.Unix(1700000000, 500_000_000)
	e, err := CreateEvents(dir, now, "host/a")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "events.out.tfevents.1700000000.host_a"); e.Path() != want {
		t.Errorf("path %s, want %s", e.Path(), want)
	}
	if err := e.Scalars(3, now, Scalar{"train/loss", 0.25}, Scalar{"lr", 0.1}); err != nil {
		t.Fatal(err)
	}
	if err := e.Scalars(1<<40, now.Add(time.Second), Scalar{"train/step_loss", math.Inf(1)}); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.Scalars(4, now); err == nil {
		t.Error("Scalars after Close: no error")
	}
	// A second file in the same second gets a name of its own.
	e2, err := CreateEvents(dir, now, "host/a")
	if err != nil {
		t.Fatal(err)
	}
	e2.Close()
	if !strings.HasSuffix(e2.Path(), ".host_a.1") {
		t.Errorf("second file %s", e2.Path())
	}

	got, err := ReadEvents(e.Path())
	if err != nil {
		t.Fatal(err)
	}
	want := []Event{
		{WallTime: 1700000000.5, FileVersion: "brain.Event:2"},
		{WallTime: 1700000000.5, Step: 3, Scalars: []Scalar{{"train/loss", 0.25}, {"lr", float64(float32(0.1))}}},
		{WallTime: 1700000001.5, Step: 1 << 40, Scalars: []Scalar{{"train/step_loss", math.Inf(1)}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}

	// Every framing defect is found.
	b, _ := os.ReadFile(e.Path())
	n := int(binary.LittleEndian.Uint64(b))
	for name, edit := range map[string]func(c []byte) []byte{
		"length crc": func(c []byte) []byte { c[8] ^= 1; return c },
		"data crc":   func(c []byte) []byte { c[12+n/2] ^= 1; return c },
		"cut short":  func(c []byte) []byte { return c[:len(c)-3] },
		"header cut": func(c []byte) []byte { return c[:16+n+5] },
	} {
		p := filepath.Join(t.TempDir(), "ev")
		os.WriteFile(p, edit(append([]byte(nil), b...)), 0o644)
		if _, err := ReadEvents(p); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestWriteCSV(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.csv")
	rows := [][]string{{"1", FormatFloat(0.1), `--lr 0.1 --note "a,b"`}, {"2", FormatFloat(math.NaN()), ""}}
	if err := WriteCSV(path, []string{"epoch", "lr", "overrides"}, rows); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(path)
	defer f.Close()
	got, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := append([][]string{{"epoch", "lr", "overrides"}}, rows...)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("csv (-want +got):\n%s", diff)
	}
	if err := WriteCSV(path, []string{"a"}, [][]string{{"1", "2"}}); err == nil || !strings.Contains(err.Error(), "row 1 has 2 cells") {
		t.Errorf("ragged rows: %v", err)
	}
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Errorf("folder holds %d files, want only m.csv", len(ents))
	}
	for _, v := range []float64{0.1, 1.0 / 3, 1e-300, 123456789.123, 2} {
		if p, err := strconvParse(FormatFloat(v)); err != nil || p != v {
			t.Errorf("FormatFloat(%v) = %q parses as %v", v, FormatFloat(v), p)
		}
	}
}

func strconvParse(s string) (float64, error) { return strconv.ParseFloat(s, 64) }
