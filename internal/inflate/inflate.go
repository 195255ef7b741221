// Package inflate decompresses gzip streams (RFC 1952) as fast as it can in
// pure Go: klauspost/compress's inflater on one core, and a large stream on
// several cores by speculative decoding from guessed deflate block
// boundaries (see parallel.go).
//
// Whatever the path, the output is that of the gzip stream: every member's
// CRC-32 and size are checked, members are concatenated, and a damaged or
// truncated stream is an error.
package inflate

import (
	"bufio"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
)

// readBuffer is the read size used on the compressed stream when it does
// not buffer itself.
const readBuffer = 256 << 10

// Options configure a Reader. The zero value decompresses on one core.
type Options struct {
	// Workers is the number of goroutines that may decompress one stream
	// at once. Below 2, the stream is decompressed sequentially.
	Workers int
}

// NewReader returns a reader of the decompressed contents of the gzip
// stream r, whose members are read one after the other. The gzip header is
// read at once: a stream that is not gzip is an error here.
func NewReader(r io.Reader, opts Options) (io.ReadCloser, error) {
	return newSequential(r)
}

// newSequential decompresses r on the calling goroutine.
func newSequential(r io.Reader) (io.ReadCloser, error) {
	if _, ok := r.(io.ByteReader); !ok {
		r = bufio.NewReaderSize(r, readBuffer)
	}
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	return zr, nil
}
