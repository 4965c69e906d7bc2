package cli

import (
	"github.com/wrnc/wrnc/runtime/ckpt"
	"github.com/wrnc/wrnc/runtime/cpu"
	"github.com/wrnc/wrnc/runtime/model"
	"github.com/wrnc/wrnc/runtime/nn"
)

// machine is one instance of the network on the CPU: its State and thread pool.
type machine struct {
	net  model.Net
	spec *model.Spec
	st   *model.State
	pool *cpu.Pool
}

// newMachine allocates the state of net for threads CPU threads. With train, it also
// holds gradients and an arena big enough for training; inference always fits (the
// arena is the largest of the plans it may run).
func newMachine(net model.Net, threads int, train bool) *machine {
	spec := net.Spec()
	arena := max(spec.InferArena, spec.Infer1Arena)
	var grads, momentum []float32
	if train {
		arena = max(arena, spec.TrainArena)
		grads = make([]float32, spec.ParamsSize)
		momentum = make([]float32, spec.ParamsSize)
	}
	pool := cpu.NewPool(threads)
	st := &model.State{
		Params:   make([]float32, spec.ParamsSize),
		Grads:    grads,
		Momentum: momentum,
		Stats:    make([]float32, spec.StatsSize),
		Arena:    make([]float32, arena),
		Ctx:      nn.NewCtx(pool, nil, spec.Workspace),
		Seed:     uint64(spec.Recipe.Seed),
	}
	return &machine{net: net, spec: spec, st: st, pool: pool}
}

// close stops the machine's threads.
func (m *machine) close() { m.pool.Close() }

// imageSize is C*H*W.
func (m *machine) imageSize() int { return m.spec.Input[0] * m.spec.Input[1] * m.spec.Input[2] }

// infer runs inference on n images x ([n, C, H, W]) and writes their logits
// [n, classes] to out: chunks of the compiled batch, the batch-1 kernels for a single
// image.
func (m *machine) infer(n int, x, out []float32) error {
	d, k, b := m.imageSize(), m.spec.Classes, m.spec.Batch
	for i := 0; i < n; {
		c := min(b, n-i)
		var y []float32
		var err error
		if c == 1 {
			y, err = m.net.Infer1(m.st, x[i*d:(i+1)*d])
		} else {
			y, err = m.net.Infer(m.st, c, x[i*d:(i+c)*d])
		}
		if err != nil {
			return err
		}
		copy(out[i*k:(i+c)*k], y[:c*k])
		i += c
	}
	return nil
}

// load puts the weights and statistics of f into the machine's State.
func (m *machine) load(f *ckpt.File) error {
	if err := loadWeights(m.st, m.spec, f); err != nil {
		return err
	}
	return m.net.Loaded(m.st)
}
