package nn

import (
	"fmt"

	"github.com/wrnc/wrnc/runtime/contract"
	"github.com/wrnc/wrnc/runtime/cpu"
)

// Conv describes one convolution (the contract's shape).
type Conv = contract.Conv

// Sizes of the parts of one thread's workspace for c: the column matrix (C*R*R x OH*OW)
// and one transformed input plane (H*W).
func colSize(c *Conv) int { return c.C * c.R * c.R * c.OH * c.OW }

func workspace(c *Conv) int {
	ws := colSize(c) + c.H*c.W
	if c.OneByOne() {
		ws = max(ws, pwWorkspace(c))
	}
	return ws
}

// WorkspaceFor returns the workspace, in float32s per thread, that NewCtx needs for the
// convolutions given.
func WorkspaceFor(convs ...Conv) int {
	ws := 0
	for i := range convs {
		ws = max(ws, workspace(&convs[i]))
	}
	return ws
}

// Ctx bundles what the kernels need besides their arguments: the pool, the shared parallel
// GEMM, one single-threaded GEMM and one workspace per pool thread, and the state of the
// call in progress. It is made once and reused; a Ctx is not safe for concurrent use (give
// each goroutine its own; they may share a cpu.Pool).
type Ctx struct {
	pool    *cpu.Pool
	gemm    *cpu.Gemm
	threads int
	ws      int         // workspace floats per thread
	buf     []float32   // threads * ws
	serial  []*cpu.Gemm // serial[t] runs on thread t alone
	parts   [][]float32 // parts[j]: the partial weight gradient of image group j > 0 (convback.go)

	conv convCall
	pw   pwCall // the pointwise forward pass in progress (pointwise.go)
	bn   bnCall
	head headCall
	mp   poolCall // the max pool in progress (pool.go)
	add  addCall  // the residual add-ReLU in progress (addrelu.go)

	// The Winograd and im2row methods: the kernel family, and the call in progress and
	// per-thread workspace of each pass.
	kern  *cpu.Kernels
	wc    winoCall // Winograd forward, input or weight gradient (wino*.go)
	wws   []winoWS
	mhats [][]float32 // per chunk group: the weight gradient's sums in the Winograd domain (wino_wgrad.go)
	wgAcc [][]float64 // per thread: the weight gradient's output transform
	rc    rowCall     // the im2row convolution in progress (direct.go)
	rws   []rowWS
	pws   [][]float32 // each thread's scratch of MaxPoolForward
	rb    rowBack     // its backward pass (direct_back.go)
	rbws  []rowBackWS
	// rowParts[j]: the weight gradient of image group j of the im2row backward pass.
	rowParts [][]float32
	cc       colCall     // the packed im2col forward pass in progress (colpanels.go)
	cws      [][]float32 // per thread: its packed columns and edge tile
	wt       winoWT      // the weight transform in progress
	sgd      sgdCall     // the SGD step in progress

	// Loop bodies bound once, so that handing them to the pool does not allocate.
	fwdBody, bwdBody, loadBody, pwBody                   func(t, lo, hi int)
	reduceBody, bnTrainBody, bnBackBody                  func(lo, hi int)
	headFwdBody, headBwdBody                             func(lo, hi int)
	poolBwdBody                                          func(lo, hi int)
	poolFwdBody                                          func(t, lo, hi int)
	addFwdBody, addBwdBody                               func(lo, hi int)
	winoChunksBody, winoInBody, winoOutBody, winoOwnBody func(t, lo, hi int)
	wgradInBody, wgradGemmBody, wgradOutBody             func(t, lo, hi int)
	wgradGroupsBody                                      func(t, lo, hi int)
	rowChunksBody, rowBackBody, colBody                  func(t, lo, hi int)
	rowDWBody, rowWeightsTBody                           func(lo, hi int)
	winoWeightsBody, rowWeightsBody, sgdBody             func(lo, hi int)

	// Batch statistics over several processes (SetBNSum, syncbn.go): the sum, its
	// buffer, the float64 means of the BNTrain in progress, and the loop bodies.
	bnSum                         func([]float64)
	bnAcc, bnMean                 []float64
	bnSyncSumsBody, bnSyncDevBody func(lo, hi int)
	bnBackSumsBody, bnBackDxBody  func(lo, hi int)
}

// NewCtx returns a context running on pool's threads with workspace float32s per thread
// (see WorkspaceFor). gemm is the parallel GEMM used for single images; nil makes one.
func NewCtx(pool *cpu.Pool, gemm *cpu.Gemm, workspace int) *Ctx {
	if gemm == nil {
		gemm = cpu.NewGemm(pool)
	}
	t := pool.Threads()
	ctx := &Ctx{
		pool:     pool,
		gemm:     gemm,
		threads:  t,
		ws:       max(workspace, 0),
		buf:      make([]float32, t*max(workspace, 0)),
		serial:   make([]*cpu.Gemm, t),
		parts:    make([][]float32, maxSumGroups),
		kern:     cpu.NewKernels(),
		wws:      make([]winoWS, t),
		wgAcc:    make([][]float64, t),
		rws:      make([]rowWS, t),
		pws:      make([][]float32, t),
		cws:      make([][]float32, t),
		rbws:     make([]rowBackWS, t),
		rowParts: make([][]float32, maxSumGroups),
		mhats:    make([][]float32, maxSumGroups),
	}
	for i := range ctx.serial {
		ctx.serial[i] = cpu.NewGemm(cpu.NewPool(1))
	}
	ctx.fwdBody = ctx.forwardImages
	ctx.pwBody = ctx.pwItems
	ctx.bwdBody = ctx.backwardImages
	ctx.loadBody = ctx.loadChannels
	ctx.reduceBody = ctx.reduceDW
	ctx.bnTrainBody = ctx.bnTrainChannels
	ctx.bnBackBody = ctx.bnBackChannels
	ctx.headFwdBody = ctx.headForwardImages
	ctx.headBwdBody = ctx.headBackwardChannels
	ctx.poolFwdBody = ctx.poolForwardPlanes
	ctx.poolBwdBody = ctx.poolBackwardPlanes
	ctx.addFwdBody = ctx.addForwardPlanes
	ctx.addBwdBody = ctx.addBackwardPlanes
	ctx.winoChunksBody = ctx.winoChunks
	ctx.winoInBody = ctx.winoInStep
	ctx.winoOutBody = ctx.winoOutStep
	ctx.winoOwnBody = ctx.winoOwn
	ctx.winoWeightsBody = ctx.winoWeightsChannels
	ctx.wgradInBody = ctx.wgradIn
	ctx.wgradGemmBody = ctx.wgradGemm
	ctx.wgradOutBody = ctx.wgradOut
	ctx.wgradGroupsBody = ctx.wgradGroupsOf
	ctx.rowChunksBody = ctx.rowChunks
	ctx.colBody = ctx.colItems
	ctx.rowBackBody = ctx.rowBackImages
	ctx.rowDWBody = ctx.rowDW
	ctx.rowWeightsTBody = ctx.rowWeightsT
	ctx.rowWeightsBody = ctx.rowWeightsChannels
	ctx.sgdBody = ctx.sgdRange
	return ctx
}

// Threads returns the number of threads the kernels use.
func (ctx *Ctx) Threads() int { return ctx.threads }

// CheckConv reports whether c is a valid convolution (c.Validate) and n, the images of a
// call, at least 1: the preconditions on the shape of every convolution method.
func CheckConv(c *Conv, n int) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if n < 1 {
		return fmt.Errorf("conv %+v: %d images, want >= 1", *c, n)
	}
	return nil
}

// Check reports whether c is valid and fits the workspace of ctx.
func (ctx *Ctx) Check(c *Conv) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if need := workspace(c); need > ctx.ws {
		return fmt.Errorf("nn.Ctx: conv %+v needs %d workspace floats per thread, the Ctx has %d (size it with WorkspaceFor)", *c, need, ctx.ws)
	}
	return nil
}

// scratch returns thread t's workspace for the conv of the current call.
func (ctx *Ctx) scratch(t int) (col, plane []float32) {
	c := &ctx.conv.c
	s := ctx.buf[t*ctx.ws : (t+1)*ctx.ws]
	nc := colSize(c)
	return s[:nc], s[nc : nc+c.H*c.W]
}

// Err is the first broken precondition that a kernel of the context met, or nil. Such a
// kernel computed nothing (package cpu records instead of panicking); the caller, which
// validated its plan once, reports it as an error after its call.
func (ctx *Ctx) Err() error {
	if err := ctx.kern.Err(); err != nil {
		return err
	}
	if err := ctx.gemm.Err(); err != nil {
		return err
	}
	for _, g := range ctx.serial {
		if err := g.Err(); err != nil {
			return err
		}
	}
	return nil
}
