package sim

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// maxRegFile bounds the register slots of one block (8 bytes each) so that a
// kernel with absurdly many registers fails instead of exhausting memory.
const maxRegFile = 1 << 26

// Dim3 is a grid or block shape.
type Dim3 struct{ X, Y, Z int }

func (d Dim3) size() int { return d.X * d.Y * d.Z }

// Config describes one launch.
type Config struct {
	Grid, Block   Dim3
	DynamicShared int  // bytes of dynamic shared memory per block
	Workers       int  // goroutines running blocks; 0 means runtime.NumCPU()
	NoRaceCheck   bool // skip the shared-memory race and initialization checker
	// MaxThreadInstructions stops a thread that executes more instructions
	// than this (an endless loop); 0 means 1<<32.
	MaxThreadInstructions int64
}

// Stats counts what a launch executed.
type Stats struct {
	Instructions int64 // executed by all threads, including ones whose guard was false
	Blocks       int
	Threads      int
}

// Launch runs the kernel over grid x block threads with the given
// parameters (one uint64 per .param .u64, in order) and waits for it.
func (k *Kernel) Launch(mem *Memory, grid, block Dim3, dynamicShared int, args ...uint64) error {
	_, err := k.Run(mem, Config{Grid: grid, Block: block, DynamicShared: dynamicShared}, args...)
	return err
}

// Run is Launch with all options, returning what was executed.
func (k *Kernel) Run(mem *Memory, cfg Config, args ...uint64) (Stats, error) {
	if err := k.checkLaunch(mem, cfg, args); err != nil {
		return Stats{}, err
	}
	mem.mu.RLock()
	defer mem.mu.RUnlock()

	tmpl := make([]uint64, k.nslots)
	copy(tmpl, k.template)
	for i, s := range k.paramSlots {
		tmpl[s] = args[i]
	}
	set := func(sp int, v int) {
		if s := k.special[sp]; s >= 0 {
			tmpl[s] = uint64(v)
		}
	}
	set(spNtidX, cfg.Block.X)
	set(spNtidY, cfg.Block.Y)
	set(spNtidZ, cfg.Block.Z)
	set(spNctaidX, cfg.Grid.X)
	set(spNctaidY, cfg.Grid.Y)
	set(spNctaidZ, cfg.Grid.Z)

	nblocks := cfg.Grid.size()
	nworkers := cfg.Workers
	if nworkers <= 0 {
		nworkers = runtime.NumCPU()
	}
	nworkers = min(nworkers, nblocks)
	var (
		next   atomic.Int64
		failed atomic.Bool
		wg     sync.WaitGroup
		errs   = make([]blockErr, nworkers)
		steps  = make([]uint64, nworkers)
	)
	for i := range nworkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := newWorker(k, mem.buf[:mem.used], cfg, tmpl)
			for !failed.Load() {
				b := int(next.Add(1) - 1)
				if b >= nblocks {
					break
				}
				if err := w.runBlock(b); err != nil {
					errs[i] = blockErr{b, err}
					failed.Store(true)
					break
				}
			}
			steps[i] = w.steps
		}()
	}
	wg.Wait()
	st := Stats{Blocks: nblocks, Threads: nblocks * cfg.Block.size()}
	for _, s := range steps {
		st.Instructions += int64(s)
	}
	var first *blockErr
	for i := range errs {
		if errs[i].err != nil && (first == nil || errs[i].block < first.block) {
			first = &errs[i]
		}
	}
	if first != nil {
		return st, first.err
	}
	return st, nil
}

type blockErr struct {
	block int
	err   error
}

func (k *Kernel) checkLaunch(mem *Memory, cfg Config, args []uint64) error {
	if mem == nil {
		return fmt.Errorf("sim: kernel %s: nil Memory", k.name)
	}
	if len(args) != len(k.params) {
		return fmt.Errorf("sim: kernel %s takes %d parameters, got %d", k.name, len(k.params), len(args))
	}
	g, b := cfg.Grid, cfg.Block
	if g.X < 1 || g.Y < 1 || g.Z < 1 || g.X > 1<<31-1 || g.Y > 65535 || g.Z > 65535 {
		return fmt.Errorf("sim: kernel %s: bad grid (%d,%d,%d)", k.name, g.X, g.Y, g.Z)
	}
	if int64(g.X)*int64(g.Y)*int64(g.Z) > 1<<31 {
		return fmt.Errorf("sim: kernel %s: grid (%d,%d,%d) has more than 2^31 blocks", k.name, g.X, g.Y, g.Z)
	}
	if b.X < 1 || b.Y < 1 || b.Z < 1 || b.X > 1024 || b.Y > 1024 || b.Z > 64 || b.size() > 1024 {
		return fmt.Errorf("sim: kernel %s: bad block (%d,%d,%d): at most 1024 threads, (1024,1024,64) per dimension", k.name, b.X, b.Y, b.Z)
	}
	if n := k.maxntid[0] * max(k.maxntid[1], 1) * max(k.maxntid[2], 1); n > 0 && b.size() > n {
		return fmt.Errorf("sim: kernel %s: block of %d threads exceeds .maxntid %s", k.name, b.size(), dimString(k.maxntid))
	}
	if k.reqntid[0] > 0 {
		want := Dim3{k.reqntid[0], max(k.reqntid[1], 1), max(k.reqntid[2], 1)}
		if b != want {
			return fmt.Errorf("sim: kernel %s: block (%d,%d,%d) differs from .reqntid %s", k.name, b.X, b.Y, b.Z, dimString(k.reqntid))
		}
	}
	if int64(b.size())*int64(k.nslots) > maxRegFile {
		return fmt.Errorf("sim: kernel %s: %d registers x %d threads is more register file than the simulator allots (%d slots per block)", k.name, k.nslots, b.size(), maxRegFile)
	}
	if cfg.DynamicShared < 0 {
		return fmt.Errorf("sim: kernel %s: negative dynamic shared memory", k.name)
	}
	if total := k.sharedSize(cfg.DynamicShared); total > maxShared {
		return fmt.Errorf("sim: kernel %s: %d bytes of shared memory (%d static + %d dynamic) exceed %d", k.name, total, k.static, cfg.DynamicShared, maxShared)
	}
	return nil
}

// sharedSize is the shared memory of one block.
func (k *Kernel) sharedSize(dynamic int) int {
	if dynamic == 0 {
		return k.static
	}
	return alignUp(k.static, k.dynAlign) + dynamic
}

// worker runs blocks of one launch, one at a time.
type worker struct {
	k          *Kernel
	code       []inst
	pool       []int32
	g          []byte
	shared     []byte
	shadow     []shadowWord
	check      bool
	epoch      uint64
	blockEpoch uint64
	block      Dim3 // shape
	grid       Dim3
	tmpl       []uint64
	regs       []uint64
	threads    []thread
	bid        Dim3 // current block index
	steps      uint64
	limit      uint64 // instructions per thread
	fault      string
}

func newWorker(k *Kernel, g []byte, cfg Config, tmpl []uint64) *worker {
	n := cfg.Block.size()
	ss := k.sharedSize(cfg.DynamicShared)
	w := &worker{
		k: k, code: k.code, pool: k.pool, g: g, check: !cfg.NoRaceCheck,
		shared: make([]byte, ss), block: cfg.Block, grid: cfg.Grid,
		tmpl: make([]uint64, len(tmpl)), regs: make([]uint64, n*k.nslots), threads: make([]thread, n),
		limit: 1 << 32,
	}
	if cfg.MaxThreadInstructions > 0 {
		w.limit = uint64(cfg.MaxThreadInstructions)
	}
	copy(w.tmpl, tmpl)
	if w.check {
		w.shadow = make([]shadowWord, (ss+3)/4)
	}
	for i := range w.threads {
		w.threads[i].regs = w.regs[i*k.nslots : (i+1)*k.nslots : (i+1)*k.nslots]
	}
	return w
}

func (w *worker) fail(format string, args ...any) {
	w.fault = fmt.Sprintf(format, args...)
}

func (w *worker) memFault(what, space string, addr uint64, n int) {
	lo, hi := uint64(0), uint64(len(w.shared))
	if space == "global" {
		lo, hi = memBase, memBase+uint64(len(w.g))
	}
	if addr&uint64(n-1) != 0 {
		w.fail("misaligned %d-byte %s %s memory at 0x%x", n, what, space, addr)
		return
	}
	w.fail("out-of-bounds %d-byte %s %s memory at 0x%x (valid: [0x%x, 0x%x))", n, what, space, addr, lo, hi)
}

// threadIndex converts a linear thread index of the block to (x,y,z).
func (w *worker) threadIndex(tid int) Dim3 {
	return Dim3{tid % w.block.X, tid / w.block.X % w.block.Y, tid / (w.block.X * w.block.Y)}
}

func (w *worker) threadName(tid int) string {
	t := w.threadIndex(tid)
	return fmt.Sprintf("(%d,%d,%d)", t.X, t.Y, t.Z)
}

// execErr builds the error of thread tid at instruction pc.
func (w *worker) execErr(tid int, pc int32, msg string) error {
	return &ExecError{Kernel: w.k.name, Line: int(w.k.lines[pc]), Block: w.bid, Thread: w.threadIndex(tid), Msg: msg}
}
