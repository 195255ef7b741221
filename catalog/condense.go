package catalog

import (
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/vigil-scanner/vigil/internal/bounded"
)

// CondenseFunc reduces a large input to the small summary its cataloger
// reads in its place: it reads the file's contents from r (size bytes) and
// returns what should be kept. It has the shape of layerfs.Condenser.
type CondenseFunc func(path string, r io.Reader, size int64) ([]byte, error)

// Condenser is implemented by catalogers whose inputs are large files of
// which they need only a summary (Go executables: their build information
// and symbol names). The layer walk streams such a file through the
// returned function instead of keeping it whole; Catalog must accept the
// summary in place of the file.
type Condenser interface {
	// Condense returns the function that condenses the file at path, or
	// nil when the file should be kept whole. Like Wants it is called
	// concurrently and must be cheap.
	Condense(path string, mode fs.FileMode, size int64) CondenseFunc
}

// maxJoined bounds the file that JoinCondense buffers for its condensers.
const maxJoined = 512 << 20

// JoinCondense returns the CondenseFunc for a file that several
// catalogers want and condense (Go and Rust binaries are both executables,
// told apart only by their contents). The file is read once into memory
// (at most 512 MiB, in chunks: bounded.ReadChunks) and each of fns reads it
// from an *io.SectionReader, which is also an io.ReaderAt with a Size. Their summaries must be self-describing and are
// expected to exclude one another: when exactly one is non-empty it is
// kept; when none is, the file is reduced to nothing (or, if a condenser
// failed, the errors are returned); when several are, the file is kept
// whole, which every cataloger reads as it would without condensing.
func JoinCondense(fns ...CondenseFunc) CondenseFunc {
	return func(p string, r io.Reader, size int64) ([]byte, error) {
		if size < 0 || size > maxJoined {
			return nil, fmt.Errorf("%d bytes, more than the %d bytes condensed at once", size, maxJoined)
		}
		buf, err := bounded.ReadChunks(r, size)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", p, err)
		}
		var kept []byte
		var errs []error
		for _, fn := range fns {
			s, err := fn(p, io.NewSectionReader(buf, 0, size), size)
			switch {
			case err != nil:
				errs = append(errs, err)
			case len(s) == 0:
			case kept != nil:
				return buf.Bytes(), nil
			default:
				kept = s
			}
		}
		if kept == nil && len(errs) > 0 {
			return nil, errors.Join(errs...)
		}
		if kept == nil {
			kept = []byte{}
		}
		return kept, nil
	}
}
