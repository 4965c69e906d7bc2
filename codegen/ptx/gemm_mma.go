package ptx

// mma is the tensor-core product. Warp w owns the (BM/WM) x (BN/WN) sub-tile at
// (w % WM, w / WM), as MT x NT fragments of 16x8. Lane l is in group g = l/4, thread-in-group
// tig = l%4; with PTX's fragment layouts (row-major A, column-major B, both read from the
// k-major shared tiles):
//
//	tf32 m16n8k8:  a = A[g][tig], A[g+8][tig], A[g][tig+4], A[g+8][tig+4]; b = B[tig][g], B[tig+4][g]
//	bf16 m16n8k16: a = A[g][2tig:2tig+2], A[g+8][2tig:..], A[g][2tig+8:..], A[g+8][2tig+8:..];
//	               b = B[2tig:2tig+2][g], B[2tig+8:2tig+10][g] (pairs packed low index first)
//	accumulators:  c = C[g][2tig], C[g][2tig+1], C[g+8][2tig], C[g+8][2tig+1]
//
// The operands are rounded from the fp32 tiles as fragments are formed (cvt.rna.tf32.f32,
// cvt.rn.bf16x2.f32).
type mma struct {
	t          tiling
	math       Math
	mt, nt     int
	acc        [][][4]reg
	pa, pb     reg // shared addresses of As[kq0][wm0+g], Bs[kq0][wn0+g]; kq0 = tig (tf32), 2*tig (bf16)
	mOff, nOff reg // wm0 + g, wn0 + 2*tig
}

func newMMA(b *builder, tid reg, t tiling, m Math, sa, sb sym) *mma {
	c := &mma{t: t, math: m, mt: t.BM / t.WM / 16, nt: t.BN / t.WN / 8}
	lane := b.and(tid, u32(31))
	warp := b.shr(tid, 5)
	g := b.shr(lane, 2)
	tig := b.and(lane, u32(3))
	wm0 := b.mul(b.rem(warp, u32(t.WM)), u32(t.BM/t.WM))
	wn0 := b.mul(b.div(warp, u32(t.WM)), u32(t.BN/t.WN))
	kq := tig
	if m == BF16 {
		kq = b.shl(tig, 1)
	}
	c.pa = b.add(b.sharedBase(sa), b.shl(b.mad(kq, u32(t.BM+pad), b.add(wm0, g)), 2))
	c.pb = b.add(b.sharedBase(sb), b.shl(b.mad(kq, u32(t.BN+pad), b.add(wn0, g)), 2))
	c.mOff = b.add(wm0, g)
	c.nOff = b.add(wn0, b.shl(tig, 1))
	c.acc = make([][][4]reg, c.mt)
	for i := range c.acc {
		c.acc[i] = make([][4]reg, c.nt)
		for j := range c.acc[i] {
			for q := range c.acc[i][j] {
				c.acc[i][j][q] = b.mov(tF32, f32(0))
			}
		}
	}
	return c
}

// frag loads shared element (k row kq relative to the lane's base, column col) of a tile of
// the given width.
func (c *mma) frag(b *builder, base reg, width, kq, col int) reg {
	return b.ld("shared", tF32, addr{base, (kq*(width+pad) + col) * 4})
}

// tf32 rounds a float to tf32 (round to nearest, ties away, as cvt.rna does).
func tf32(b *builder, v reg) reg {
	d := b.reg(tB32)
	b.raw("cvt.rna.tf32.f32", d, v)
	return d
}

// bf16x2 packs lo (low half) and hi (high half), each rounded to bf16.
func bf16x2(b *builder, lo, hi reg) reg {
	d := b.reg(tB32)
	b.raw("cvt.rn.bf16x2.f32", d, hi, lo)
	return d
}

func (c *mma) step(b *builder) {
	t := c.t
	ks, kstep := 8, "m16n8k8.row.col.f32.tf32.tf32.f32"
	if c.math == BF16 {
		ks, kstep = 16, "m16n8k16.row.col.f32.bf16.bf16.f32"
	}
	for k0 := 0; k0 < t.BK; k0 += ks {
		a := make([][4]reg, c.mt)
		for i := range a {
			for q := 0; q < 4; q++ {
				row, col := k0, i*16+8*(q%2) // q: (g,k) (g+8,k) (g,k+) (g+8,k+)
				if c.math == TF32 {
					a[i][q] = tf32(b, c.frag(b, c.pa, t.BM, row+4*(q/2), col))
					continue
				}
				row += 8 * (q / 2)
				a[i][q] = bf16x2(b, c.frag(b, c.pa, t.BM, row, col), c.frag(b, c.pa, t.BM, row+1, col))
			}
		}
		bf := make([][2]reg, c.nt)
		for j := range bf {
			for q := 0; q < 2; q++ {
				col := j * 8
				if c.math == TF32 {
					bf[j][q] = tf32(b, c.frag(b, c.pb, t.BN, k0+4*q, col))
					continue
				}
				row := k0 + 8*q
				bf[j][q] = bf16x2(b, c.frag(b, c.pb, t.BN, row, col), c.frag(b, c.pb, t.BN, row+1, col))
			}
		}
		for i := range a {
			for j := range bf {
				acc := vec(c.acc[i][j][:])
				b.raw("mma.sync.aligned."+kstep, acc, vec(a[i][:]), vec(bf[j][:]), acc)
			}
		}
	}
}

func (c *mma) epilogue(b *builder, out func(mi, ni int, mOff, nOff reg, v reg)) {
	for i := range c.acc {
		for j := range c.acc[i] {
			for q, v := range c.acc[i][j] {
				out(i*16+8*(q/2), j*8+q%2, c.mOff, c.nOff, v)
			}
		}
	}
}
