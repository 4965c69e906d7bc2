package sim

import (
	"testing"
)

// BenchmarkSimpleInstructions reports simulated instructions per second on
// one core (one worker) for a loop of integer and float instructions.
func BenchmarkSimpleInstructions(b *testing.B) {
	m, err := Load(miniKernel(`
	mov.u32 %r2, 0;
	mov.u32 %r3, 7;
	mov.u32 %r5, 0;
	mov.f32 %f1, 0f3F800000;
	mov.f32 %f2, 0f3F000000;
L:
	add.s32 %r2, %r2, %r1;
	xor.b32 %r3, %r3, %r2;
	shl.b32 %r4, %r3, 1;
	add.f32 %f1, %f1, %f2;
	mul.f32 %f2, %f2, %f1;
	add.s32 %r5, %r5, 1;
	setp.lt.u32 %p1, %r5, 1000;
	@%p1 bra L;
	cvt.u64.u32 %rd2, %r4;
	mov.b32 %r6, %f2;`))
	if err != nil {
		b.Fatal(err)
	}
	k := kernel(b, m, "k")
	mem := NewMemory()
	cfg := Config{Grid: Dim3{4, 1, 1}, Block: Dim3{256, 1, 1}, Workers: 1}
	var insts int64
	for b.Loop() {
		st, err := k.Run(mem, cfg, 0)
		if err != nil {
			b.Fatal(err)
		}
		insts += st.Instructions
	}
	b.ReportMetric(float64(insts)/b.Elapsed().Seconds()/1e6, "Minst/s")
}
