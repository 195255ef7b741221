// Package bounded reads untrusted input whose length the input itself
// declares (a tar header's size, an executable's section size) without
// trusting the declaration: memory grows with the bytes that arrive, so a
// header that claims gigabytes and is followed by nothing costs nothing.
package bounded

import (
	"fmt"
	"io"
)

// step is the first allocation, and the most a declared size can make
// ReadN allocate ahead of the bytes.
const step = 1 << 20

// ReadN reads exactly n bytes from r. A stream that ends before is
// io.ErrUnexpectedEOF. The buffer starts at min(n, 1 MiB) and doubles as
// bytes arrive, never beyond n: the result's capacity is n.
func ReadN(r io.Reader, n int64) ([]byte, error) {
	if n < 0 {
		return nil, io.ErrUnexpectedEOF
	}
	buf := make([]byte, 0, min(n, step))
	for int64(len(buf)) < n {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(n, 2*int64(cap(buf))))
			copy(grown, buf)
			buf = grown
		}
		m, err := r.Read(buf[len(buf):min(int64(cap(buf)), n)])
		buf = buf[:len(buf)+m]
		if err == io.EOF && int64(len(buf)) < n {
			return nil, io.ErrUnexpectedEOF
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
	}
	return buf, nil
}

// Chunks holds n bytes read from a stream in chunks of at most step
// bytes: memory follows the bytes that arrive, as with ReadN, but nothing
// is copied as it grows, so a file of n bytes costs n bytes, not up to
// 2n while the last doubling copies. It gives random access to them
// (io.ReaderAt), for readers of a file that a stream offers once (an
// executable's sections).
type Chunks struct {
	chunks [][]byte
	size   int64
}

// ReadChunks reads exactly n bytes from r. A stream that ends before is
// io.ErrUnexpectedEOF.
func ReadChunks(r io.Reader, n int64) (*Chunks, error) {
	if n < 0 {
		return nil, io.ErrUnexpectedEOF
	}
	c := &Chunks{size: n}
	for left := n; left > 0; {
		b := make([]byte, min(left, step))
		if _, err := io.ReadFull(r, b); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		c.chunks = append(c.chunks, b)
		left -= int64(len(b))
	}
	return c, nil
}

// Size returns the number of bytes held.
func (c *Chunks) Size() int64 { return c.size }

// ReadAt implements io.ReaderAt.
func (c *Chunks) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("bounded: negative offset %d", off)
	}
	n := 0
	for len(p) > 0 && off < c.size {
		b := c.chunks[off/step][off%step:]
		k := copy(p, b)
		p, off, n = p[k:], off+int64(k), n+k
	}
	if len(p) > 0 {
		return n, io.EOF
	}
	return n, nil
}

// Bytes returns the bytes held, in one slice (the only chunk, or a copy).
func (c *Chunks) Bytes() []byte {
	if len(c.chunks) == 1 {
		return c.chunks[0]
	}
	b := make([]byte, 0, c.size)
	for _, ch := range c.chunks {
		b = append(b, ch...)
	}
	return b
}

// TooLargeError is the error of a Reader whose stream holds more than its
// limit.
type TooLargeError struct{ Limit int64 }

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("larger than %d bytes", e.Limit)
}

// Reader reads at most Limit bytes of R. Unlike io.LimitReader, it ends
// with a *TooLargeError, not io.EOF, when R holds more: a reader of a
// stream cut at a bound knows that it saw only a part.
type Reader struct {
	R     io.Reader
	Limit int64
	n     int64
}

func (r *Reader) Read(p []byte) (int, error) {
	if r.n >= r.Limit {
		// At the limit: the stream is too large if anything follows.
		var b [1]byte
		for {
			n, err := r.R.Read(b[:])
			if n > 0 {
				return 0, &TooLargeError{Limit: r.Limit}
			}
			if err != nil {
				return 0, err
			}
		}
	}
	if rest := r.Limit - r.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := r.R.Read(p)
	r.n += int64(n)
	return n, err
}
