package layerfs

import (
	"bytes"
	"crypto/sha256"
	"math/rand/v2"
	"runtime"
	"testing"
)

// TestHashPipe checks that a hashPipe hashes what is written to it, in
// writes of every size around its buffers', on one CPU and on two.
func TestHashPipe(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 3*pipeBufs*pipeBufSize+12345)
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	want := sha256.Sum256(data)
	for _, procs := range []int{1, 2} {
		prev := runtime.GOMAXPROCS(procs)
		for _, size := range []int{1, 511, pipeBufSize - 1, pipeBufSize, pipeBufSize + 1, 3 * pipeBufSize, len(data)} {
			p := newHashPipe(sha256.New())
			if p.async != (procs > 1) {
				t.Errorf("GOMAXPROCS %d: async %v", procs, p.async)
			}
			for b := data; len(b) > 0; {
				n := min(size, len(b))
				if size == 1 && len(b) > 5000 {
					n = 1 + r.IntN(3000) // not a million single-byte writes
				}
				p.Write(b[:n])
				b = b[n:]
			}
			if got := p.Sum(nil); !bytes.Equal(got, want[:]) {
				t.Errorf("GOMAXPROCS %d, writes of %d: wrong sum", procs, size)
			}
			p.finish() // again: no effect
		}
		runtime.GOMAXPROCS(prev)
	}
	p := newHashPipe(sha256.New())
	p.finish() // nothing written
	if got, want := p.Sum(nil), sha256.Sum256(nil); !bytes.Equal(got, want[:]) {
		t.Error("empty: wrong sum")
	}
}
