package data

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestCIFARBatchBounded checks that a batch file that is a device is read no further
// than a batch may be: /dev/zero is refused instead of filling the memory.
func TestCIFARBatchBounded(t *testing.T) {
	defer func(n int64) { maxCIFARBytes = n }(maxCIFARBytes)
	maxCIFARBytes = 1 << 20
	p := filepath.Join(t.TempDir(), "data_batch_1.bin")
	if err := os.Symlink("/dev/zero", p); err != nil {
		t.Skip(err)
	}
	err := readCIFARFile(p, cifar10Spec(), 10, &Set{C: 3, H: 32, W: 32})
	checkErr(t, err, p, "not a regular file", "1048576 bytes")
	big := filepath.Join(t.TempDir(), "test_batch.bin")
	writeFile(t, big, make([]byte, (1<<20)+1))
	err = readCIFARFile(big, cifar10Spec(), 10, &Set{C: 3, H: 32, W: 32})
	checkErr(t, err, big, "1048577 bytes is more than")
}

// cifarSeed is one input of FuzzCIFAR: a batch file, CIFAR-100 or not, and the
// network's class count.
type cifarSeed struct {
	b       []byte
	hundred bool
	classes uint8
}

// cifarSeeds are valid CIFAR-10 and CIFAR-100 batches and hostile ones: truncated
// records (one byte short, one byte over, a bare label), labels out of the format's range
// (10 and 255 for CIFAR-10, 100 for CIFAR-100), labels the network has no class for, and
// 64 records of zeros.
func cifarSeeds() (seeds []cifarSeed) {
	add := func(b []byte, hundred bool, classes uint8) { seeds = append(seeds, cifarSeed{b, hundred, classes}) }
	rng := rand.New(rand.NewPCG(7, 7))
	ten, hundred := randomSet(rng, 2, 3, 32, 32, 10), randomSet(rng, 2, 3, 32, 32, 100)
	b10, b100 := cifarBytes(ten, false), cifarBytes(hundred, true)
	with := func(b []byte, i int, v byte) []byte {
		b = slices.Clone(b)
		b[i] = v
		return b
	}
	add(b10, false, 10)
	add(b100, true, 100)
	add(b10[:3073], false, 10)
	add(b10[:3072], false, 10)
	add(append(slices.Clone(b10), 0), false, 10)
	add(b100[:3073], true, 100)
	add([]byte{3}, false, 10)
	add(nil, false, 10)
	add(with(b10, 0, 10), false, 10)
	add(with(b10, 3073, 255), false, 10)
	add(with(b100, 1, 100), true, 100)
	add(with(b10, 0, 7), false, 5)
	add(with(b100, 3074+1, 99), true, 10)
	add(make([]byte, 64*3073), false, 10)
	return seeds
}

// FuzzCIFAR checks the CIFAR-10 and CIFAR-100 batch decoder on any bytes, for any number
// of classes: every refusal names the file and leaves the set it appends to unchanged; an
// accepted file is a whole number of records, appended after the images already there
// (which stay as they were) as 3x32x32 images of exactly 3072 bytes each with labels
// below both the format's label count and the network's class count; and the test's
// writer gives the records back (the fine label and the pixels).
func FuzzCIFAR(f *testing.F) {
	for _, s := range cifarSeeds() {
		f.Add(s.b, s.hundred, s.classes)
	}
	f.Fuzz(func(t *testing.T, b []byte, hundred bool, classes uint8) {
		const name = "fuzz_batch.bin"
		sp := cifar10Spec()
		if hundred {
			sp = cifar100Spec()
		}
		c := max(int(classes), 1)
		// One image already there, as when a later training batch is read.
		s := &Set{N: 1, C: 3, H: 32, W: 32, Pixels: bytes.Repeat([]byte{9}, cifarPixels), Labels: []int32{0}}
		err := decodeCIFAR(name, b, sp, c, s)
		if err != nil {
			if !strings.Contains(err.Error(), name) {
				t.Fatalf("error %q does not name the file", err)
			}
			if s.N != 1 || len(s.Pixels) != cifarPixels || len(s.Labels) != 1 {
				t.Fatalf("a refusal left %d images, %d pixel bytes, %d labels", s.N, len(s.Pixels), len(s.Labels))
			}
			return
		}
		rec := sp.recordSize()
		n := len(b) / rec
		if len(b) == 0 || len(b)%rec != 0 || s.N != 1+n || len(s.Pixels) != s.N*s.ImageSize() || len(s.Labels) != s.N {
			t.Fatalf("%d bytes of %d-byte records gave %d images, %d pixel bytes, %d labels", len(b), rec, s.N, len(s.Pixels), len(s.Labels))
		}
		if !bytes.Equal(s.Image(0), bytes.Repeat([]byte{9}, cifarPixels)) || s.Labels[0] != 0 {
			t.Fatalf("the image already there changed")
		}
		for i, l := range s.Labels[1:] {
			if l < 0 || int(l) >= sp.labels || int(l) >= c {
				t.Fatalf("record %d has label %d (%d format labels, %d classes)", i, l, sp.labels, c)
			}
		}
		got := &Set{N: n, C: 3, H: 32, W: 32, Pixels: s.Pixels[cifarPixels:], Labels: s.Labels[1:]}
		out := cifarBytes(got, hundred)
		for i := range n {
			a, w := b[i*rec+sp.labelBytes-1:(i+1)*rec], out[i*rec+sp.labelBytes-1:(i+1)*rec]
			if !bytes.Equal(a, w) {
				t.Fatalf("record %d: the writer does not give it back", i)
			}
		}
	})
}
