package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// zeros is an endless stream of zero bytes, as /dev/zero gives.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// idxHeader is an IDX header: magic, then the dimensions.
func idxHeader(magic uint32, dims ...uint32) []byte {
	b := binary.BigEndian.AppendUint32(nil, magic)
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return b
}

// idxSeed is one input of FuzzIDX: b, gzipped by the fuzz body when gz.
type idxSeed struct {
	b  []byte
	gz bool
}

// idxSeeds are valid image and label files, plain, gzipped as they lie on disk and
// gzipped by the fuzz body, and hostile ones: a header whose product overflows, one that
// declares terabytes, gzip bombs (a few kilobytes inflating to a megabyte past what the
// header declares, or declaring gigabytes of images of another size or billions of
// labels), truncated files and gzip streams, wrong magic numbers, and a megabyte of zeros.
func idxSeeds(t testing.TB) []idxSeed {
	s := randomSet(rand.New(rand.NewPCG(1, 2)), 3, 1, 5, 7, 10)
	img, lab := idxImages(s), idxLabels(s)
	bomb := func(head []byte) []byte { return gzipBytes(t, append(head, make([]byte, 1<<20)...)) }
	cut := func(b []byte, n int) []byte { return append([]byte(nil), b[:len(b)-n]...) }
	seeds := []idxSeed{
		{img, false}, {lab, false}, {img, true}, {lab, true},
		{gzipBytes(t, img), false}, {gzipBytes(t, lab), false},
		{idxImages(&Set{N: 1, H: 1, W: 1, Pixels: []uint8{255}}), false},
		{idxHeader(idxImagesMagic, 0xffffffff, 0xffffffff, 0xffffffff), false},
		{idxHeader(idxImagesMagic, 0x10000, 0x10000, 0x10000), false},
		{idxHeader(idxImagesMagic, 0, 28, 28), false},
		{idxHeader(idxImagesMagic, 1, 0, 28), false},
		{idxHeader(idxLabelsMagic, 0xffffffff), false},
		{bomb(idxHeader(idxImagesMagic, 3, 5, 7)), false},
		{bomb(idxHeader(idxImagesMagic, 8000, 1000, 1000)), false},
		{bomb(idxHeader(idxLabelsMagic, 4_000_000_000)), false},
		{bomb(idxHeader(idxLabelsMagic, 3)), false},
		{cut(img, 3), false}, {cut(lab, 1), false}, {img[:10], false}, {lab[:5], false},
		{cut(gzipBytes(t, img), 9), false}, {[]byte{0x1f, 0x8b, 8, 0, 1, 2, 3}, false},
		{append(idxHeader(idxLabelsMagic, 3, 5, 7), s.Pixels...), false},
		{append(idxHeader(idxImagesMagic, 3), 1, 2, 3), false},
		{append(idxHeader(0x00000d03, 3, 5, 7), s.Pixels...), false},
		{append(img, 0), false},
		{make([]byte, 1<<20), false},
		{nil, false}, {nil, true},
	}
	return seeds
}

// FuzzIDX checks the IDX readers (images and labels, plain or gzipped) on any bytes, and
// on the same bytes gzipped: every refusal names the file; accepted images are 1xHxW
// with H and W those the network takes, N >= 1 of them and exactly N*H*W pixel bytes,
// the bytes of the file, which the test's IDX writer writes back unchanged; accepted
// labels are one byte each, as many as the images they label; and an accepted file
// with zeros after it is refused as holding more than its header declares.
func FuzzIDX(f *testing.F) {
	for _, s := range idxSeeds(f) {
		f.Add(s.b, s.gz)
	}
	f.Fuzz(func(t *testing.T, b []byte, gz bool) {
		const name = "fuzz-idx3-ubyte"
		in := b
		gz = gz && len(b) <= 4<<10 // keep each run fast
		if gz {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
			zw.Write(b)
			zw.Close()
			in = buf.Bytes()
		}
		plain := !gz && !bytes.HasPrefix(b, []byte{0x1f, 0x8b})
		named := func(err error) {
			t.Helper()
			if err != nil && !strings.Contains(err.Error(), name) {
				t.Fatalf("error %q does not name the file", err)
			}
		}
		// Images, for the network the header suits (when small) and for a 1x28x28 one.
		wants := [][3]int{{1, 28, 28}}
		if len(b) >= 16 {
			rows, cols := binary.BigEndian.Uint32(b[8:]), binary.BigEndian.Uint32(b[12:])
			if rows >= 1 && rows <= 64 && cols >= 1 && cols <= 64 {
				wants = append(wants, [3]int{1, int(rows), int(cols)})
			}
		}
		for _, want := range wants {
			s, err := decodeIDXImages(name, bytes.NewReader(in), want)
			named(err)
			if err != nil {
				continue
			}
			if plain {
				more := io.MultiReader(bytes.NewReader(b), io.LimitReader(zeros{}, 64<<10))
				if _, err := decodeIDXImages(name, more, want); err == nil || !strings.Contains(err.Error(), "holds more") {
					t.Fatalf("the file followed by zeros: %v, want an error saying it holds more", err)
				}
			}
			if s.N < 1 || s.C != 1 || s.H != want[1] || s.W != want[2] || len(s.Pixels) != s.N*s.H*s.W || s.Labels != nil {
				t.Fatalf("read %d images of %dx%dx%d with %d pixel bytes and %d labels, want 1x%dx%d",
					s.N, s.C, s.H, s.W, len(s.Pixels), len(s.Labels), want[1], want[2])
			}
			out := idxImages(s)
			if !plain {
				again, err := decodeIDXImages(name, bytes.NewReader(out), want)
				if err != nil || !bytes.Equal(again.Pixels, s.Pixels) || again.N != s.N {
					t.Fatalf("re-reading what the writer writes: %v", err)
				}
			} else if !bytes.Equal(out, b) {
				t.Fatalf("the writer writes %d bytes of what read from %d", len(out), len(b))
			}
		}
		// Labels, for as many images as the header declares and for 3.
		counts := []int{3}
		if len(b) >= 8 {
			// Not billions for a gzip bomb, which would then inflate a megabyte.
			if n := int(binary.BigEndian.Uint32(b[4:])); plain || n <= 1<<16 {
				counts = append(counts, n)
			}
		}
		for _, n := range counts {
			lab, err := decodeIDXLabels(name, bytes.NewReader(in), n, "images")
			named(err)
			if err != nil {
				continue
			}
			if plain {
				more := io.MultiReader(bytes.NewReader(b), io.LimitReader(zeros{}, 64<<10))
				if _, err := decodeIDXLabels(name, more, n, "images"); err == nil || !strings.Contains(err.Error(), "holds more") {
					t.Fatalf("the file followed by zeros: %v, want an error saying it holds more", err)
				}
			}
			if len(lab) != n {
				t.Fatalf("read %d labels for %d images", len(lab), n)
			}
			for i, l := range lab {
				if l < 0 || l > 255 {
					t.Fatalf("label %d is %d", i, l)
				}
			}
			out := idxLabels(&Set{N: n, Labels: lab})
			if !plain {
				again, err := decodeIDXLabels(name, bytes.NewReader(out), n, "images")
				if err != nil || !slices.Equal(again, lab) {
					t.Fatalf("re-reading what the writer writes: %v", err)
				}
			} else if !bytes.Equal(out, b) {
				t.Fatalf("the writer writes %d bytes of what read from %d", len(out), len(b))
			}
		}
	})
}
