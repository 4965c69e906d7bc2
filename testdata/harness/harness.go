// This file is added to a generated package by the tests of cmd/wrnc: with WRNC_HARNESS=DIR
// set, the binary reads DIR/params.safetensors, DIR/x.npy and DIR/labels.npy, runs every entry
// point of the network once, and writes what they computed into DIR, then exits. The test
// also adds harnessNet(), which picks the device (the CPU's net{} or a GPU device's Net).
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/wrnc/wrnc/runtime/ckpt"
	"github.com/wrnc/wrnc/runtime/cpu"
	"github.com/wrnc/wrnc/runtime/model"
	"github.com/wrnc/wrnc/runtime/nn"
)

func init() {
	dir := os.Getenv("WRNC_HARNESS")
	if dir == "" {
		return
	}
	if err := harness(dir); err != nil {
		fmt.Fprintln(os.Stderr, "harness:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func harness(dir string) error {
	nt, err := harnessNet()
	if err != nil {
		return err
	}
	sp := nt.Spec()
	f, err := ckpt.Read(filepath.Join(dir, "params.safetensors"))
	if err != nil {
		return err
	}
	pool := cpu.NewPool(0)
	arena := max(sp.TrainArena, sp.InferArena, sp.Infer1Arena)
	s := &model.State{
		Params: make([]float32, sp.ParamsSize), Grads: make([]float32, sp.ParamsSize), Momentum: make([]float32, sp.ParamsSize),
		Stats: make([]float32, sp.StatsSize), Arena: make([]float32, arena),
		Ctx: nn.NewCtx(pool, cpu.NewGemm(pool), sp.Workspace), Seed: 7, Step: 3,
	}
	for _, p := range sp.Params {
		t, ok := f.Get(p.Name)
		if !ok {
			return fmt.Errorf("no tensor %s", p.Name)
		}
		dst := s.Stats
		if p.Trainable() {
			dst = s.Params
		}
		copy(dst[p.Offset:p.Offset+p.Size()], t.Data)
	}
	if err := nt.Loaded(s); err != nil {
		return err
	}
	xs, x, err := ckpt.ReadNPY(filepath.Join(dir, "x.npy"))
	if err != nil {
		return err
	}
	_, lf, err := ckpt.ReadNPY(filepath.Join(dir, "labels.npy"))
	if err != nil {
		return err
	}
	n := xs[0]
	per := len(x) / n
	labels := make([]int32, n)
	for i, v := range lf {
		labels[i] = int32(v)
	}
	save := func(name string, data []float32, shape ...int) error {
		return ckpt.WriteNPY(filepath.Join(dir, name), shape, append([]float32(nil), data...))
	}
	F := sp.Classes
	y, err := nt.Infer(s, n, x)
	if err != nil {
		return err
	}
	if err := save("infer.npy", y, n, F); err != nil {
		return err
	}
	one := make([]float32, 0, n*F)
	for i := 0; i < n; i++ {
		y, err := nt.Infer1(s, x[i*per:(i+1)*per])
		if err != nil {
			return err
		}
		one = append(one, y...)
	}
	if err := save("infer1.npy", one, n, F); err != nil {
		return err
	}
	y, err = nt.TrainForward(s, n, x)
	if err != nil {
		return err
	}
	logits := append([]float32(nil), y...)
	dlogits := make([]float32, n*F)
	if _, _, err := nn.SoftmaxCE(n, F, logits, labels, dlogits); err != nil {
		return err
	}
	if err := nt.TrainBackward(s, n, dlogits); err != nil {
		return err
	}
	if err := nt.Sync(s); err != nil {
		return err
	}
	if err := save("train.npy", logits, n, F); err != nil {
		return err
	}
	var out []ckpt.Tensor
	for _, p := range sp.Params {
		if p.Trainable() {
			out = append(out, ckpt.Tensor{Name: "grad." + p.Name, Shape: p.Shape, Data: append([]float32(nil), s.Grads[p.Offset:p.Offset+p.Size()]...)})
		} else {
			out = append(out, ckpt.Tensor{Name: p.Name, Shape: p.Shape, Data: append([]float32(nil), s.Stats[p.Offset:p.Offset+p.Size()]...)})
		}
	}
	if err := ckpt.Write(filepath.Join(dir, "out.safetensors"), out, nil); err != nil {
		return err
	}
	// Inference after the training forward pass changed the running statistics (the
	// weights as they were): inference folds the statistics into the weights, which must
	// be made again. trained.safetensors holds those weights and statistics, for a second
	// run to compare with.
	y, err = nt.Infer(s, n, x)
	if err != nil {
		return err
	}
	if err := save("infer-trained.npy", y, n, F); err != nil {
		return err
	}
	var trained []ckpt.Tensor
	for _, p := range sp.Params {
		src := s.Stats
		if p.Trainable() {
			src = s.Params
		}
		trained = append(trained, ckpt.Tensor{Name: p.Name, Shape: p.Shape, Data: append([]float32(nil), src[p.Offset:p.Offset+p.Size()]...)})
	}
	if err := ckpt.Write(filepath.Join(dir, "trained.safetensors"), trained, nil); err != nil {
		return err
	}
	// One compiled training step at the same step number (the same dropout masks) from
	// the same weights: the SGD update of the gradients above, the first of its run.
	r := sp.Recipe
	h := model.Hyper{LR: HarnessLR, Momentum: r.Momentum, Dampening: r.Dampening, WeightDecay: r.WeightDecay, Nesterov: r.Nesterov}
	if _, err := nt.TrainStep(s, n, x, labels, h); err != nil {
		return err
	}
	if err := nt.Sync(s); err != nil {
		return err
	}
	var stepped []ckpt.Tensor
	for _, p := range sp.Params {
		if p.Trainable() {
			stepped = append(stepped, ckpt.Tensor{Name: p.Name, Shape: p.Shape, Data: s.Params[p.Offset : p.Offset+p.Size()]})
		}
	}
	return ckpt.Write(filepath.Join(dir, "step.safetensors"), stepped, nil)
}

// HarnessLR is the learning rate of the harness's training step.
const HarnessLR = 0.1
