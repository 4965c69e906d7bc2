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
		Params: make([]float32, sp.ParamsSize), Grads: make([]float32, sp.ParamsSize),
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
	if err := save("infer.npy", nt.Infer(s, n, x), n, F); err != nil {
		return err
	}
	one := make([]float32, 0, n*F)
	for i := 0; i < n; i++ {
		one = append(one, nt.Infer1(s, x[i*per:(i+1)*per])...)
	}
	if err := save("infer1.npy", one, n, F); err != nil {
		return err
	}
	logits := append([]float32(nil), nt.TrainForward(s, n, x)...)
	dlogits := make([]float32, n*F)
	if _, _, err := nn.SoftmaxCE(n, F, logits, labels, dlogits); err != nil {
		return err
	}
	nt.TrainBackward(s, n, dlogits)
	if e, ok := nt.(interface{ Err() error }); ok && e.Err() != nil {
		return e.Err()
	}
	if err := save("train.npy", logits, n, F); err != nil {
		return err
	}
	var out []ckpt.Tensor
	for _, p := range sp.Params {
		if p.Trainable() {
			out = append(out, ckpt.Tensor{Name: "grad." + p.Name, Shape: p.Shape, Data: s.Grads[p.Offset : p.Offset+p.Size()]})
		} else {
			out = append(out, ckpt.Tensor{Name: p.Name, Shape: p.Shape, Data: s.Stats[p.Offset : p.Offset+p.Size()]})
		}
	}
	return ckpt.Write(filepath.Join(dir, "out.safetensors"), out, nil)
}
