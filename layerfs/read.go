package layerfs

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"

	"github.com/vigil-scanner/vigil/internal/bounded"
	"github.com/vigil-scanner/vigil/internal/inflate"
)

// errLayerTooBig stops reading a layer that exceeds Options.MaxLayerSize.
var errLayerTooBig = errors.New("layer exceeds the uncompressed size limit")

// ReadImage reads the layers of img. See ReadLayers. Each layer's
// contents are checked against the diff ID that img's config records for
// it, and (unless opts.TrustDigests) its stored bytes against its digest:
// a layer that does not match is an error naming it. When opts.Cache and
// opts.CacheKey are set, a layer is identified by its digest and diff ID
// together, and its record is taken from the cache when there; see
// Options.Cache.
func ReadImage(ctx context.Context, img v1.Image, opts Options) (*Tree, error) {
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("listing image layers: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading image config: %w", err)
	}
	if len(cfg.RootFS.DiffIDs) != len(layers) {
		return nil, fmt.Errorf("the image config records %d diff IDs for %d layers", len(cfg.RootFS.DiffIDs), len(layers))
	}
	ids := make([]layerID, len(layers))
	for i, l := range layers {
		d, err := l.Digest()
		if err != nil {
			return nil, fmt.Errorf("layer %d: digest: %w", i, err)
		}
		ids[i] = layerID{digest: d, diffID: cfg.RootFS.DiffIDs[i]}
	}
	return readLayers(ctx, layers, ids, opts)
}

// ReadLayers reads layers, ordered base layer first, each once and in
// parallel, and merges them. A layer that cannot be read (a corrupt
// compressed stream, a truncated tar) is an error naming the layer.
// ReadLayers neither checks the layers against their digests nor uses
// opts.Cache: layers alone carry no diff ID that is known without reading
// them.
func ReadLayers(ctx context.Context, layers []v1.Layer, opts Options) (*Tree, error) {
	return readLayers(ctx, layers, nil, opts)
}

// layerID is what an image says a layer is: the digest of its stored
// bytes (from the manifest) and of its tar stream (from the config).
type layerID struct {
	digest, diffID v1.Hash
}

// readLayers reads layers; ids, when not nil, are what the image says of
// them, against which they are checked and by which they are cached.
func readLayers(ctx context.Context, layers []v1.Layer, ids []layerID, opts Options) (*Tree, error) {
	opts = opts.withDefaults()
	data := make([]*layerData, len(layers))
	inf := inflateOptions(layers, opts.Parallelism)
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(opts.Parallelism)
	for i, l := range layers {
		g.Go(func() error {
			var id layerID
			name := layerName(i, l)
			if ids != nil {
				id = ids[i]
				name = "layer " + strconv.Itoa(i) + " (" + id.diffID.String() + ")"
			}
			ld, err := readLayer(ctx, name, l, id, &opts, inf[i])
			data[i] = ld
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	t := build(data, &opts)
	t.src = &source{layers: layers, ids: ids, opts: opts}
	return t, nil
}

// readLayer reads one layer, from the cache when it holds the layer's
// record and else from the layer's stream (inflated as inf says), and
// checks it against id (when known).
func readLayer(ctx context.Context, name string, l v1.Layer, id layerID, opts *Options, inf inflate.Options) (*layerData, error) {
	key := opts.cacheKey(id)
	if key != "" {
		if ld := loadLayer(name, key, id, opts); ld != nil {
			if !opts.TrustDigests {
				if err := verifyStored(ctx, name, l, id.digest); err != nil {
					return nil, err
				}
			}
			return ld, nil
		}
	}
	ld, stored, err := streamLayer(ctx, name, l, id.diffID, opts, inf)
	if err != nil {
		return nil, err
	}
	if id.digest.Hex != "" && !opts.TrustDigests {
		if err := verifyStoredSum(ctx, name, l, id, stored); err != nil {
			return nil, err
		}
	}
	if key != "" && !ld.truncated {
		err = opts.Cache.Put(key, func(w io.Writer) error { return encodeLayer(w, ld, id) })
		if err != nil {
			opts.Logger.Debug("layer cache: storing", "layer", ld.name, "err", err)
		}
	}
	return ld, nil
}

// streamLayer reads the layer's tar stream, and when diffID is set checks
// the stream against it. Hard links that need a second pass over the
// layer (see refetch) get one.
//
// It also returns the digest of the layer's stored bytes when the read
// went through all of them (see openUncompressed), or nil.
func streamLayer(ctx context.Context, name string, l v1.Layer, diffID v1.Hash, opts *Options, inf inflate.Options) (*layerData, *storedSum, error) {
	ld := newLayerData(name)
	stored, err := streamInto(ctx, ld, l, diffID, opts, inf)
	return ld, stored, err
}

// streamInto reads the layer into ld, inflated as inf says, and returns
// the digest of its stored bytes when they were read along the way.
func streamInto(ctx context.Context, ld *layerData, l v1.Layer, diffID v1.Hash, opts *Options, inf inflate.Options) (*storedSum, error) {
	var stored *storedSum
	fetches, err := streamOnce(ctx, ld, l, diffID, opts, inf, &stored, func(r io.Reader) ([]fetch, error) {
		return readTar(ctx, ld, r, opts)
	})
	if err != nil || len(fetches) == 0 || ld.truncated {
		return stored, err
	}
	_, err = streamOnce(ctx, ld, l, diffID, opts, inf, nil, func(r io.Reader) ([]fetch, error) {
		return nil, refetch(ctx, ld, r, fetches, opts)
	})
	return stored, err
}

// streamOnce opens the layer's uncompressed stream and gives it to read;
// then, unless the layer was cut at MaxLayerSize, reads the stream to its
// end and checks its digest against diffID (when set). Reading to the end
// also makes the decompressor check its own checksum.
// When stored is not nil, it is set to the digest of the stored bytes
// read along the way.
func streamOnce(ctx context.Context, ld *layerData, l v1.Layer, diffID v1.Hash, opts *Options, inf inflate.Options, stored **storedSum, read func(io.Reader) ([]fetch, error)) ([]fetch, error) {
	rc, sum0, err := openUncompressed(l, inf)
	if err != nil {
		return nil, fmt.Errorf("%s: opening: %w", ld.name, err)
	}
	defer rc.Close()
	if stored != nil {
		*stored = sum0
	}
	sum := newHashPipe(sha256.New())
	defer sum.finish()
	r := &countingReader{ctx: ctx, r: io.TeeReader(rc, sum), max: opts.MaxLayerSize}
	fetches, err := read(r)
	if err != nil || ld.truncated {
		return fetches, err
	}
	// What follows the tar's end-of-archive marker is part of the
	// layer's diff ID.
	if _, err := io.Copy(io.Discard, r); err != nil {
		return nil, readError(ctx, ld, "", fmt.Errorf("after the end of the tar: %w", err), opts)
	}
	if ld.truncated {
		return fetches, nil
	}
	if diffID.Hex != "" {
		if got := hex.EncodeToString(sum.Sum(nil)); got != diffID.Hex || diffID.Algorithm != "sha256" {
			return nil, fmt.Errorf("%s: the layer's contents do not match the diff ID %s that the image config records (they hash to sha256:%s)", ld.name, diffID, got)
		}
	}
	return fetches, nil
}

// layerName names a layer in warnings and errors by its position and
// digest. The diffID is used because every image source knows it cheaply.
func layerName(i int, l v1.Layer) string {
	name := "layer " + strconv.Itoa(i)
	if h, err := l.DiffID(); err == nil {
		return name + " (" + h.String() + ")"
	}
	if h, err := l.Digest(); err == nil {
		return name + " (" + h.String() + ")"
	}
	return name
}

func (o Options) withDefaults() Options {
	if o.MaxFileSize <= 0 {
		o.MaxFileSize = DefaultMaxFileSize
	}
	if o.MaxLayerSize <= 0 {
		o.MaxLayerSize = DefaultMaxLayerSize
	}
	if o.Parallelism <= 0 {
		o.Parallelism = runtime.GOMAXPROCS(0)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

func (o *Options) warn(ld *layerData, p, msg string) {
	if ld.warn(p, msg) {
		o.Logger.Warn(msg, "layer", ld.name, "path", p)
	}
}

// readTar reads one layer's tar stream into ld. It returns the hard links
// that need a second pass over the layer (see refetch).
func readTar(ctx context.Context, ld *layerData, r io.Reader, opts *Options) ([]fetch, error) {
	tr := tar.NewReader(r)
	lr := newLayerReader(ld, opts)
	last := ""
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err == nil {
			last = hdr.Name
			err = lr.add(hdr, tr)
		}
		if err != nil {
			return nil, readError(ctx, ld, last, err, opts)
		}
	}
	ld.finish()
	return lr.fetches, nil
}

// readError turns an error reading a layer's stream at the entry p into
// the layer's outcome: the size guard is a warning (nil error, the layer
// marked truncated), anything else a corrupt layer.
func readError(ctx context.Context, ld *layerData, p string, err error, opts *Options) error {
	if errors.Is(err, errLayerTooBig) {
		opts.warn(ld, p, fmt.Sprintf("more than %d uncompressed bytes; the rest of the layer is skipped", opts.MaxLayerSize))
		ld.truncated = true
		ld.finish()
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if p == "" {
		return fmt.Errorf("%s: reading tar: %w", ld.name, err)
	}
	return fmt.Errorf("%s: reading tar at %q: %w", ld.name, p, err)
}

// refetch reads the layer's stream r a second time for the contents of the
// hard link targets in fetches, which the first pass did not keep, and
// gives them to the links.
func refetch(ctx context.Context, ld *layerData, r io.Reader, fetches []fetch, opts *Options) error {
	byOrd := make(map[int][]fetch, len(fetches))
	for _, f := range fetches {
		byOrd[f.ord] = append(byOrd[f.ord], f)
	}
	tr := tar.NewReader(r)
	last := ""
	for ord := 0; len(byOrd) > 0; ord++ {
		hdr, err := tr.Next()
		if err == io.EOF {
			err = io.ErrUnexpectedEOF // the first pass saw more entries
		}
		if err != nil {
			return readError(ctx, ld, last, fmt.Errorf("reading the layer again: %w", err), opts)
		}
		last = hdr.Name
		fs, ok := byOrd[ord]
		if !ok {
			continue
		}
		delete(byOrd, ord)
		f := fs[0]
		data, truncated, keep, err := readContents(ld, f.path, f.mode, hdr.Size, tr, opts)
		if err != nil {
			return readError(ctx, ld, last, err, opts)
		}
		if !keep {
			continue
		}
		for _, f := range fs {
			ld.put(f.path, &entry{kind: kindFile, mode: f.mode, size: hdr.Size, modTime: f.modTime, data: data, truncated: truncated})
		}
	}
	return nil
}

// readFile keeps a regular file's contents when wanted and reports whether
// it did. A returned error comes from the layer stream; problems with the
// file alone are warnings.
func readFile(ld *layerData, p string, hdr *tar.Header, mode fs.FileMode, r io.Reader, opts *Options) (bool, error) {
	if opts.Want == nil || !opts.Want(p, mode, hdr.Size) {
		ld.unkeptOther(p)
		return false, nil
	}
	data, truncated, keep, err := readContents(ld, p, mode, hdr.Size, r, opts)
	if err != nil || !keep {
		ld.unkeptOther(p)
		return false, err
	}
	ld.put(p, &entry{kind: kindFile, mode: mode, size: hdr.Size, modTime: hdr.ModTime, data: data, truncated: truncated})
	return true, nil
}

// readContents reads what is kept of a wanted file from r: all of it, a
// condensed summary, its first MaxFileSize bytes (truncated) when it is
// larger, or nothing (keep=false).
func readContents(ld *layerData, p string, mode fs.FileMode, size int64, r io.Reader, opts *Options) (data []byte, truncated, keep bool, err error) {
	if opts.Condense != nil {
		if c := opts.Condense(p, mode, size); c != nil {
			sr := &stickyReader{r: r}
			data, cerr := c(p, sr, size)
			if sr.err != nil {
				return nil, false, false, sr.err
			}
			if cerr != nil {
				opts.warn(ld, p, "condensing: "+cerr.Error()+"; skipped")
				return nil, false, false, nil
			}
			return data, false, true, nil
		}
	}
	n := size
	if size > opts.MaxFileSize {
		opts.warn(ld, p, fmt.Sprintf("%d bytes, more than the %d-byte file limit; only the first %d bytes are read", size, opts.MaxFileSize, opts.MaxFileSize))
		n, truncated = opts.MaxFileSize, true
	}
	data, err = bounded.ReadN(r, n)
	if err != nil {
		return nil, false, false, err
	}
	return data, truncated, true, nil
}

// countingReader fails with errLayerTooBig once more than max bytes were
// read, and with the context's error once it is done.
type countingReader struct {
	ctx context.Context
	r   io.Reader
	n   int64
	max int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	if c.n > c.max {
		return 0, errLayerTooBig
	}
	if rest := c.max + 1 - c.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.max {
		return n, errLayerTooBig
	}
	return n, err
}

// stickyReader remembers the first error other than io.EOF from r, so a
// stream failure inside a Condenser is told apart from the Condenser's own.
type stickyReader struct {
	r   io.Reader
	err error
}

func (s *stickyReader) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.err = err
	}
	return n, err
}

// ReadDir reads the directory tree at root as a single layer: symlinks are
// recorded, not followed, so nothing outside root is read; wanted regular
// files are kept as from a layer. Files are opened through an os.Root, so
// that a directory swapped for a symlink during the walk cannot lead out
// of root either, and without blocking, so that a file swapped for a fifo
// cannot hang the walk. Unreadable entries are warnings.
func ReadDir(ctx context.Context, root string, opts Options) (*Tree, error) {
	opts = opts.withDefaults()
	ld := newLayerData(root)
	if _, err := os.Stat(root); err != nil {
		return nil, err
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	err = fs.WalkDir(r.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if err != nil {
			opts.warn(ld, p, err.Error())
			if d != nil && d.IsDir() && p != "." {
				// What it holds is unknown: it may hold a wanted file.
				ld.cannotRead(p, err.Error())
				return fs.SkipDir
			}
			return nil
		}
		if p == "." {
			return nil
		}
		wanted := opts.Want != nil && opts.Want(p, regularMode, 0)
		switch t := d.Type(); {
		case t.IsDir():
			ld.unkeptDir(p)
			if wanted {
				ld.cannotRead(p, "directory where a regular file is expected")
			}
		case t&fs.ModeSymlink != 0:
			target, err := r.Readlink(p)
			if err != nil {
				opts.warn(ld, p, err.Error())
				return nil
			}
			ld.put(p, &entry{kind: kindSymlink, mode: fs.ModeSymlink | 0o777, target: filepath.ToSlash(target)})
		case t.IsRegular():
			info, err := d.Info()
			if err == nil {
				err = readDirFile(r, ld, p, info, &opts)
			}
			if err != nil {
				opts.warn(ld, p, err.Error())
				if wanted {
					ld.cannotRead(p, err.Error())
				}
			}
		default:
			if wanted {
				opts.warn(ld, p, modeName(t)+" where a regular file is expected; not read")
				ld.cannotRead(p, modeName(t)+" where a regular file is expected")
			}
			ld.unkeptOther(p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walking %s: %w", root, err)
	}
	ld.finish()
	t := build([]*layerData{ld}, &opts)
	t.src = &source{dir: root, opts: opts}
	return t, nil
}

func readDirFile(r *os.Root, ld *layerData, p string, info fs.FileInfo, opts *Options) error {
	mode := info.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
	if opts.Want == nil || !opts.Want(p, mode, info.Size()) {
		ld.unkeptOther(p)
		return nil
	}
	ld.unkeptOther(p) // replaced by the entry once read
	f, err := r.OpenFile(filepath.FromSlash(p), os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return err
	} else if !st.Mode().IsRegular() {
		return fmt.Errorf("%s is no longer a regular file", st.Mode().Type())
	}
	// The file may change while read: read no more than its size said.
	data, truncated, keep, err := readContents(ld, p, mode, info.Size(), io.LimitReader(f, info.Size()), opts)
	if err != nil || !keep {
		return err
	}
	ld.put(p, &entry{kind: kindFile, mode: mode, size: info.Size(), modTime: info.ModTime(), data: data, truncated: truncated})
	return nil
}
