// Package layerfs reads the layers of a container image once, as streams,
// and keeps only the files its caller wants, merged the way a container
// runtime stacks them.
//
// Each layer's uncompressed tar is read exactly once (layers in parallel),
// never unpacked to disk. A Want function decides which regular files have
// their contents kept in memory; symbolic links are always kept, hard
// links take their target's contents, and directories are implied by what
// is kept. Whiteouts (".wh.NAME") and opaque directories (".wh..wh..opq")
// are applied as the OCI image layer specification describes:
// https://github.com/opencontainers/image-spec/blob/main/layer.md#whiteouts
//
// Hostile layers are read the way a container runtime applies them
// (containerd is the model), never escaping the image root: absolute
// entry names are read from the root, ".." stops at the root (in entry
// names, hard link targets and symbolic links alike), and a symbolic link
// is resolved inside the image as the kernel resolves it for a
// container's "/". Entries a runtime would read differently from how they
// are written (absolute or climbing names, whiteouts that name nothing,
// devices and fifos where a reader expects a file, hard links to nothing,
// looping symbolic links) are recorded as Warnings naming the layer and
// the entry. Memory follows the bytes read, never a size a header
// declares; files and layers are cut at the size limits, with a warning.
//
// ReadImage checks every layer against its diff ID (and its digest), so a
// layer that is not what the image config says is an error, from the
// cache too.
//
// The result, a Tree, offers the merged filesystem as an fs.FS, the
// filesystem as it stood after any one layer, and the list of layers that
// changed files of interest. Its memory is proportional to the kept files.
package layerfs

import (
	"io"
	"io/fs"
	"log/slog"
	"strconv"
)

// Default limits; see Options.
const (
	DefaultMaxFileSize  = 512 << 20 // 512 MiB
	DefaultMaxLayerSize = 32 << 30  // 32 GiB
)

// maxSymlinks bounds the symbolic links followed while resolving one path,
// as Linux does (ELOOP after 40).
const maxSymlinks = 40

// Options configure how layers are read. The zero value keeps no file
// contents (only links).
type Options struct {
	// Want reports whether the contents of the regular file at path should
	// be kept. path is slash-separated, relative to the root, without a
	// leading slash. mode and size come from the tar header. Want is called
	// for every regular file of every layer, concurrently from several
	// goroutines: it must be cheap and safe for concurrent use.
	Want func(path string, mode fs.FileMode, size int64) bool

	// Condense, when set, is asked about every wanted file before its
	// contents are read. If it returns a non-nil Condenser, the file is
	// streamed through it instead of being read whole, and the Condenser's
	// result is kept as the file's contents. MaxFileSize does not apply to
	// condensed files. Like Want, it must be safe for concurrent use.
	Condense func(path string, mode fs.FileMode, size int64) Condenser

	// MaxFileSize is the largest file whose contents are kept whole
	// (default DefaultMaxFileSize). Of a wanted file above it only the
	// first MaxFileSize bytes are kept, with a warning; reading the file
	// then ends with io.ErrUnexpectedEOF instead of io.EOF, so that its
	// reader knows it saw only a part.
	MaxFileSize int64

	// MaxLayerSize bounds the uncompressed bytes read from one layer, a
	// guard against decompression bombs (default DefaultMaxLayerSize). A
	// layer that exceeds it is read no further, with a warning.
	MaxLayerSize int64

	// Parallelism is the number of layers read at once (default
	// GOMAXPROCS).
	Parallelism int

	// Logger receives warnings as they happen (default: discarded). Every
	// warning is also recorded in Tree.Warnings. Cache misses and cache
	// errors are logged at debug level.
	Logger *slog.Logger

	// Cache, when set together with CacheKey, keeps what ReadImage takes
	// from each layer (kept files, links, whiteouts, the hashes of the
	// other paths, warnings) so that a layer read before is not streamed
	// again. Layers are identified by their digest and diff ID together,
	// and a layer's record is stored only once its contents were found to
	// match both. Errors of the cache never fail a read.
	Cache Cache

	// TrustDigests says that the image source checks each layer's stored
	// bytes against the layer's digest as it delivers them, as a registry
	// pull does (go-containerregistry verifies every blob it downloads).
	// A layer whose record is in the cache is then used without reading
	// it. Otherwise (archives, OCI layouts, daemon exports, whose digests
	// are what the image's own files claim) ReadImage hashes a layer's
	// stored bytes before it uses the layer's record, and after it read
	// the layer's stream.
	TrustDigests bool

	// CacheKey identifies the behaviour of Want and Condense: two reads
	// whose Want or Condense could decide differently for some file must
	// have different keys. Empty disables the cache. The file size limits
	// and the record format are added to it by layerfs.
	CacheKey string
}

// A Condenser reduces a large file to a small summary while it streams:
// it reads the file's contents from r (size bytes, as the header says) and
// returns what should be kept instead. An error skips the file with a
// warning.
type Condenser func(path string, r io.Reader, size int64) ([]byte, error)

// Warning is a problem that did not stop the read: a skipped entry or a
// truncated layer.
type Warning struct {
	Layer string // the layer (index and diffID) or directory read
	// Index is the position of the layer in the tree, base first (0 for
	// a directory read).
	Index int
	Path  string // the entry concerned, when there is one
	Msg   string
}

func (w Warning) String() string {
	if w.Path == "" {
		return w.Layer + ": " + w.Msg
	}
	return w.Layer + ": " + strconv.Quote(w.Path) + ": " + w.Msg
}
