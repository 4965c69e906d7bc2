package data

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkLoader measures the streaming loader alone (no network): decoding JPEGs of
// mixed sizes (200 to 400 rows, 300 to 500 columns, written once before timing),
// RandomResizedCrop, flip and normalization into training batches of 32, on GOMAXPROCS
// workers. It reports images/s; run it with
//
//	go test -run '^$' -bench Loader ./runtime/data/
func BenchmarkLoader(b *testing.B) {
	dir := b.TempDir()
	spec := FolderSpec{Classes: 4, Train: 32, Test: 1, MinSize: [2]int{200, 300}, MaxSize: [2]int{400, 500}, JPEGOnly: true, Seed: 1}
	if _, err := WriteImageFolder(dir, spec); err != nil {
		b.Fatal(err)
	}
	src, err := OpenStream(dir, [3]int{3, 224, 224}, spec.Classes, 0)
	if err != nil {
		b.Fatal(err)
	}
	for _, side := range []int{224, 64} {
		for _, train := range []bool{true, false} {
			mode := "train"
			if !train {
				mode = "eval"
			}
			b.Run(fmt.Sprintf("%s/3x%dx%d", mode, side, side), func(b *testing.B) {
				in := [3]int{3, side, side}
				l, err := NewStreamLoader(src.Train, StreamConfig{Input: in, Norm: ImageNetNorm(), Train: train, Flip: true, Batch: 32, Shuffle: true, Seed: 1})
				if err != nil {
					b.Fatal(err)
				}
				defer l.Close()
				x, y := make([]float32, 32*3*side*side), make([]int32, 32)
				images, epoch := 0, 0
				l.Epoch(0)
				b.ResetTimer()
				t0 := time.Now()
				for range b.N {
					k, ok := l.Next(x, y)
					if !ok {
						if err := l.Err(); err != nil {
							b.Fatal(err)
						}
						epoch++
						l.Epoch(epoch)
						k, _ = l.Next(x, y)
					}
					images += k
				}
				b.ReportMetric(float64(images)/time.Since(t0).Seconds(), "images/s")
			})
		}
	}
}
