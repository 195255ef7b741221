// Package bounded reads untrusted input whose length the input itself
// declares (a tar header's size, an executable's section size) without
// trusting the declaration: memory grows with the bytes that arrive, so a
// header that claims gigabytes and is followed by nothing costs nothing.
package bounded

import "io"

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
