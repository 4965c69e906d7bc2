package cli

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wrnc/wrnc/runtime/ckpt"
	"github.com/wrnc/wrnc/runtime/data"
	"github.com/wrnc/wrnc/runtime/model"
)

// imagenetSpec is a hand-made Spec of the imagenet family named as torchvision names a
// ResNet (a stem, one block with a downsample, the FC layer), its tensors laid out in
// Params and Stats in order.
func imagenetSpec() *model.Spec {
	s := &model.Spec{Name: "TV-1", Family: model.FamilyImageNet, Input: [3]int{3, 8, 8}, Classes: 5}
	add := func(name string, role model.Role, shape ...int) {
		p := model.Param{Name: name, Shape: shape, Role: role}
		if p.Trainable() {
			p.Offset, s.ParamsSize = s.ParamsSize, s.ParamsSize+p.Size()
		} else {
			p.Offset, s.StatsSize = s.StatsSize, s.StatsSize+p.Size()
		}
		s.Params = append(s.Params, p)
	}
	bn := func(prefix string, c int) {
		add(prefix+".weight", model.BNWeight, c)
		add(prefix+".bias", model.BNBias, c)
		add(prefix+".running_mean", model.BNMean, c)
		add(prefix+".running_var", model.BNVar, c)
	}
	add("conv1.weight", model.ConvWeight, 4, 3, 3, 3)
	bn("bn1", 4)
	add("layer1.0.conv1.weight", model.ConvWeight, 4, 4, 1, 1)
	bn("layer1.0.bn1", 4)
	add("layer1.0.downsample.0.weight", model.ConvWeight, 4, 4, 1, 1)
	bn("layer1.0.downsample.1", 4)
	add("fc.weight", model.FCWeight, 5, 4)
	add("fc.bias", model.FCBias, 5)
	return s
}

// newState is a State of spec with every value distinct, and Params and Stats apart.
func newState(spec *model.Spec) *model.State {
	st := &model.State{Params: make([]float32, spec.ParamsSize), Stats: make([]float32, spec.StatsSize)}
	for i := range st.Params {
		st.Params[i] = float32(i) + 0.5
	}
	for i := range st.Stats {
		st.Stats[i] = float32(i) + 1
	}
	return st
}

// TestWeightTensorsTracked checks the tensors saved for the imagenet family: PyTorch's
// state_dict order (each BN's num_batches_tracked after its running_var), the counts
// loaded plus the steps since; that a load of them (here at another step, as a resumed
// run has) counts on from them; and that the cifar family saves no counts.
func TestWeightTensorsTracked(t *testing.T) {
	spec := imagenetSpec()
	st := newState(spec)
	st.Step = 40
	st.SetTracked([]int64{100, 0, 1 << 40})
	st.Step += 7
	ts := weightTensors(st, spec)
	var names []string
	counts := map[string][]int64{}
	for _, x := range ts {
		names = append(names, x.Name)
		if x.Ints != nil {
			counts[x.Name] = x.Ints
			if len(x.Shape) != 0 || x.Data != nil {
				t.Errorf("%s: shape %v, Data %v; want an I64 scalar", x.Name, x.Shape, x.Data)
			}
		}
	}
	want := []string{"conv1.weight",
		"bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked",
		"layer1.0.conv1.weight",
		"layer1.0.bn1.weight", "layer1.0.bn1.bias", "layer1.0.bn1.running_mean", "layer1.0.bn1.running_var", "layer1.0.bn1.num_batches_tracked",
		"layer1.0.downsample.0.weight",
		"layer1.0.downsample.1.weight", "layer1.0.downsample.1.bias", "layer1.0.downsample.1.running_mean", "layer1.0.downsample.1.running_var",
		"layer1.0.downsample.1.num_batches_tracked",
		"fc.weight", "fc.bias"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("names (-torchvision's state_dict order +ours):\n%s", diff)
	}
	wantCounts := map[string][]int64{"bn1.num_batches_tracked": {107}, "layer1.0.bn1.num_batches_tracked": {7},
		"layer1.0.downsample.1.num_batches_tracked": {1<<40 + 7}}
	if diff := cmp.Diff(wantCounts, counts); diff != "" {
		t.Errorf("counts loaded at step 40, saved at step 47 (-want +got):\n%s", diff)
	}

	// Save, load at step 3 (a resumed run's), take 5 steps, save again.
	path := filepath.Join(t.TempDir(), "w.safetensors")
	if err := ckpt.Write(path, ts, nil); err != nil {
		t.Fatal(err)
	}
	var warn bytes.Buffer
	f, err := readWeights(path, spec, &warn)
	if err != nil {
		t.Fatal(err)
	}
	if warn.Len() > 0 {
		t.Errorf("readWeights warned: %s", warn.String())
	}
	back := &model.State{Params: make([]float32, spec.ParamsSize), Stats: make([]float32, spec.StatsSize), Step: 3}
	if err := loadWeights(back, spec, f); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ts, weightTensors(back, spec)); diff != "" {
		t.Errorf("save, load, save (-first +second):\n%s", diff)
	}
	back.Step += 5
	for i, want := range []int64{112, 12, 1<<40 + 12} {
		if got := back.BatchesTracked(i); got != want {
			t.Errorf("BN %d after 5 more steps: %d, want %d", i, got, want)
		}
	}

	// A file without counts (weights saved elsewhere without them) counts from 0.
	var plain []ckpt.Tensor
	for _, x := range ts {
		if x.Ints == nil {
			plain = append(plain, x)
		}
	}
	if err := ckpt.Write(path, plain, nil); err != nil {
		t.Fatal(err)
	}
	if f, err = readWeights(path, spec, &warn); err != nil {
		t.Fatal(err)
	}
	if err := loadWeights(back, spec, f); err != nil {
		t.Fatal(err)
	}
	back.Step += 2
	if got := back.BatchesTracked(1); got != 2 {
		t.Errorf("loaded without counts, 2 steps: %d, want 2", got)
	}

	cifar := *spec
	cifar.Family = model.FamilyCifar
	for _, x := range weightTensors(st, &cifar) {
		if x.Ints != nil || strings.HasSuffix(x.Name, trackedSuffix) {
			t.Errorf("the cifar family saves %s", x.Name)
		}
	}
}

// trackedNet is the tiny network as one of the imagenet family: its BN "bn" gets a
// "bn.num_batches_tracked".
func trackedNet() *tinyNet {
	net := newTinyNet()
	net.spec.Family = model.FamilyImageNet
	return net
}

// count returns the bn.num_batches_tracked of a weights file, and whether it has one.
func count(t *testing.T, path string) (int64, bool) {
	t.Helper()
	x, ok := readCkpt(t, path).Get("bn" + trackedSuffix)
	if !ok {
		return 0, false
	}
	if x.Dtype() != ckpt.I64 || len(x.Shape) != 0 || len(x.Ints) != 1 {
		t.Fatalf("%s: bn.num_batches_tracked is %s %v", path, x.Dtype(), x.Shape)
	}
	return x.Ints[0], true
}

// writeTracked writes the tiny network's weights (zeros, variance 1) with the extra
// tensors given.
func writeTracked(t *testing.T, path string, extra ...ckpt.Tensor) {
	t.Helper()
	spec := newTinyNet().Spec()
	st := &model.State{Params: make([]float32, spec.ParamsSize), Stats: []float32{0, 1}}
	if err := ckpt.Write(path, append(weightTensors(st, spec), extra...), nil); err != nil {
		t.Fatal(err)
	}
}

// TestTrainTracked trains the tiny network as one of the imagenet family: every
// checkpoint holds bn.num_batches_tracked, the steps taken (5 an epoch of 40 images in
// batches of 8) plus the count it started from; a resumed run keeps the count exactly
// (the same file as a run in one go); --init counts on from the file's count, or from 0
// when the file has none.
func TestTrainTracked(t *testing.T) {
	net := trackedNet()
	data := writeIDX(t, 40, 12)
	dir := t.TempDir()
	straight := filepath.Join(dir, "straight")
	mustRun(t, net, "train", "--data", data, "--out", straight)
	for _, f := range []string{lastFile, bestFile} {
		path := filepath.Join(straight, f)
		n, ok := count(t, path)
		if f == lastFile && (!ok || n != 15) {
			t.Errorf("%s: bn.num_batches_tracked %d (present: %v), want 15 after 3 epochs of 5 steps", path, n, ok)
		}
		if f == bestFile && (!ok || n%5 != 0 || n < 5) {
			t.Errorf("%s: bn.num_batches_tracked %d (present: %v), want that of an epoch", path, n, ok)
		}
	}

	split := filepath.Join(dir, "split")
	mustRun(t, net, "train", "--data", data, "--out", split, "--epochs", "1")
	if n, _ := count(t, filepath.Join(split, lastFile)); n != 5 {
		t.Errorf("after 1 epoch: %d, want 5", n)
	}
	mustRun(t, net, "train", "--data", data, "--out", split, "--resume", "--epochs", "2")
	mustRun(t, net, "train", "--data", data, "--out", split, "--resume")
	if diff := cmp.Diff(lastTensors(t, straight), lastTensors(t, split)); diff != "" {
		t.Errorf("resumed twice differs from the straight run (-straight +resumed):\n%s", diff)
	}

	from := filepath.Join(dir, "w1000.safetensors")
	writeTracked(t, from, ckpt.Tensor{Name: "bn.num_batches_tracked", Shape: []int{}, Ints: []int64{1000}})
	run1 := filepath.Join(dir, "init")
	mustRun(t, net, "train", "--data", data, "--out", run1, "--init", from, "--epochs", "1")
	if n, _ := count(t, filepath.Join(run1, lastFile)); n != 1005 {
		t.Errorf("--init from a count of 1000, 1 epoch: %d, want 1005", n)
	}
	mustRun(t, net, "train", "--data", data, "--out", run1, "--resume", "--epochs", "2")
	f := readCkpt(t, filepath.Join(run1, lastFile))
	if n, _ := count(t, filepath.Join(run1, lastFile)); n != 1010 || f.Meta[metaStep] != "10" {
		t.Errorf("--init from 1000, then --resume: count %d at step %s, want 1010 at step 10", n, f.Meta[metaStep])
	}

	none := filepath.Join(dir, "w.safetensors")
	writeTracked(t, none)
	run2 := filepath.Join(dir, "init0")
	mustRun(t, net, "train", "--data", data, "--out", run2, "--init", none, "--epochs", "1")
	if n, ok := count(t, filepath.Join(run2, lastFile)); !ok || n != 5 {
		t.Errorf("--init from weights without a count, 1 epoch: %d (present: %v), want 5", n, ok)
	}
	// eval takes the checkpoint.
	if res := evalJSON(t, net, filepath.Join(run1, lastFile), data); res.N != 12 {
		t.Errorf("eval of an imagenet-family checkpoint: %+v", res)
	}
}

// TestTrackedRefused checks that a num_batches_tracked that is not an I64 scalar, or is
// negative, is refused with a message that names the file and the tensor, by train
// --init and eval --weights alike, for the imagenet family; the cifar family ignores
// such tensors, as it ignores PyTorch's, and writes none.
func TestTrackedRefused(t *testing.T) {
	data := writeIDX(t, 16, 4)
	dir := t.TempDir()
	bad := map[string]struct {
		t   ckpt.Tensor
		msg string
	}{
		"F32": {ckpt.Tensor{Name: "bn.num_batches_tracked", Shape: []int{}, Data: []float32{3}},
			"tensor bn.num_batches_tracked is F32 []; a batch normalization's num_batches_tracked must be an I64 scalar (shape [])"},
		"vector": {ckpt.Tensor{Name: "bn.num_batches_tracked", Shape: []int{1}, Ints: []int64{3}},
			"tensor bn.num_batches_tracked is I64 [1]; a batch normalization's num_batches_tracked must be an I64 scalar (shape [])"},
		"negative": {ckpt.Tensor{Name: "bn.num_batches_tracked", Shape: []int{}, Ints: []int64{-1}},
			"tensor bn.num_batches_tracked holds -1, a negative count of batches"},
	}
	for name, b := range bad {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name+".safetensors")
			writeTracked(t, path, b.t)
			for _, args := range [][]string{
				{"train", "--data", data, "--out", filepath.Join(dir, name), "--init", path},
				{"eval", "--data", data, "--weights", path},
			} {
				code, _, errOut := run(t, trackedNet(), args...)
				if code != ExitRefused || !strings.Contains(errOut, path+": "+b.msg) {
					t.Errorf("%s: exit %d, stderr %q; want 1 and %q", args[0], code, errOut, path+": "+b.msg)
				}
			}
			// The cifar family ignores them.
			out := filepath.Join(dir, name+"-cifar")
			code, _, errOut := run(t, newTinyNet(), "train", "--data", data, "--out", out, "--init", path, "--epochs", "1")
			if code != 0 || strings.Contains(errOut, "num_batches_tracked") {
				t.Errorf("cifar family: exit %d, stderr %q; want 0 and no word of num_batches_tracked", code, errOut)
			}
			if _, ok := count(t, filepath.Join(out, lastFile)); ok {
				t.Errorf("the cifar family wrote bn.num_batches_tracked")
			}
		})
	}
	if !slices.ContainsFunc(newTinyNet().spec.Params, func(p model.Param) bool { return p.Role == model.BNMean }) {
		t.Fatal("the tiny network has no BN: these tests test nothing")
	}
}

// TestI64WhereF32 checks that the runtime's own tensors, F32, are refused when a file
// has them as I64: the momentum buffers and the ZCA matrix.
func TestI64WhereF32(t *testing.T) {
	spec := newTinyNet().Spec()
	f := &ckpt.File{Path: "run/last.safetensors", Meta: map[string]string{}, Tensors: []ckpt.Tensor{
		{Name: momentumPrefix + "fc.weight", Shape: []int{tinyClasses, tinyD}, Ints: make([]int64, tinyClasses*tinyD)},
		{Name: momentumPrefix + "fc.bias", Shape: []int{tinyClasses}, Data: make([]float32, tinyClasses)},
		{Name: zcaTensor, Shape: []int{tinyD, tinyD}, Ints: make([]int64, tinyD*tinyD)},
	}}
	if _, err := readMomentum(f, spec); err == nil || err.Error() != "run/last.safetensors: momentum of fc.weight is I64, not F32; the checkpoint is corrupt" {
		t.Errorf("readMomentum: %v", err)
	}
	f.Meta[data.MetaNormKind] = data.NormZCA
	if _, err := normFromWeights(f, spec.Input); err == nil || err.Error() != "run/last.safetensors: tensor __norm__.zca is I64; the ZCA whitening matrix is F32" {
		t.Errorf("normFromWeights: %v", err)
	}
}
