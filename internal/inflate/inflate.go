// Package inflate decompresses gzip streams (RFC 1952, deflate RFC 1951)
// fast in pure Go: a table-driven decoder on one core, and a large stream
// on several cores by speculative decoding from guessed deflate block
// boundaries, as pugz and rapidgzip do (see parallel.go).
//
// Whatever the path, the output is that of the gzip stream: members are
// concatenated, every member's CRC-32 and size are checked, and damaged
// or truncated input is an error, never a short read that looks whole.
package inflate

import (
	"bytes"
	"io"
	"math"
	"runtime"
)

// readSize is how much compressed input a sequential Reader reads at once.
const readSize = 256 << 10

// minParallelCPUs is the fewest CPUs on which DefaultWorkers inflates one
// stream on several cores. Speculative decoding costs 30-80% more CPU
// than sequential decoding (bench/RESULTS.md): on 2 CPUs, where the
// reader of the output needs a core too, it did not pay.
const minParallelCPUs = 4

// DefaultWorkers returns the Workers a large stream is worth: GOMAXPROCS
// when there are at least 4 CPUs, else 1.
func DefaultWorkers() int {
	if n := runtime.GOMAXPROCS(0); n >= minParallelCPUs {
		return n
	}
	return 1
}

// Options configure a Reader. The zero value decompresses on one core.
type Options struct {
	// Workers is the number of goroutines that may decompress one stream
	// at once. Below 2, the stream is decompressed sequentially.
	Workers int

	// Slots, when not nil, is shared by the Readers that run at once: a
	// worker holds one of its elements while it decodes, so that all of
	// them together run no more workers than its capacity.
	Slots chan struct{}

	// ChunkSize is the compressed bytes of the stream each worker is
	// given to decode speculatively; 0 means 1 MiB. Larger chunks waste
	// less work (finding a block start, decoding with markers until the
	// window is known) and hold more memory per worker: on the 140 MB
	// layer of bench/RESULTS.md, 2 workers inflate in 0.66 s with 1 MiB
	// chunks and 0.44 s with 8 MiB ones (sequential 0.55 s).
	ChunkSize int

	eager bool // for tests: a task for every chunk
}

// NewReader returns a reader of the decompressed contents of the gzip
// stream r. The first member's header is read at once: input that is not
// gzip is an error here. Close releases the reader's goroutines and
// buffers; it does not close r.
func NewReader(r io.Reader, opts Options) (io.ReadCloser, error) {
	return newReader(r, opts, newStream())
}

func newReader(r io.Reader, opts Options, s *stream) (io.ReadCloser, error) {
	if opts.Workers >= 2 {
		// Only a stream of more than one chunk is worth workers.
		csize := opts.ChunkSize
		if csize <= 0 {
			csize = chunkSize
		}
		first := make([]byte, csize)
		n, err := io.ReadFull(r, first)
		switch err {
		case nil:
			z := newParallel(io.MultiReader(bytes.NewReader(first), r), opts.Workers, csize, opts.Slots, s)
			z.eager = opts.eager
			if err := z.start(); err != nil {
				return nil, err
			}
			return z, nil
		case io.EOF, io.ErrUnexpectedEOF:
			r = bytes.NewReader(first[:n])
		default:
			return nil, err
		}
	}
	return newSeq(r, s)
}

func newSeq(r io.Reader, s *stream) (io.ReadCloser, error) {
	z := &seqReader{r: r, s: s, buf: make([]byte, readSize)}
	// Read until the first header is parsed, to fail early on non-gzip.
	for z.s.stage == stHeader && z.err == nil {
		z.step()
	}
	if z.err != nil && z.err != io.EOF {
		return nil, z.err
	}
	return z, nil
}

// seqReader decompresses on the calling goroutine.
type seqReader struct {
	r       io.Reader
	s       *stream
	buf     []byte
	pending []byte
	err     error
}

func (z *seqReader) Read(p []byte) (int, error) {
	for len(z.pending) == 0 {
		if z.err != nil {
			return 0, z.err
		}
		z.step()
	}
	n := copy(p, z.pending)
	z.pending = z.pending[n:]
	return n, nil
}

// step runs the stream once, reading input when it asks for it.
func (z *seqReader) step() {
	err := z.s.run(math.MaxInt64)
	z.pending = z.s.take()
	switch err {
	case nil, errFull:
	case errShort:
		n, rerr := io.ReadFull(z.r, z.buf)
		if n > 0 {
			z.s.feed(z.buf[:n])
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			z.s.end()
		} else if rerr != nil {
			z.err = rerr
		}
	default:
		z.err = err
	}
}

func (z *seqReader) Close() error {
	z.err = errClosed
	z.pending = nil
	return nil
}

// NewIndexingReader is NewReader, and also calls onCheckpoint with a
// Checkpoint at the first block boundary after every interval bytes of
// output (with workers: at the first boundary where a worker's chunk
// ends), from which NewReaderFrom can decode the rest of the stream again.
func NewIndexingReader(r io.Reader, interval int64, onCheckpoint func(Checkpoint), opts Options) (io.ReadCloser, error) {
	s := newStream()
	s.every, s.onCheckpoint = interval, onCheckpoint
	return newReader(r, opts, s)
}

// NewReaderFrom returns a reader of the decompressed stream from cp.Out
// on, given r, the compressed stream from the byte holding bit cp.In on.
// The CRC-32 of the member holding cp cannot be checked (its start is not
// read); those of the members after it are.
func NewReaderFrom(r io.Reader, cp Checkpoint) (io.ReadCloser, error) {
	first := make([]byte, readSize)
	n, err := io.ReadFull(r, first)
	if n == 0 {
		if err == io.EOF {
			err = errTruncated
		}
		return nil, err
	}
	s := newStream()
	s.reposition(cp.In, cp.Window, false, first[:n], cp.In/8)
	s.unverified = true
	if err != nil {
		s.end()
	}
	return newSeq(r, s)
}
