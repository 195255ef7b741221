package layerfs

import (
	"hash"
	"runtime"
)

// Sizes of the buffers a hashPipe hands to its goroutine, and how many
// there are: at most pipeBufs*pipeBufSize bytes per pipe.
const (
	pipeBufSize = 256 << 10
	pipeBufs    = 4
)

// hashPipe hashes what is written to it on a goroutine of its own, so that
// a layer's digests (SHA-256 of its stored and of its uncompressed bytes,
// together about as costly as inflating it) are not computed on the
// goroutine that inflates and reads the layer, the critical path of a
// large layer. Write copies into a buffer that the goroutine hashes when
// it is full. With one CPU, or for a nil *hashPipe, it hashes in Write.
//
// Sum and finish wait for the goroutine to hash what was written and stop
// it; one of them must be called.
type hashPipe struct {
	h     hash.Hash
	buf   []byte
	work  chan []byte
	free  chan []byte
	done  chan struct{}
	async bool
}

func newHashPipe(h hash.Hash) *hashPipe {
	p := &hashPipe{h: h}
	if runtime.GOMAXPROCS(0) < 2 {
		return p
	}
	p.async = true
	p.work = make(chan []byte, pipeBufs)
	p.free = make(chan []byte, pipeBufs)
	p.done = make(chan struct{})
	for range pipeBufs - 1 {
		p.free <- make([]byte, 0, pipeBufSize)
	}
	p.buf = make([]byte, 0, pipeBufSize)
	go p.run()
	return p
}

func (p *hashPipe) run() {
	defer close(p.done)
	for b := range p.work {
		p.h.Write(b)
		p.free <- b[:0]
	}
}

// Write never fails.
func (p *hashPipe) Write(b []byte) (int, error) {
	if !p.async {
		return p.h.Write(b)
	}
	if p.work == nil {
		panic("layerfs: write to a closed hashPipe")
	}
	n := len(b)
	for len(b) > 0 {
		k := copy(p.buf[len(p.buf):cap(p.buf)], b)
		p.buf = p.buf[:len(p.buf)+k]
		b = b[k:]
		if len(p.buf) == cap(p.buf) {
			p.work <- p.buf
			p.buf = <-p.free
		}
	}
	return n, nil
}

// Sum returns the hash of everything written, appended to b. Nothing may
// be written after.
func (p *hashPipe) Sum(b []byte) []byte {
	p.finish()
	return p.h.Sum(b)
}

// finish hashes what is still buffered and stops the goroutine. It may be
// called more than once; nothing may be written after.
func (p *hashPipe) finish() {
	if p == nil || !p.async || p.work == nil {
		return
	}
	if len(p.buf) > 0 {
		p.work <- p.buf
	}
	close(p.work)
	<-p.done
	p.work = nil
}
