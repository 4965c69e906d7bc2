package nn

// The weight gradient of a 3x3, stride 1, pad 1 convolution by Winograd F(m x m, 3 x 3),
// from the transposition principle: the gradient of the 3x3 kernel from one output tile
// (m x m values of dy) and its input patch z (alpha x alpha) is
//
//	dW_tile = G^T [(A dy A^T) . (B^T z B)] G
//
// (A^T, B^T, G those of the forward transform), so the sum over all tiles of a batch is
// taken in the transformed domain: Mhat[t][k][c] = sum over tiles of dyhat[t][k][tile] *
// zhat[t][c][tile], T GEMMs whose depth is the tiles, and G^T Mhat G once per (k, c) at
// the end, in float64.
//
// The batch is cut into chunks (newWinoShape's, sized for this pass). With at least as
// many chunks as threads, each thread runs whole chunks into its own Mhat, and the output
// transform sums the threads' Mhat; with fewer, all threads work on each chunk in turn:
// first the input and dy transforms split by channel blocks, then the T GEMMs split by
// position t (each thread owns its positions' rows of one Mhat).
//
// Layout of one chunk of P tiles (cpw = C rounded up to 16, kpw = K rounded up to 8):
//
//	zhat   T x cpw/16 x P x 16: the GEMMs' B, in micro-panels (panel stride P*16)
//	dyhat  T x P x kpw: the GEMMs' A, stored transposed ([tile][k])
//	mhat   T x K x cpw: the sums, over all chunks

// wgradShape returns the chunking of the weight gradient of c with tile size m: the
// forward shape with the channels rounded for this pass (cp to 16 for the panels, kp
// to 8) and larger chunks (deeper GEMMs, fewer steps).
func wgradShape(c *Conv, m int) winoShape {
	s := newWinoShape(c, m)
	s.cp, s.kp = (c.C+15)&^15, (c.K+7)&^7
	const budget = 640 << 10 // floats of zhat and dyhat together
	target := min(max(budget/(s.t*(s.cp+s.kp)), 32), 256)
	per := s.th * s.tw
	if per <= target {
		s.imgs, s.rows = max(target/per, 1), s.th
	} else {
		s.imgs, s.rows = 1, max(target/s.tw, 1)
	}
	s.p = s.imgs * s.rows * s.tw
	return s
}

// WinogradWgrad writes dw [K,C,3,3] (overwritten), the weight gradient of the 3x3
// stride-1 pad-1 conv c (c.Winograd3()) from x [n,C,H,W] loaded through pre and dy
// [n,K,H,W], by Winograd F(m x m, 3 x 3) (m 2 or 4). Preconditions are those of
// Im2colBackward (conv.go).
func WinogradWgrad(ctx *Ctx, n int, c *Conv, m int, x []float32, pre *Pre, dy, dw []float32) {
	wc := &ctx.wc
	*wc = winoCall{s: wgradShape(c, m), n: n, cin: c.C, kout: c.K, h: c.H, w: c.W, x: x, ld: makeLoader(pre), y: dy, res: dw}
	s := &wc.s
	for t := 0; t < ctx.threads; t++ {
		ctx.winoWorkspace(t)
		if need := (9 + 3*s.a) * c.C; len(ctx.wgAcc[t]) < need {
			ctx.wgAcc[t] = make([]float64, need)
		}
	}
	// The chunks are cut into groups summed apart, each into an Mhat of its own, chunks
	// in order; wgradOut adds the groups up in order. The groups depend on the shape
	// alone, so the sums do not depend on the thread count: threads take whole groups
	// when they divide them evenly, or else share each chunk's work, group by group.
	wc.nq = s.chunks(n)
	wc.groups = wgradGroups(wc.nq, s.t*c.K*s.cp)
	for j := range wc.groups {
		growF32(&ctx.mhats[j], s.t*c.K*s.cp)
	}
	if wc.groups%ctx.threads == 0 {
		ctx.pool.ForChunk(wc.groups, ctx.wgradGroupsBody)
	} else {
		for j := range wc.groups {
			q0, q1 := groupBounds(j, wc.groups, wc.nq)
			wc.j, wc.q0 = j, q0
			for q := q0; q < q1; q++ {
				wc.q = q
				ctx.pool.ForChunk(s.cp/8+s.kp/8, ctx.wgradInBody)
				ctx.pool.ForChunk(s.t, ctx.wgradGemmBody)
			}
		}
	}
	ctx.pool.ForChunk(c.K, ctx.wgradOutBody)
	*wc = winoCall{}
}

// wgradPartsBudget bounds the floats of the groups' Mhats together (64 MiB); a layer
// whose Mhat is larger sums in two groups.
const wgradPartsBudget = 16 << 20

// wgradGroups is how many groups the nq chunks of a weight gradient whose Mhat holds
// mhat floats are summed in: up to maxSumGroups, as many as the budget allows, at least
// 2 (when there are 2 chunks), never more than the chunks.
func wgradGroups(nq, mhat int) int {
	return max(min(nq, maxSumGroups, max(wgradPartsBudget/max(mhat, 1), 2)), 1)
}

// wgradGroupsOf runs the chunk groups [lo, hi) whole on thread t, each into its Mhat.
func (ctx *Ctx) wgradGroupsOf(t, lo, hi int) {
	wc := &ctx.wc
	s := &wc.s
	ws := &ctx.wws[t]
	for j := lo; j < hi; j++ {
		q0, q1 := groupBounds(j, wc.groups, wc.nq)
		for q := q0; q < q1; q++ {
			for cb := 0; cb < s.cp/8; cb++ {
				ctx.wgradInZ(ws, ws, q, cb)
			}
			for kb := 0; kb < s.kp/8; kb++ {
				ctx.wgradInDY(ws, ws, q, kb)
			}
			ctx.wgradProducts(ws, ctx.mhats[j], q, 0, s.t, q > q0)
		}
	}
}

// wgradIn transforms blocks [lo, hi) of chunk wc.q: input channel blocks first (into
// zhat, thread 0's v), then dy channel blocks (into dyhat, thread 0's m).
func (ctx *Ctx) wgradIn(t, lo, hi int) {
	wc := &ctx.wc
	s := &wc.s
	own, vm := &ctx.wws[t], &ctx.wws[0]
	nz := s.cp / 8
	for b := lo; b < hi; b++ {
		if b < nz {
			ctx.wgradInZ(own, vm, wc.q, b)
		} else {
			ctx.wgradInDY(own, vm, wc.q, b-nz)
		}
	}
}

// wgradInZ writes zhat of input channel block cb of chunk q into vm.v.
func (ctx *Ctx) wgradInZ(own, vm *winoWS, q, cb int) {
	wc := &ctx.wc
	s := &wc.s
	i0, i1, r0, r1 := s.chunk(q, wc.n)
	base := cb/2*s.p*16 + cb%2*8
	if cb*8 >= wc.cin {
		// A padding half-panel: zeros.
		pc := (i1 - i0) * (r1 - r0) * s.tw
		for t := 0; t < s.t; t++ {
			for p := 0; p < pc; p++ {
				o := t*s.vT() + base + p*16
				clear(vm.v[o : o+8])
			}
		}
		return
	}
	for i := i0; i < i1; i++ {
		ctx.winoPackZ(own, i, cb, r0, r1)
		for ty := r0; ty < r1; ty++ {
			p0 := ((i-i0)*(r1-r0) + ty - r0) * s.tw
			ctx.kern.WinoInput(s.m, own.z[(ty-r0)*s.m*s.wz*8:], s.wz*8, vm.v[base+p0*16:], s.vT(), 16, s.tw)
		}
	}
}

// wgradInDY writes dyhat of dy channel block kb of chunk q into vm.m.
func (ctx *Ctx) wgradInDY(own, vm *winoWS, q, kb int) {
	wc := &ctx.wc
	s := &wc.s
	i0, i1, r0, r1 := s.chunk(q, wc.n)
	h, w := wc.h, wc.w
	k0 := kb * 8
	kn := min(8, wc.kout-k0)
	yRow := s.tw * s.m * 8
	for i := i0; i < i1; i++ {
		for ty := r0; ty < r1; ty++ {
			oy := ty * s.m
			rows := min(s.m, h-oy)
			if rows < s.m || w < s.tw*s.m {
				clear(own.yst[:s.m*yRow])
			}
			ctx.kern.PackC8(wc.y[((i*wc.kout+k0)*h+oy)*w:], w, h*w, kn, w, rows, nil, nil, own.yst, yRow)
			p0 := ((i-i0)*(r1-r0) + ty - r0) * s.tw
			ctx.kern.WinoDY(s.m, own.yst, yRow, vm.m[p0*s.kp+k0:], s.mT(), s.kp, s.tw)
		}
	}
}

// wgradGemm adds the products of positions [lo, hi) of chunk wc.q into the Mhat of
// group wc.j.
func (ctx *Ctx) wgradGemm(_, lo, hi int) {
	wc := &ctx.wc
	ctx.wgradProducts(&ctx.wws[0], ctx.mhats[wc.j], wc.q, lo, hi, wc.q > wc.q0)
}

// wgradProducts writes (or adds, when acc) the products of positions [t0, t1) of chunk q
// (transforms in vm) into mhat.
func (ctx *Ctx) wgradProducts(vm *winoWS, mhat []float32, q, t0, t1 int, acc bool) {
	wc := &ctx.wc
	s := &wc.s
	i0, i1, r0, r1 := s.chunk(q, wc.n)
	pc := (i1 - i0) * (r1 - r0) * s.tw
	k := wc.kout
	for t := t0; t < t1; t++ {
		ctx.kern.MulPanels(true, k, s.cp, pc, vm.m[t*s.mT():], s.kp, vm.v[t*s.vT():], s.p*16,
			mhat[t*k*s.cp:], s.cp, acc)
	}
}

// wgradOut writes dw of output channels [lo, hi): G^T Mhat G per (k, c), the groups'
// Mhats summed in order, in float64, with the input channels innermost so that Mhat is read row
// by row.
func (ctx *Ctx) wgradOut(t, lo, hi int) {
	wc := &ctx.wc
	s := &wc.s
	cin, a := wc.cin, s.a
	dw := wc.res
	// acc[(i*3+j)*cin + c] = (G^T Mhat G)[i][j] of (k, c); tmp[(i*a+q)*cin + c] =
	// (G^T Mhat)[i][q].
	acc := ctx.wgAcc[t][:9*cin]
	tmp := ctx.wgAcc[t][9*cin : (9+3*a)*cin]
	g := winoG(s.m)
	for k := lo; k < hi; k++ {
		clear(tmp)
		for j := range wc.groups {
			ctx.wgradLeft(tmp, ctx.mhats[j], g, k)
		}
		clear(acc)
		for i := 0; i < 3; i++ {
			for q := 0; q < a; q++ {
				src := tmp[(i*a+q)*cin : (i*a+q+1)*cin]
				for j := 0; j < 3; j++ {
					f := g[q][j]
					if f == 0 {
						continue
					}
					out := acc[(i*3+j)*cin : (i*3+j+1)*cin]
					for c, v := range src {
						out[c] += f * v
					}
				}
			}
		}
		for c := 0; c < cin; c++ {
			o := dw[(k*cin+c)*9 : (k*cin+c)*9+9]
			for ij := range o {
				o[ij] = float32(acc[ij*cin+c])
			}
		}
	}
}

// wgradLeft adds G^T Mhat of output channel k, all input channels, into tmp
// ((i*alpha+q)*cin + c).
func (ctx *Ctx) wgradLeft(tmp []float64, mhat []float32, g [][3]float64, k int) {
	wc := &ctx.wc
	s := &wc.s
	a, kk, cin := s.a, wc.kout, wc.cin
	for r := 0; r < a; r++ {
		for q := 0; q < a; q++ {
			row := mhat[((r*a+q)*kk+k)*s.cp:]
			row = row[:cin]
			for i := 0; i < 3; i++ {
				f := g[r][i]
				if f == 0 {
					continue
				}
				ctx.kern.AxpyF64(tmp[(i*a+q)*cin:(i*a+q+1)*cin], f, row)
			}
		}
	}
}
