package data

import (
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// TestLoadTestNeedsNoTrainingSplit checks LoadTest on every layout whose training files
// are gone: it reads the test split as Load does, with an empty training split, while
// Load itself refuses the folder.
func TestLoadTestNeedsNoTrainingSplit(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 12))
	for _, tc := range []struct {
		name  string
		want  [3]int
		write func(t *testing.T, dir string) *Set // the test split; the training files removed
	}{
		{"cifar10", [3]int{3, 32, 32}, func(t *testing.T, dir string) *Set {
			_, test := writeCIFAR10(t, rng, dir, 3)
			for i := 1; i <= 5; i++ {
				os.Remove(filepath.Join(dir, "data_batch_"+string(rune('0'+i))+".bin"))
			}
			return test
		}},
		{"idx", [3]int{1, 28, 28}, func(t *testing.T, dir string) *Set {
			_, test := writeIDX(t, rng, dir, 7, 5, 28, 28, true)
			os.Remove(filepath.Join(dir, idxTrainImages+".gz"))
			// A corrupt training labels file is not read either.
			writeFile(t, filepath.Join(dir, idxTrainLabels+".gz"), []byte("junk"))
			return test
		}},
		{"svhn", [3]int{3, 32, 32}, func(t *testing.T, dir string) *Set {
			test := randomSet(rng, 4, 3, 32, 32, 10)
			writeFile(t, filepath.Join(dir, svhnTest), goSVHNFile(binary.LittleEndian, test, miDOUBLE, true))
			return test
		}},
		{"folder", [3]int{3, 5, 5}, func(t *testing.T, dir string) *Set {
			test := writeFolderSplit(t, rng, dir, "test", []string{"a", "b", "c"}, 2, 3, 5, 5, "png")
			// A corrupt training image is not decoded.
			writeFile(t, filepath.Join(dir, "train", "a", "bad.png"), []byte("\x89PNG\r\n\x1a\nbad"))
			return test
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			test := tc.write(t, dir)
			classes := 10
			if tc.name == "folder" {
				classes = 3
			}
			ds, err := LoadTest(dir, tc.want, classes)
			if err != nil {
				t.Fatal(err)
			}
			checkSplit(t, "test", test, ds.Test)
			if ds.Train == nil || ds.Train.N != 0 {
				t.Errorf("training split %+v, want an empty one", ds.Train)
			}
			if _, err := Load(dir, tc.want, classes, 0); err == nil {
				t.Error("Load read a folder without its training split")
			}
		})
	}
}
