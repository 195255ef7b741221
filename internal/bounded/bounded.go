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
