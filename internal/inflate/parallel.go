package inflate

import (
	"bytes"
	"fmt"
	"hash/crc32"
	"io"
	"math"
)

// Parallel decompression of one gzip stream.
//
// A deflate stream cannot be cut at byte offsets: blocks start at any bit,
// and a block's back-references reach up to 32 KiB into the output of
// the blocks before it. The two-stage method of pugz and rapidgzip
// (Kerbiriou and Chikhi, 2019; Knespel and Brunst, HPDC 2023) works
// around both:
//
//  1. The compressed stream is cut into chunks. For every chunk but the
//     first, a worker looks for the first position in it where a dynamic
//     Huffman block starts (findStart) and decodes from there until the
//     first block boundary at or after the next chunk's start. The
//     window those blocks refer to is not known yet: a reference into
//     it is written as a marker naming the window byte (16-bit output),
//     until 32 KiB of output without markers make the window irrelevant
//     and the worker goes on in bytes.
//  2. In order, the chunk's guessed start is checked against the real
//     decoding, which is the stream itself (a sequential decoder) up to
//     the first chunk and the previous chunk's result after: a guess is
//     accepted only when the decoding before it ends exactly at the
//     guessed position, which then is a real block boundary. Markers are
//     then replaced by the bytes of the now known window. A guess that
//     does not meet the real decoding is dropped, and the sequential
//     decoder decodes that stretch itself.
//
// So every byte of output comes from decoding that started at the real
// start of the stream; speculation only decides who does the work. The
// sequential decoder also checks every member's CRC-32 and size, the
// members' framing, and reports every error, including those in chunks a
// worker decoded (it decodes on from where the worker stopped).

const (
	// chunkSize is the compressed bytes per chunk.
	chunkSize = 1 << 20
	// overlap is how much of the next chunk a worker is given to finish
	// the block that crosses its chunk's end. A block is rarely longer;
	// when it is, the sequential decoder finishes it.
	overlap = 256 << 10
	// maxChunkOut bounds the output of one chunk's worker; past it the
	// worker stops and the sequential decoder goes on.
	maxChunkOut = 32 << 20
)

// task is the speculative decoding of one chunk.
type task struct {
	from, until int64 // bit positions: search from, decode up to
	in          []byte
	base        int64 // stream byte offset of in[0]
	done        chan struct{}

	start int64    // where decoding started; -1 when no block start was found
	end   int64    // block boundary where it stopped
	final bool     // the block before end was a member's last
	out16 []uint16 // output with markers, then
	out   []byte   // output in bytes
}

// run decodes the task, then frees the slot it was started with.
func (t *task) run(sem chan struct{}) {
	defer close(t.done)
	defer func() { <-sem }()
	d := &decoder{in: t.in, limit: maxChunkOut / 2}
	d.out16 = make([]uint16, 0, 64<<10)
	base := t.base * 8
	t.start = d.findStart(t.from-base, t.until-base)
	if t.start < 0 {
		return
	}
	t.start += base
	for d.bitPos()+base < t.until {
		final, err := d.block()
		if err != nil {
			break // the sequential decoder goes on from the last boundary
		}
		if final {
			t.final = true
			break
		}
		if d.out16 != nil && len(d.out16)-d.lastMarker >= window {
			// The last 32 KiB hold no marker: go on in bytes.
			t.out16 = d.out16
			d.out16 = nil
			d.limit = window + maxChunkOut
			d.out = make([]byte, window+3*int(t.until-t.from)/8+slack)
			for i, v := range t.out16[len(t.out16)-window:] {
				d.out[i] = byte(v)
			}
			d.o = window
		}
	}
	t.end = d.bitPos() + base
	if d.out16 != nil {
		t.out16 = d.out16
	} else {
		t.out = d.out[window:d.o]
	}
}

// parReader decompresses one gzip stream with speculative workers.
type parReader struct {
	r       io.Reader
	workers int
	csize   int64 // chunk size
	sem     chan struct{}

	chunks [][]byte // chunks read and still needed; chunks[0] is chunk first
	first  int
	read   int   // chunks read so far
	total  int64 // bytes read so far
	eof    bool  // r is exhausted
	tasks  []*task
	next   int // next chunk to make a task of

	s       *stream
	fed     int64 // stream offset up to which s has been given input
	pending []byte
	then    []byte // output that follows pending
	err     error

	// eager (for tests) starts a task for every chunk, slots or not.
	eager bool

	accepted, dropped int // tasks whose output was used, and not
	n16, n8           int // output bytes of accepted tasks decoded with markers, in bytes
	lut               [1 << 16]byte
}

func newParallel(r io.Reader, workers, csize int, slots chan struct{}, s *stream) *parReader {
	if slots == nil {
		slots = make(chan struct{}, workers)
	}
	return &parReader{r: r, workers: workers, csize: int64(csize), sem: slots, s: s, next: 1}
}

// start reads up to the first member's first block, so that input that is
// not gzip fails at once.
func (z *parReader) start() error {
	for z.s.stage == stHeader && z.err == nil {
		switch err := z.s.run(math.MaxInt64); err {
		case errShort:
			if err := z.feed(); err != nil {
				z.err = err
			}
		case nil, errFull, io.EOF:
		default:
			z.err = err
		}
	}
	if err := z.err; err != nil {
		z.Close()
		return err
	}
	return nil
}

func (z *parReader) Read(p []byte) (int, error) {
	for len(z.pending) == 0 {
		if len(z.then) > 0 {
			z.pending, z.then = z.then, nil
			break
		}
		if z.err != nil {
			return 0, z.err
		}
		z.fill()
	}
	n := copy(p, z.pending)
	z.pending = z.pending[n:]
	return n, nil
}

// Close waits for the workers to finish, so no goroutine outlives it.
func (z *parReader) Close() error {
	for _, t := range z.tasks {
		<-t.done
	}
	z.tasks = nil
	z.err = errClosed
	z.pending = nil
	return nil
}

// readChunk reads the next chunk of the compressed stream, and starts the
// tasks that its arrival makes possible.
func (z *parReader) readChunk() error {
	if z.eof {
		return nil
	}
	b := make([]byte, z.csize)
	n, err := io.ReadFull(z.r, b)
	switch err {
	case nil:
	case io.EOF, io.ErrUnexpectedEOF:
		z.eof = true
	default:
		return err
	}
	if n > 0 {
		z.chunks = append(z.chunks, b[:n])
		z.read++
		z.total += int64(n)
	}
	z.dispatch()
	return nil
}

// dispatch starts a task for the chunks whose successor has been read (or
// that are the last), as long as a slot is free and fewer than workers
// tasks are outstanding. A chunk the stream has reached gets no task: a
// task only pays when it runs on a core that would otherwise be idle,
// ahead of the stream.
func (z *parReader) dispatch() {
	pos := z.s.bitPos()
	for len(z.tasks) < z.workers && z.next < z.read && (z.next+1 < z.read || z.eof) {
		if !z.eager && int64(z.next)*z.csize*8 <= pos+8*z.csize/4 {
			z.next++ // the stream is (about) there already
			continue
		}
		if z.eager {
			z.sem <- struct{}{}
		} else {
			select {
			case z.sem <- struct{}{}:
			default:
				return
			}
		}
		k := z.next - z.first
		in := z.chunks[k]
		if k+1 < len(z.chunks) {
			next := z.chunks[k+1]
			in = append(in[:len(in):len(in)], next[:min(len(next), overlap)]...)
		}
		base := int64(z.next) * z.csize
		t := &task{from: base * 8, until: (base + int64(len(z.chunks[k]))) * 8, in: in, base: base, done: make(chan struct{})}
		z.tasks = append(z.tasks, t)
		z.next++
		go t.run(z.sem)
	}
}

// feed gives s the next input it needs, reading a chunk when none is left.
func (z *parReader) feed() error {
	for {
		if z.fed < z.total {
			k := int(z.fed/z.csize) - z.first
			c := z.chunks[k]
			off := int(z.fed - int64(z.first+k)*z.csize)
			z.s.feed(c[off:])
			z.fed += int64(len(c) - off)
			z.drop()
			return nil
		}
		if z.eof {
			z.s.end()
			return nil
		}
		if err := z.readChunk(); err != nil {
			return err
		}
	}
}

// drop forgets the chunks before the one the stream stands in, once no
// task is still to be made of them: the stream only moves forward.
func (z *parReader) drop() {
	pos := z.s.bitPos() / 8
	for len(z.chunks) > 0 && int64(z.first+1)*z.csize <= pos && z.first < z.next {
		z.chunks[0] = nil
		z.chunks = z.chunks[1:]
		z.first++
	}
}

// fill produces the next output into pending, or sets err.
func (z *parReader) fill() {
	for len(z.pending) == 0 && len(z.then) == 0 && z.err == nil {
		if len(z.tasks) < z.workers && !z.eof && (z.eager || int64(z.read) < z.s.bitPos()/8/z.csize+int64(z.workers)+2) {
			if err := z.readChunk(); err != nil {
				z.err = err
				return
			}
		}
		target := int64(math.MaxInt64)
		if len(z.tasks) > 0 {
			t := z.tasks[0]
			pos := z.s.bitPos()
			if pos < t.from {
				// Decode up to the task's chunk while it runs.
				target = t.from
				goto run
			}
			<-t.done
			if t.start < 0 {
				z.tasks = z.tasks[1:]
				z.dispatch()
				continue
			}
			if z.s.atBoundary() && pos == t.start {
				z.tasks = z.tasks[1:]
				z.accepted++
				z.accept(t)
				z.dispatch()
				continue
			}
			if pos > t.start || z.s.stage == stDone {
				z.tasks = z.tasks[1:] // a wrong guess, or a boundary the stream passed
				z.dropped++
				z.dispatch()
				continue
			}
			target = t.start
		}
	run:
		// The stream decodes holding a slot, like a worker, so that
		// workers start only on cores that nothing else decoding needs.
		if !z.eager {
			z.sem <- struct{}{}
		}
		err := z.s.run(target)
		if !z.eager {
			<-z.sem
		}
		z.dispatch()
		z.pending = z.s.take()
		switch err {
		case nil, errFull:
		case errShort:
			if err := z.feed(); err != nil {
				z.err = err
			}
		default:
			z.err = err
		}
	}
}

// accept takes a task whose start is where the stream stands: its markers
// are resolved against the stream's window, its output becomes the next
// output, and the stream goes on from where the task stopped.
func (z *parReader) accept(t *task) {
	s := z.s
	win := s.d.out[max(s.d.hist, s.d.o-window):s.d.o]
	out := make([]byte, len(t.out16))
	if missing := window - len(win); missing > 0 {
		// Near the member's start: a marker may name a byte before it.
		for _, v := range t.out16 {
			if v&markerBit != 0 && int(v&^markerBit) < missing {
				z.err = fmt.Errorf("gzip: corrupt deflate data near byte %d: %w", t.start/8, errDist)
				return
			}
		}
	}
	z.resolve(out, t.out16, win)
	z.n16 += len(t.out16)
	z.n8 += len(t.out)
	s.crc = crc32.Update(s.crc, crc32.IEEETable, out)
	s.crc = crc32.Update(s.crc, crc32.IEEETable, t.out)
	s.size += uint32(len(out) + len(t.out))
	s.summed += int64(len(out) + len(t.out))
	// The new window: the last bytes of the member's output.
	var nw []byte
	switch {
	case len(t.out) >= window:
		nw = t.out[len(t.out)-window:]
	case len(out)+len(t.out) >= window:
		nw = append(out[len(out)+len(t.out)-window:len(out):len(out)], t.out...)
	default:
		nw = append(append(win[max(0, len(win)+len(out)+len(t.out)-window):len(win):len(win)], out...), t.out...)
	}
	// Input for the stream from the byte holding t.end on.
	b := t.end / 8
	k := int(b/z.csize) - z.first
	var in []byte
	if k >= 0 && k < len(z.chunks) {
		in = z.chunks[k][b-int64(z.first+k)*z.csize:]
		z.fed = int64(z.first+k)*z.csize + int64(len(z.chunks[k]))
	} else {
		z.fed = b
	}
	if s.every > 0 && !t.final && s.summed >= s.lastCP+s.every {
		s.lastCP = s.summed
		s.onCheckpoint(Checkpoint{In: t.end, Out: s.summed, Window: bytes.Clone(nw)})
	}
	s.reposition(t.end, nw, t.final, in, b)
	if z.eof && z.fed >= z.total {
		s.end()
	}
	z.drop()
	z.pending, z.then = out, t.out
	t.out16, t.out, t.in = nil, nil, nil
}

// resolve writes to dst the bytes of the speculative output src, whose
// markers name bytes of win, the window (its last byte is index
// window-1; win may be shorter when the member is).
func (z *parReader) resolve(dst []byte, src []uint16, win []byte) {
	// One table lookup per symbol: bytes map to themselves, markers to
	// the window byte they name.
	lut := &z.lut
	for i := range 256 {
		lut[i] = byte(i)
	}
	copy(lut[markerBit+window-len(win):], win)
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = lut[v]
	}
}
