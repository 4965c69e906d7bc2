package cli

import (
	"fmt"

	"github.com/wrnc/wrnc/runtime/data"
	"github.com/wrnc/wrnc/runtime/model"
)

// batches is what training and evaluation read: a data.Loader over images in memory, or
// a data.StreamLoader that decodes image files on background goroutines.
type batches interface {
	Epoch(e int)
	Next(x []float32, y []int32) (int, bool)
	Err() error
	Close()
}

// dataset is the data set of a command. For a recipe with augment resized_crop it is
// streamed: the image files are listed, then decoded, cropped and resized batch by batch
// while the network computes (data.OpenStream, data.StreamLoader), at whatever size they
// have. Every other recipe reads it whole into memory at the input size (data.Load), as
// it always has.
type dataset struct {
	input [3]int
	mem   *data.Dataset  // nil when streamed
	strm  *data.Streamed // nil when in memory
}

// streams reports whether the recipe r reads its data set as a stream.
func streams(r model.Recipe) bool { return r.ResizedCrop }

// loadDataset reads (or, streamed, lists) both splits of dir for spec's recipe; limit > 0
// keeps that many training examples.
func loadDataset(dir string, spec *model.Spec, limit int) (*dataset, error) {
	d := &dataset{input: spec.Input}
	var err error
	if streams(spec.Recipe) {
		d.strm, err = data.OpenStream(dir, spec.Input, spec.Classes, limit)
	} else {
		d.mem, err = data.Load(dir, spec.Input, spec.Classes, limit)
	}
	if err != nil {
		return nil, err
	}
	return d, nil
}

// loadTestDataset reads (or lists) the test split of dir alone.
func loadTestDataset(dir string, spec *model.Spec) (*dataset, error) {
	d := &dataset{input: spec.Input}
	var err error
	if streams(spec.Recipe) {
		d.strm, err = data.OpenStreamTest(dir, spec.Input, spec.Classes)
	} else {
		d.mem, err = data.LoadTest(dir, spec.Input, spec.Classes)
	}
	if err != nil {
		return nil, err
	}
	return d, nil
}

// trainLen and testLen are the number of examples of each split.
func (d *dataset) trainLen() int {
	if d.strm != nil {
		return d.strm.Train.Len()
	}
	return d.mem.Train.N
}

func (d *dataset) testLen() int {
	if d.strm != nil {
		return d.strm.Test.Len()
	}
	return d.mem.Test.N
}

// format names the layout detected, with "streamed" for a streamed data set.
func (d *dataset) format() string {
	if d.strm != nil {
		return d.strm.Format + ", streamed"
	}
	return d.mem.Format
}

// classes are the class names of the data set, nil if it has none.
func (d *dataset) classes() []string {
	if d.strm != nil {
		return d.strm.Classes
	}
	return d.mem.Classes
}

// notes are what the loader says a user should know.
func (d *dataset) notes() []string {
	if d.strm != nil {
		return d.strm.Notes
	}
	return d.mem.Notes
}

// fitNorm is the normalization kind, fitted on the training split; a streamed data set
// takes those that fit nothing (scale, imagenet).
func (d *dataset) fitNorm(kind string) (*data.Norm, error) {
	if d.strm != nil {
		return data.FixedNorm(kind, d.input[0])
	}
	return data.FitNorm(kind, d.mem.Train)
}

// trainBatches is the training split, shuffled and augmented as r says, rank's shard of
// every global batch of ranks.
func (d *dataset) trainBatches(norm *data.Norm, r model.Recipe, batch, rank, ranks int) (batches, error) {
	if d.strm != nil {
		l, err := data.NewStreamLoader(d.strm.Train, data.StreamConfig{Input: d.input, Norm: norm, Train: true,
			Flip: r.Flip, Batch: batch, Shuffle: true, Seed: uint64(r.Seed)})
		if err != nil {
			return nil, err
		}
		if ranks > 1 {
			l.Shard(rank, ranks)
		}
		return l, nil
	}
	aug := &data.Augment{Flip: r.Flip, Crop: r.Crop, Reflect: r.Padding == "reflect"}
	l := data.NewLoader(d.mem.Train, norm, aug, batch, true, uint64(r.Seed))
	if ranks > 1 {
		l.Shard(rank, ranks)
	}
	return l, nil
}

// testBatches is the test examples lo..hi-1 in order, unaugmented (streamed: resized and
// centre-cropped).
func (d *dataset) testBatches(norm *data.Norm, batch, lo, hi int) (batches, error) {
	if d.strm != nil {
		return data.NewStreamLoader(d.strm.Test.Slice(lo, hi), data.StreamConfig{Input: d.input, Norm: norm, Batch: batch})
	}
	set := d.mem.Test
	if lo != 0 || hi != set.N {
		n := set.ImageSize()
		set = &data.Set{N: hi - lo, C: set.C, H: set.H, W: set.W, Pixels: set.Pixels[lo*n : hi*n], Labels: set.Labels[lo:hi]}
	}
	return data.NewLoader(set, norm, nil, batch, false, 0), nil
}

// checkTrain says whether the split sizes allow training: two examples to train on, one to
// test on.
func (d *dataset) checkTrain(dir string) error {
	if n := d.trainLen(); n < 2 {
		return fmt.Errorf("%s: the training split has %d examples; training needs at least 2", dir, n)
	}
	if d.testLen() < 1 {
		return fmt.Errorf("%s: the test split is empty; training evaluates on it after every epoch", dir)
	}
	return nil
}
