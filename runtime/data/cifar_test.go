package data

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// checkSet compares a loaded split with the expected one.
func checkSplit(t *testing.T, name string, want, got *Set) {
	t.Helper()
	if got.N != want.N || got.C != want.C || got.H != want.H || got.W != want.W {
		t.Fatalf("%s: shape N=%d %dx%dx%d, want N=%d %dx%dx%d", name, got.N, got.C, got.H, got.W, want.N, want.C, want.H, want.W)
	}
	if diff := cmp.Diff(want.Labels, got.Labels); diff != "" {
		t.Errorf("%s labels (-want +got):\n%s", name, diff)
	}
	if !cmp.Equal(want.Pixels, got.Pixels) {
		t.Errorf("%s: pixels differ", name)
	}
}

func TestLoadCIFAR10(t *testing.T) {
	names := "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n"
	for _, tc := range []struct {
		name  string
		sub   string
		meta  bool
		limit int
	}{
		{"root", "", false, 0},
		{"subfolder with names", "cifar-10-batches-bin", true, 0},
		{"limit inside the second batch", "", false, 9},
		{"limit above the size", "", false, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			rng := rand.New(rand.NewPCG(1, 1))
			train, test := writeCIFAR10(t, rng, filepath.Join(dir, tc.sub), 7)
			if tc.meta {
				writeFile(t, filepath.Join(dir, tc.sub, "batches.meta.txt"), []byte(names))
			}
			ds, err := Load(dir, [3]int{3, 32, 32}, 10, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			train.truncate(tc.limit)
			checkSplit(t, "train", train, ds.Train)
			checkSplit(t, "test", test, ds.Test)
			if ds.Format != FormatCIFAR10 {
				t.Errorf("format %q, want %q", ds.Format, FormatCIFAR10)
			}
			var wantNames []string
			if tc.meta {
				wantNames = strings.Fields(names)
			}
			if diff := cmp.Diff(wantNames, ds.Classes); diff != "" {
				t.Errorf("classes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadCIFAR100(t *testing.T) {
	for _, sub := range []string{"", "cifar-100-binary"} {
		t.Run("in "+sub, func(t *testing.T) {
			dir := t.TempDir()
			rng := rand.New(rand.NewPCG(2, 2))
			train, test := writeCIFAR100(t, rng, filepath.Join(dir, sub), 20)
			var names []string
			for i := range 100 {
				names = append(names, "class"+string(rune('A'+i/26))+string(rune('a'+i%26)))
			}
			writeFile(t, filepath.Join(dir, sub, "fine_label_names.txt"), []byte(strings.Join(names, "\n")+"\n"))
			ds, err := Load(dir, [3]int{3, 32, 32}, 100, 0)
			if err != nil {
				t.Fatal(err)
			}
			checkSplit(t, "train", train, ds.Train)
			checkSplit(t, "test", test, ds.Test)
			if ds.Format != FormatCIFAR100 {
				t.Errorf("format %q, want %q", ds.Format, FormatCIFAR100)
			}
			if diff := cmp.Diff(names, ds.Classes); diff != "" {
				t.Errorf("classes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadCIFARErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		edit    func(t *testing.T, dir string)
		want    [3]int
		classes int
		errs    []string
	}{
		{"truncated batch", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "data_batch_3.bin")
			b, _ := os.ReadFile(p)
			writeFile(t, p, b[:len(b)-100])
		}, [3]int{3, 32, 32}, 10, []string{"data_batch_3.bin", "3073-byte records", "truncated"}},
		{"empty test batch", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "test_batch.bin"), nil)
		}, [3]int{3, 32, 32}, 10, []string{"test_batch.bin", "0 bytes"}},
		{"missing batch", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "data_batch_4.bin"))
		}, [3]int{3, 32, 32}, 10, []string{"data_batch_4.bin", "missing", "test_batch.bin"}},
		{"wrong input shape", nil, [3]int{1, 28, 28}, 10, []string{"data_batch_1.bin", "3x32x32", "1x28x28"}},
		{"more label values than classes", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "data_batch_1.bin")
			b, _ := os.ReadFile(p)
			b[0] = 7
			writeFile(t, p, b)
		}, [3]int{3, 32, 32}, 5, []string{"data_batch_1.bin", "label 7", "5 classes", "labels 0..4"}},
		{"label byte out of range", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "data_batch_2.bin")
			b, _ := os.ReadFile(p)
			b[3073] = 12
			writeFile(t, p, b)
		}, [3]int{3, 32, 32}, 10, []string{"data_batch_2.bin", "record 1", "label 12", "corrupt"}},
		{"wrong number of names", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "batches.meta.txt"), []byte("cat\ndog\n"))
		}, [3]int{3, 32, 32}, 10, []string{"batches.meta.txt", "2 class names", "expected 10"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeCIFAR10(t, rand.New(rand.NewPCG(3, 3)), dir, 4)
			if tc.edit != nil {
				tc.edit(t, dir)
			}
			_, err := Load(dir, tc.want, tc.classes, 0)
			checkErr(t, err, tc.errs...)
		})
	}
}

// checkErr fails unless err is an error whose text holds every part.
func checkErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want one mentioning %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not mention %q", err, p)
		}
	}
}
