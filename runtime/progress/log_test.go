package progress

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// epochRec is a log.jsonl record as DESIGN.md lists its keys.
func epochRec(epoch int, loss float64) []KV {
	return []KV{
		{"epoch", epoch}, {"lr", 0.1}, {"train_loss", loss}, {"train_error", 0.25},
		{"test_loss", 1.5}, {"test_error", 0.3}, {"seconds", 12.5}, {"images_per_sec", 4000.0},
	}
}

func epochMap(epoch int, loss any) map[string]any {
	return map[string]any{
		"epoch": float64(epoch), "lr": 0.1, "train_loss": loss, "train_error": 0.25,
		"test_loss": 1.5, "test_error": 0.3, "seconds": 12.5, "images_per_sec": 4000.0,
	}
}

func writeLog(t *testing.T, path string, recs ...[]KV) {
	t.Helper()
	l, err := OpenLog(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := l.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestLogRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.jsonl")
	writeLog(t, path, epochRec(1, 2.0), epochRec(2, math.NaN()))
	writeLog(t, path, epochRec(3, 1.25)) // reopening appends
	writeLog(t, path, []KV{{"note", "<a & b>\n\"é\""}, {"ok", true}, {"none", nil},
		{"list", []int{1, 2}}, {"nested", map[string]any{"b": 1, "a": "x"}}, {"f32", float32(math.Inf(-1))}})
	got, err := ReadLog(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []map[string]any{
		epochMap(1, 2.0), epochMap(2, nil), epochMap(3, 1.25),
		{"note": "<a & b>\n\"é\"", "ok": true, "none": nil, "list": []any{1.0, 2.0}, "nested": map[string]any{"a": "x", "b": 1.0}, "f32": nil},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ReadLog (-want +got):\n%s", diff)
	}
}

func TestLogKeyOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.jsonl")
	writeLog(t, path, epochRec(1, 0.5), []KV{{"z", 1}, {"a", "<&>"}, {"m", 2.5}})
	want := `{"epoch":1,"lr":0.1,"train_loss":0.5,"train_error":0.25,"test_loss":1.5,"test_error":0.3,"seconds":12.5,"images_per_sec":4000}` + "\n" +
		`{"z":1,"a":"<&>","m":2.5}` + "\n"
	if diff := cmp.Diff(want, readFile(t, path)); diff != "" {
		t.Errorf("file (-want +got):\n%s", diff)
	}
}

func TestLogTornLastLine(t *testing.T) {
	tests := []struct {
		name     string
		tail     string // appended after two good records
		wantRead int    // records ReadLog finds
		wantFile string // what follows the two records after OpenLog and one more Write
	}{
		{"torn record", `{"epoch":3,"lr":0.`, 2, `{"epoch":9}` + "\n"},
		{"torn inside a string", `{"epoch":3,"note":"a}`, 2, `{"epoch":9}` + "\n"},
		{"only the newline missing", `{"epoch":3}`, 3, `{"epoch":3}` + "\n" + `{"epoch":9}` + "\n"},
		{"blank torn tail", "   ", 2, `{"epoch":9}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "log.jsonl")
			writeLog(t, path, []KV{{"epoch", 1}}, []KV{{"epoch", 2}})
			good := readFile(t, path)
			if err := os.WriteFile(path, []byte(good+tt.tail), 0o644); err != nil {
				t.Fatal(err)
			}
			recs, err := ReadLog(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != tt.wantRead || recs[1]["epoch"] != 2.0 {
				t.Errorf("ReadLog found %v, want %d records", recs, tt.wantRead)
			}
			writeLog(t, path, []KV{{"epoch", 9}})
			if diff := cmp.Diff(good+tt.wantFile, readFile(t, path)); diff != "" {
				t.Errorf("file after reopening (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLogTornLongFile(t *testing.T) {
	// The torn line is searched backwards in chunks: make the file and the
	// torn line longer than one chunk.
	path := filepath.Join(t.TempDir(), "log.jsonl")
	var recs [][]KV
	for i := range 200 {
		recs = append(recs, epochRec(i+1, 0.5))
	}
	writeLog(t, path, recs...)
	good := readFile(t, path)
	torn := `{"note":"` + strings.Repeat("x", 9000)
	if err := os.WriteFile(path, []byte(good+torn), 0o644); err != nil {
		t.Fatal(err)
	}
	writeLog(t, path, epochRec(201, 0.5))
	got, err := ReadLog(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 201 || got[200]["epoch"] != 201.0 {
		t.Errorf("got %d records, want 201", len(got))
	}
	// A torn line that is the whole file.
	if err := os.WriteFile(path, []byte(torn), 0o644); err != nil {
		t.Fatal(err)
	}
	writeLog(t, path, []KV{{"epoch", 1}})
	if diff := cmp.Diff(`{"epoch":1}`+"\n", readFile(t, path)); diff != "" {
		t.Errorf("file (-want +got):\n%s", diff)
	}
}

func TestReadLogErrors(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"bad middle line", "{\"a\":1}\n{\"a\":\n{\"a\":3}\n", ":2: not a JSON object"},
		{"array", "[1,2]\n", ":1: not a JSON object"},
		{"null", "\n\nnull\n", ":3: not a JSON object: null"},
		{"two objects", "{\"a\":1}{\"b\":2}\n", ":1: not a JSON object: text after the object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "log.jsonl")
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadLog(path)
			if err == nil || !strings.Contains(err.Error(), path+tt.want) {
				t.Errorf("ReadLog error = %v, want one saying %q", err, path+tt.want)
			}
		})
	}
	if _, err := ReadLog(filepath.Join(t.TempDir(), "none.jsonl")); !os.IsNotExist(err) {
		t.Errorf("ReadLog of a missing file: %v, want a not-exist error", err)
	}
}

func TestLogWriteErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.jsonl")
	l, err := OpenLog(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		rec  []KV
		want string
	}{
		{[]KV{{"a", 1}, {"a", 2}}, `key "a" given twice`},
		{[]KV{{"a", 1}, {"c", make(chan int)}}, `key "c": json: unsupported type`},
		{[]KV{{"v", []float64{math.NaN()}}}, `key "v": json: unsupported value: NaN`},
	} {
		if err := l.Write(tt.rec); err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Write(%v) error = %v, want %q", tt.rec, err, tt.want)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := l.Write([]KV{{"a", 1}}); err == nil || !strings.Contains(err.Error(), "after Close") {
		t.Errorf("Write after Close: %v", err)
	}
	if got := readFile(t, path); got != "" {
		t.Errorf("failed writes left %q in the log", got)
	}
	if _, err := OpenLog(filepath.Join(path, "sub", "log.jsonl")); err == nil {
		t.Errorf("OpenLog under a file succeeded")
	}
}
