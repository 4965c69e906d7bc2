package data

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// torchScript reads raw uint8 images and writes what torchvision 0.14 makes of them as
// float tensors (antialias=False): F.resized_crop to the input size for a crop, and
// F.resize to the shorter side then F.center_crop for evaluation.
const torchScript = `
import sys, numpy as np, torch
import torchvision.transforms.functional as F
from torchvision.transforms import InterpolationMode
for line in open(sys.argv[1]):
    f, c, h, w, top, left, ch, cw, oh, ow, side, out = line.split()
    c, h, w, top, left, ch, cw, oh, ow, side = map(int, (c, h, w, top, left, ch, cw, oh, ow, side))
    x = torch.from_numpy(np.fromfile(f, dtype=np.uint8).reshape(c, h, w).astype(np.float32))
    if side == 0:
        y = F.resized_crop(x, top, left, ch, cw, [oh, ow], InterpolationMode.BILINEAR, antialias=False)
    else:
        y = F.center_crop(F.resize(x, [side], InterpolationMode.BILINEAR, antialias=False), [oh, ow])
    y.numpy().astype(np.float32).tofile(out)
`

// TestResizeAgainstTorchvision runs torchvision itself (/usr/bin/python3 with
// python3-torchvision) on random images and compares its float results with the
// training and evaluation transforms here. It is skipped without torchvision, except
// under CI=true.
func TestResizeAgainstTorchvision(t *testing.T) {
	if err := exec.Command(python, "-c", "import torch, torchvision").Run(); err != nil {
		missing(t, "%s cannot import torch and torchvision (apt-get install python3-torchvision): %v", python, err)
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(11, 12))
	type job struct {
		src          *picture
		crop         Rect
		rh, rw       int
		win          Rect
		side, oh, ow int
		out          string
	}
	var jobs []job
	var list []byte
	for k := range 40 {
		c := 3
		ih, iw := 5+rng.IntN(120), 5+rng.IntN(120)
		src := randomPicture(rng, c, ih, iw)
		in := filepath.Join(dir, fmt.Sprintf("in%d.raw", k))
		if err := os.WriteFile(in, src.pix, 0o644); err != nil {
			t.Fatal(err)
		}
		oh := 8 + rng.IntN(60)
		ow := oh
		if k%4 == 3 {
			ow = 8 + rng.IntN(60)
		}
		j := job{src: src, oh: oh, ow: ow, out: filepath.Join(dir, fmt.Sprintf("out%d.raw", k))}
		if k%2 == 0 {
			j.crop = CropParams(rng, ih, iw)
			j.rh, j.rw, j.win = oh, ow, Rect{H: oh, W: ow}
		} else {
			j.crop = Rect{H: ih, W: iw}
			j.rh, j.rw, j.win = EvalGeometry(ih, iw, oh, ow)
			j.side = EvalResizeSide(oh, ow)
		}
		jobs = append(jobs, j)
		list = fmt.Appendf(list, "%s %d %d %d %d %d %d %d %d %d %d %s\n", in, c, ih, iw,
			j.crop.Top, j.crop.Left, j.crop.H, j.crop.W, oh, ow, j.side, j.out)
	}
	listFile := filepath.Join(dir, "jobs.txt")
	if err := os.WriteFile(listFile, list, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(python, "-c", torchScript, listFile).CombinedOutput(); err != nil {
		t.Fatalf("torchvision: %v\n%s", err, out)
	}
	// PyTorch computes the source coordinates in float32 ((float)in/out, then
	// scale*(i+0.5)-0.5), so its interpolation weights are off the exact ones by up to a
	// few float32 roundings of coordinates up to ~120: well under 0.01 of a pixel value;
	// a difference of geometry would be tens.
	const tol = 0.01
	worst := 0.0
	var r resizer
	for k, j := range jobs {
		b, err := os.ReadFile(j.out)
		if err != nil {
			t.Fatal(err)
		}
		n := j.src.c * j.oh * j.ow
		if len(b) != 4*n {
			t.Fatalf("job %d: torchvision gave %d floats, want %d (%dx%dx%d); its geometry differs", k, len(b)/4, n, j.src.c, j.oh, j.ow)
		}
		got := make([]float32, n)
		r.resize(j.src, j.crop, j.rh, j.rw, j.win, false, identity(j.src.c), got)
		for i := range got {
			want := math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
			d := math.Abs(float64(got[i]) - float64(want))
			worst = math.Max(worst, d)
			if d > tol {
				t.Fatalf("job %d (%dx%d, crop %+v, to %dx%d, eval side %d): value %d = %v, torchvision %v",
					k, j.src.h, j.src.w, j.crop, j.oh, j.ow, j.side, i, got[i], want)
			}
		}
	}
	t.Logf("largest difference from torchvision: %.3g (pixel values 0..255)", worst)
}
