package inflate

import (
	"bytes"
	"compress/gzip"
	"io"
	"math/rand/v2"
	"testing"

	kgzip "github.com/klauspost/compress/gzip"
)

// parallelDecode decodes b with workers and small chunks, and returns the
// reader to look at its counters.
func parallelDecode(t testing.TB, b []byte, workers, chunk int) ([]byte, *parReader, error) {
	t.Helper()
	zr, err := NewReader(bytes.NewReader(b), Options{Workers: workers, ChunkSize: chunk, eager: true})
	if err != nil {
		return nil, nil, err
	}
	defer zr.Close()
	out, err := io.ReadAll(zr)
	pr, _ := zr.(*parReader)
	return out, pr, err
}

func TestParallelMatchesGzip(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	inputs := testInputs()
	inputs["text 3MiB"] = textBytes(r, 3<<20)
	total := 0
	for name, data := range inputs {
		for _, level := range []int{gzip.NoCompression, gzip.HuffmanOnly, gzip.BestSpeed, gzip.DefaultCompression, gzip.BestCompression} {
			c := gz(t, data, level)
			for _, chunk := range []int{4 << 10, 64 << 10} {
				for _, workers := range []int{2, 4} {
					if workers == 4 && chunk != 64<<10 {
						continue
					}
					got, pr, err := parallelDecode(t, c, workers, chunk)
					if err != nil {
						t.Fatalf("%s level %d chunk %d workers %d: %v", name, level, chunk, workers, err)
					}
					if !bytes.Equal(got, data) {
						t.Fatalf("%s level %d chunk %d workers %d: output differs (%d bytes, want %d)", name, level, chunk, workers, len(got), len(data))
					}
					if pr != nil {
						total += pr.accepted
					}
				}
			}
		}
	}
	if total == 0 {
		t.Error("no chunk was decoded speculatively")
	}
	t.Logf("%d chunks decoded speculatively", total)
}

// TestParallelKlauspost decodes streams from another compressor, whose
// block boundaries differ from compress/flate's.
func TestParallelKlauspost(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	data := append(textBytes(r, 3<<20), randBytes(r, 300<<10)...)
	for _, level := range []int{1, 5, 9} {
		var b bytes.Buffer
		w, _ := kgzip.NewWriterLevel(&b, level)
		w.Write(data)
		w.Close()
		got, pr, err := parallelDecode(t, b.Bytes(), 2, 32<<10)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("level %d: err %v, equal %v", level, err, bytes.Equal(got, data))
		}
		t.Logf("level %d: %d accepted, %d dropped", level, pr.accepted, pr.dropped)
	}
}

func TestParallelMembers(t *testing.T) {
	var c, want bytes.Buffer
	r := rand.New(rand.NewPCG(15, 16))
	for i := range 6 {
		part := textBytes(r, i*300<<10)
		want.Write(part)
		c.Write(gz(t, part, i%3+1))
	}
	for _, chunk := range []int{8 << 10, 100 << 10} {
		got, _, err := parallelDecode(t, c.Bytes(), 2, chunk)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatal("output differs")
		}
	}
}

func TestParallelCorrupt(t *testing.T) {
	data := textBytes(rand.New(rand.NewPCG(17, 18)), 2<<20)
	good := gz(t, data, 6)
	r := rand.New(rand.NewPCG(19, 20))
	for i := range 120 {
		b := bytes.Clone(good)
		switch i % 3 {
		case 0:
			b[10+r.IntN(len(b)-10)] ^= 1 << r.IntN(8)
		case 1:
			b = b[:10+r.IntN(len(b)-10)]
		case 2:
			p := 10 + r.IntN(len(b)-100)
			copy(b[p:], randBytes(r, 50))
		}
		got, _, err := parallelDecode(t, b, 2, 16<<10)
		_, rerr := reference(b)
		if (err == nil) != (rerr == nil) {
			t.Fatalf("case %d: err = %v, compress/gzip says %v", i, err, rerr)
		}
		if err == nil && !bytes.Equal(got, data) {
			t.Fatalf("case %d: damage went unnoticed", i)
		}
	}
}
