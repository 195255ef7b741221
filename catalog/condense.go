package catalog

import (
	"io"
	"io/fs"
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
