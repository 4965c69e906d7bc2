package data
import ("testing";"time";"os";"path/filepath")
func TestZCARealTmp(t *testing.T) {
	dir := t.TempDir()
	if err := untar("/work/shared/data/cifar10-jpeg.tar.gz", dir); err != nil { t.Fatal(err) }
	root := dir
	if ents, _ := os.ReadDir(dir); len(ents) == 1 && ents[0].IsDir() { root = filepath.Join(dir, ents[0].Name()) }
	t0 := time.Now()
	ds, err := Load(root, [3]int{3, 32, 32}, 10, 0)
	if err != nil { t.Fatal(err) }
	t.Logf("load %v", time.Since(t0))
	t1 := time.Now()
	n, err := FitNorm(NormZCA, ds.Train)
	if err != nil { t.Fatal(err) }
	t.Logf("fit zca %v", time.Since(t1))
	t2 := time.Now()
	l := NewLoader(ds.Test, n, nil, 128, false, 1)
	x := make([]float32, 128*3072); y := make([]int32, 128)
	l.Epoch(0)
	cnt := 0
	var sum, sq float64
	for { k, ok := l.Next(x, y); if !ok { break }; for _, v := range x[:k*3072] { sum += float64(v); sq += float64(v)*float64(v) }; cnt += k }
	t.Logf("whiten test %d images %v; mean %g, mean square %g", cnt, time.Since(t2), sum/float64(cnt*3072), sq/float64(cnt*3072))
	l.Close()
}
