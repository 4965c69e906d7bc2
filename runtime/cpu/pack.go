package cpu

// packB copies depths [k0, k0+kc) and columns [j0, j0+n) of op(B) into dst as
// ceil(n/nr) micro-panels of nr columns, each k-major (dst[p*kc*nr + k*nr + c]);
// columns past n are zero. Full panels go through the kernel family's packers.
func packB(ks *kernelSet, dst []float32, b []float32, ldb int, transB bool, k0, kc, j0, n int) {
	full := n / nr
	if full > 0 && !transB {
		// Bounds: the last element read is b[(k0+kc-1)*ldb + j0 + full*nr - 1].
		_ = b[(k0+kc-1)*ldb+j0+full*nr-1]
		_ = dst[full*kc*nr-1]
		ks.packB(&dst[0], &b[k0*ldb+j0], ldb, kc, full)
	}
	kDone := 0 // depths of the full panels already packed when transB
	if k8 := kc &^ 7; full > 0 && transB && k8 > 0 {
		_ = b[(j0+full*nr-1)*ldb+k0+k8-1]
		_ = dst[full*kc*nr-1]
		ks.packBT(&dst[0], &b[j0*ldb+k0], ldb, kc, k8, full)
		kDone = k8
	}
	for p := 0; p*nr < n; p++ {
		panel := dst[p*kc*nr : (p+1)*kc*nr]
		cols := min(nr, n-p*nr)
		base := j0 + p*nr
		if !transB {
			if p < full {
				continue
			}
			// op(B)[k, j] = b[k*ldb + j]: the partial last panel.
			for k := 0; k < kc; k++ {
				out := (*[nr]float32)(panel[k*nr:])
				*out = [nr]float32{}
				copy(out[:cols], b[(k0+k)*ldb+base:])
			}
			continue
		}
		// op(B)[k, j] = b[j*ldb + k]: one column per c, written with stride nr.
		k1 := 0
		if p < full {
			k1 = kDone
		}
		for c := 0; c < nr; c++ {
			if c >= cols {
				for k := k1; k < kc; k++ {
					panel[k*nr+c] = 0
				}
				continue
			}
			src := b[(base+c)*ldb+k0+k1 : (base+c)*ldb+k0+kc]
			for k, v := range src {
				panel[(k1+k)*nr+c] = v
			}
		}
	}
}
