package nn

// Winograd convolution F(m x m, 3 x 3) for 3x3, stride 1, pad 1 convolutions (the bulk
// of a WRN), forward and input gradient. With alpha = m+2 and T = alpha^2, one image's
// output is cut into th x tw tiles of m x m; tile p's input patch (alpha x alpha) is
// transformed (V = B^T d B, with the BN-ReLU applied first), multiplied position by
// position with the transformed weights (U = G g G^T) as T GEMMs summing over input
// channels, and the products are transformed back (Y = A^T M A), with the residual added
// on the way out. m = 4 needs 36 multiplies per output tile of 16 where the direct method
// needs 144; m = 2 needs 16 for 4 (36 direct).
//
// Data layout of one chunk of P tiles (whole images, or a range of tile rows of one
// image), all in float32s:
//
//	z    one block of 8 input channels of one image, c8 (cpu.PackC8): hz x wz vectors,
//	     zero outside the image (PyTorch pads after the ReLU)
//	v    T x P x cp: v[t][p][c], the transformed inputs, the GEMMs' A (P x cp row-major)
//	m    T x P x kp: m[t][p][k], the products, the GEMMs' C
//	u    T x kp/16 x cp x 16: the transformed weights, packed as the GEMMs' B (cpu.PackB)
//	yst  one row of output tiles of 8 output channels, c8, before cpu.UnpackC8
//
// cp is C rounded up to 8, kp is K rounded up to 16.

// winoShape is the geometry of the Winograd convolution of one Conv with tile size m.
type winoShape struct {
	m, a, t int // m, alpha = m+2, T = alpha^2
	th, tw  int // tiles per image in y and x
	cp, kp  int // channels rounded up: input to 8, output to 16
	wz      int // c8 row length: tw*m + 2
	// Chunking: a chunk holds imgs whole images, or (imgs == 1) rows tile rows of one
	// image; p is the most tiles of a chunk.
	imgs, rows, p int
}

// winoTileTarget is the tiles of a chunk aimed for, as a function of the floats that v
// and m take per tile: enough rows for the GEMMs to reuse each packed weight panel,
// few enough that v and m stay near L2.
func winoTileTarget(perTile int) int {
	const budget = 160 << 10 // floats of v and m together
	return min(max(budget/perTile, 24), 128)
}

func newWinoShape(c *Conv, m int) winoShape {
	s := winoShape{m: m, a: m + 2, t: (m + 2) * (m + 2)}
	s.th, s.tw = (c.OH+m-1)/m, (c.OW+m-1)/m
	s.cp, s.kp = (c.C+7)&^7, (c.K+15)&^15
	s.wz = s.tw*m + 2
	target := winoTileTarget(s.t * (s.cp + s.kp))
	per := s.th * s.tw
	if per <= target {
		s.imgs, s.rows = max(target/per, 1), s.th
	} else {
		s.imgs, s.rows = 1, max(target/s.tw, 1)
	}
	s.p = s.imgs * s.rows * s.tw
	return s
}

// balance shortens the chunks of a batch of n images cut by tile rows, when there are
// few of them, so that their number is a multiple of threads and they are of one size
// (a thread does not wait for another's extra chunk).
//
// A whole image that is one chunk stays one with fewer images than threads, and winoRun
// puts all threads on each (cooperative steps). Cutting it by tile rows instead costs
// each thread a read of all of u (t*C*K floats) and GEMMs of fewer rows, against the
// cooperative steps' hand-over of v (t*tiles*C floats) between the cores. In isolation
// (AMD EPYC Zen 5, 2 cores, BenchmarkConvForward/.../n=1/t=2, u hot in the caches) the
// cut won where K/tiles is small (128x16x16 F(4x4), 8: 171 -> 133 µs; 192x16x16 F(4x4),
// 12: 255 -> 193 µs; 256x8x8 F(2x2), 16: 169 -> 150 µs), tied at 16-20 for F(4x4) and
// lost above (384x8x8 F(2x2), 24: 275 -> 327 µs; 640x8x8 F(2x2), 40: 1.03 -> 1.82 ms). Inside the network, where u comes from beyond the L3
// (WRN-16-4 at batch 1 reads 23 MB of transformed weights an image), the cut lost
// everywhere: WRN-16-4's 64x32x32 F(4x4) layers took 275-310 µs cut against 225-265 µs
// cooperative, and its 256x8x8 F(2x2) layers cut gave 300 against 310 images/s.
func (s *winoShape) balance(n, threads int) {
	if s.imgs > 1 || threads < 2 {
		return
	}
	per := (s.th + s.rows - 1) / s.rows
	if per == 1 && n < threads {
		return // one chunk per image, fewer images than threads: all threads on each
	}
	if n*per >= 4*threads || (n*per)%threads == 0 && s.th%s.rows == 0 {
		return
	}
	for want := (n*per + threads - 1) / threads * threads; want <= n*s.th; want += threads {
		if want%n != 0 {
			continue
		}
		rows := (s.th + want/n - 1) / (want / n)
		if (s.th+rows-1)/rows == want/n {
			s.rows = rows
			s.p = rows * s.tw
			return
		}
	}
}

// chunks returns the number of chunks of n images.
func (s *winoShape) chunks(n int) int {
	if s.imgs > 1 {
		return (n + s.imgs - 1) / s.imgs
	}
	return n * ((s.th + s.rows - 1) / s.rows)
}

// chunk returns chunk q of n images: images [i0, i1) and, within each, tile rows
// [r0, r1).
func (s *winoShape) chunk(q, n int) (i0, i1, r0, r1 int) {
	if s.imgs > 1 {
		i0 = q * s.imgs
		return i0, min(i0+s.imgs, n), 0, s.th
	}
	per := (s.th + s.rows - 1) / s.rows
	i0, r0 = q/per, q%per*s.rows
	return i0, i0 + 1, r0, min(r0+s.rows, s.th)
}

// vT and mT are the floats between the t planes of a chunk's v (p x cp each) and m
// (p x kp each): planeStride of their sizes.
func (s *winoShape) vT() int { return planeStride(s.p * s.cp) }
func (s *winoShape) mT() int { return planeStride(s.p * s.kp) }

// planeStride returns n floats rounded up to an odd number of 64-byte lines, so that the
// transforms' t planes fall into distinct L1 sets: one tile's alpha^2 vectors are
// written (and read) a plane apart, and with planes a multiple of 4 KiB apart all of
// them went to one set of the 12-way L1, which evicted on every store (WRN-16-4's
// 64x32x32 F(4x4) chunk, 64 tiles x 64 channels, has planes of 16 KiB).
func planeStride(n int) int {
	n = (n + 15) &^ 15
	if n/16%2 == 0 {
		n += 16
	}
	return n
}

// Workspace floats of one chunk.
func (s *winoShape) zLen() int    { return (s.rows*s.m + 2) * s.wz * 8 }
func (s *winoShape) vLen() int    { return s.t * s.vT() }
func (s *winoShape) mLen() int    { return s.t * s.mT() }
func (s *winoShape) yLen() int    { return s.m * s.tw * s.m * 8 }
func (s *winoShape) uLen() int    { return s.t * s.cp * s.kp }
func (s *winoShape) workLen() int { return s.zLen() + s.vLen() + s.mLen() + s.yLen() }

// winoG returns G of F(m x m, 3 x 3) (alpha x 3), in float64.
func winoG(m int) [][3]float64 {
	if m == 2 {
		return [][3]float64{{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}}
	}
	return [][3]float64{
		{1.0 / 4, 0, 0},
		{-1.0 / 6, -1.0 / 6, -1.0 / 6},
		{-1.0 / 6, 1.0 / 6, -1.0 / 6},
		{1.0 / 24, 1.0 / 12, 1.0 / 6},
		{1.0 / 24, -1.0 / 12, 1.0 / 6},
		{0, 0, 1},
	}
}

// winoWeights writes u, the transformed weights of the Winograd convolution's output
// channels [k0, k1), packed as the GEMMs' B: u[t][k/16][c][k%16] = (G g G^T)[t] with g
// the 3x3 kernel from its input channel c to its output channel k, computed in float64
// and rounded once. w is the conv's [K, C, 3, 3] weights. For the forward pass g =
// w[k][c]; for the input gradient (dgrad: input dy, K channels; output dz, C channels) g
// is w[c][k] rotated by 180 degrees. The panels' entries of padding channels are zeroed.
func winoWeights(s *winoShape, w []float32, C, K int, dgrad bool, u []float32, k0, k1 int, gamma, runVar []float32) {
	cin, kout := C, K
	if dgrad {
		cin, kout = K, C
	}
	// Panel by panel, input channel by input channel: the T transformed values of the
	// panel's 16 kernels from channel c are made in a tile, then written as T whole
	// lines (u[t][panel][c][:]). The 16 kernels are read as 16 sequential streams (w[k][c]
	// over c, forward) or one (w[c][kp0:kp0+16], dgrad).
	var tile [36][16]float32
	var folded [9]float32
	stride := s.cp * s.kp
	for kp0 := k0 &^ 15; kp0 < k1; kp0 += 16 {
		q0, q1 := max(kp0, k0)-kp0, min(kp0+16, k1, kout)-kp0
		for c := 0; c < s.cp; c++ {
			base := (kp0/16*s.cp + c) * 16
			if c >= cin || q1 <= q0 {
				for t := 0; t < s.t; t++ {
					clear(u[t*stride+base : t*stride+base+16])
				}
				continue
			}
			if q0 > 0 || q1 < 16 {
				tile = [36][16]float32{}
			}
			for q := q0; q < q1; q++ {
				if dgrad {
					winoKernel(s.m, w[(c*C+kp0+q)*9:(c*C+kp0+q)*9+9], true, &tile, q)
				} else {
					src := w[((kp0+q)*C+c)*9 : ((kp0+q)*C+c)*9+9]
					if gamma != nil {
						scaleRow(folded[:], src, foldScale(gamma, runVar, kp0+q))
						src = folded[:]
					}
					winoKernel(s.m, src, false, &tile, q)
				}
			}
			for t := 0; t < s.t; t++ {
				*(*[16]float32)(u[t*stride+base:]) = tile[t]
			}
		}
	}
}

// winoKernel writes column q of tile, the alpha^2 values of G g G^T for the 3x3 kernel
// g = src (rotated by 180 degrees when rot), computed in float64 and rounded once.
func winoKernel(m int, src []float32, rot bool, tile *[36][16]float32, q int) {
	g1 := func(f *[3]float64, o *[6]float64) { // direct calls: nothing escapes
		if m == 2 {
			winoG2(f, o)
		} else {
			winoG4(f, o)
		}
	}
	var f [3][3]float64
	src = src[:9]
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			if rot {
				f[i][j] = float64(src[(2-i)*3+2-j])
			} else {
				f[i][j] = float64(src[i*3+j])
			}
		}
	}
	var tmp [3][6]float64 // tmp[j] = G f[:, j]
	var col [3]float64
	var row [6]float64
	for j := 0; j < 3; j++ {
		col = [3]float64{f[0][j], f[1][j], f[2][j]}
		g1(&col, &tmp[j])
	}
	a := m + 2
	for r := 0; r < a; r++ {
		col = [3]float64{tmp[0][r], tmp[1][r], tmp[2][r]}
		g1(&col, &row)
		for x, v := range row[:a] {
			tile[r*a+x][q] = float32(v)
		}
	}
}

// winoG4 writes o = G f for G of F(4x4, 3x3) (see winoG).
func winoG4(f *[3]float64, o *[6]float64) {
	// Products with the reciprocals rather than quotients: a float64 division costs as
	// much as a dozen multiplications, and the transform of a wide network's weights
	// runs after every SGD step. The results differ from the quotients by at most an
	// ulp of float64, far below the float32 rounding that follows.
	const sixth, twelfth, twentyFourth = 1.0 / 6, 1.0 / 12, 1.0 / 24
	sum, mid := f[0]+f[2], f[1]
	b := f[0]*twentyFourth + f[2]*sixth
	o[0] = f[0] * 0.25
	o[1] = -(sum + mid) * sixth
	o[2] = -(sum - mid) * sixth
	o[3] = b + mid*twelfth
	o[4] = b - mid*twelfth
	o[5] = f[2]
}

// winoG2 writes o = G f for G of F(2x2, 3x3) (see winoG); o[4:] is left alone.
func winoG2(f *[3]float64, o *[6]float64) {
	sum := f[0] + f[2]
	o[0] = f[0]
	o[1] = (sum + f[1]) * 0.5
	o[2] = (sum - f[1]) * 0.5
	o[3] = f[2]
}

// WinogradWeights writes u, the transformed weights U = G g G^T of the Winograd
// F(m x m, 3 x 3) convolution of c (c.Winograd3(), m 2 or 4) from its weights w [K,C,3,3],
// packed as WinogradForward (dgrad false) or WinogradDgrad (dgrad true) reads them:
// len(u) == contract.WinogradWeightsLen(c, m, dgrad), padding entries zeroed (u need not
// be). Computed in float64 and rounded once, output panels split over the pool's threads.
// The caller makes u again whenever w changes (after a load, after an optimizer step).
func WinogradWeights(ctx *Ctx, c *Conv, m int, dgrad bool, w, u []float32) {
	s, nk := newWinoShape(c, m), c.K
	if dgrad {
		d := dgradConv(c)
		s, nk = newWinoShape(&d, m), c.C
	}
	ctx.wt = winoWT{s: s, w: w, c: c.C, k: c.K, dgrad: dgrad, u: u}
	ctx.pool.For((nk+15)/16, ctx.winoWeightsBody)
	ctx.wt = winoWT{}
}

// WinogradWeightsFolded is WinogradWeights for the forward pass of the weights with a BN
// folded in (FoldBN's wf, without writing it): output channel k of w scaled by
// gamma[k]/sqrt(runVar[k]+eps), rounded as FoldBN rounds it, then transformed.
func WinogradWeightsFolded(ctx *Ctx, c *Conv, m int, gamma, runVar, w, u []float32) {
	ctx.wt = winoWT{s: newWinoShape(c, m), w: w, c: c.C, k: c.K, u: u, gamma: gamma, runVar: runVar}
	ctx.pool.For((c.K+15)/16, ctx.winoWeightsBody)
	ctx.wt = winoWT{}
}

// dgradConv is the convolution that computes the input gradient of the 3x3 stride-1 pad-1
// conv c: dy (K channels) to dz (C channels), same size.
func dgradConv(c *Conv) Conv {
	return Conv{C: c.K, H: c.H, W: c.W, K: c.C, R: 3, S: 1, P: 1, OH: c.H, OW: c.W}
}

// winoWT holds the arguments of the weight transform in progress.
type winoWT struct {
	s     winoShape
	w     []float32
	c, k  int
	dgrad bool
	u     []float32
	// gamma and runVar, when set, are the BN folded into the forward weights.
	gamma, runVar []float32
}

// winoWeightsChannels transforms the weights of output panels [lo, hi) (16 channels
// each).
func (ctx *Ctx) winoWeightsChannels(lo, hi int) {
	t := &ctx.wt
	winoWeights(&t.s, t.w, t.c, t.k, t.dgrad, t.u, lo*16, hi*16, t.gamma, t.runVar)
}
