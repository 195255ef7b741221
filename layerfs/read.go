package layerfs

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"

	"github.com/vigil-scanner/vigil/internal/inflate"
)

// errLayerTooBig stops reading a layer that exceeds Options.MaxLayerSize.
var errLayerTooBig = errors.New("layer exceeds the uncompressed size limit")

// ReadImage reads the layers of img. See ReadLayers. When opts.Cache and
// opts.CacheKey are set, a layer is identified by the diff ID that img's
// config records for it, and its record is taken from the cache when
// there; see Options.Cache.
func ReadImage(ctx context.Context, img v1.Image, opts Options) (*Tree, error) {
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("listing image layers: %w", err)
	}
	var diffIDs []v1.Hash
	if opts.caching() {
		cfg, err := img.ConfigFile()
		if err != nil {
			return nil, fmt.Errorf("reading image config: %w", err)
		}
		if len(cfg.RootFS.DiffIDs) == len(layers) {
			diffIDs = cfg.RootFS.DiffIDs
		}
	}
	return readLayers(ctx, layers, diffIDs, opts)
}

// ReadLayers reads layers, ordered base layer first, each once and in
// parallel, and merges them. A layer that cannot be read (a corrupt
// compressed stream, a truncated tar) is an error naming the layer.
// ReadLayers does not use opts.Cache: layers alone carry no diff ID that
// is known without reading them.
func ReadLayers(ctx context.Context, layers []v1.Layer, opts Options) (*Tree, error) {
	return readLayers(ctx, layers, nil, opts)
}

// readLayers reads layers; diffIDs, when not nil, are the layers' diff IDs
// as the image config records them, by which they are cached.
func readLayers(ctx context.Context, layers []v1.Layer, diffIDs []v1.Hash, opts Options) (*Tree, error) {
	opts = opts.withDefaults()
	data := make([]*layerData, len(layers))
	inf := inflateOptions(layers, opts.Parallelism)
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(opts.Parallelism)
	for i, l := range layers {
		g.Go(func() error {
			var id v1.Hash
			if diffIDs != nil {
				id = diffIDs[i]
			}
			ld, err := readLayer(ctx, layerName(i, l), l, id, &opts, inf[i])
			data[i] = ld
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return build(data), nil
}

// readLayer reads one layer, from the cache when it holds the layer's
// record (diffID set) and else from the layer's stream.
func readLayer(ctx context.Context, name string, l v1.Layer, diffID v1.Hash, opts *Options, inf inflate.Options) (*layerData, error) {
	key := opts.cacheKey(diffID)
	if key != "" {
		if ld := loadLayer(name, key, diffID, opts); ld != nil {
			return ld, nil
		}
	}
	rc, err := openUncompressed(l, inf)
	if err != nil {
		return nil, fmt.Errorf("%s: opening: %w", name, err)
	}
	defer rc.Close()
	var r io.Reader = rc
	var sum hash.Hash
	if key != "" {
		sum = sha256.New()
		r = io.TeeReader(rc, sum)
	}
	ld := newLayerData(name)
	if err := readTar(ctx, ld, r, opts); err != nil {
		return nil, err
	}
	if key != "" && !ld.truncated {
		storeLayer(ld, key, diffID, r, sum, opts)
	}
	return ld, nil
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
	ld.warn(p, msg)
	o.Logger.Warn(msg, "layer", ld.name, "path", p)
}

// readTar reads one layer's tar stream into ld.
func readTar(ctx context.Context, ld *layerData, r io.Reader, opts *Options) error {
	cr := &countingReader{ctx: ctx, r: r, max: opts.MaxLayerSize}
	tr := tar.NewReader(cr)
	last := ""
	// fail turns a read error into the layer's outcome: the size guard is
	// a warning, anything else a corrupt layer.
	fail := func(p string, err error) error {
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
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fail(last, err)
		}
		last = hdr.Name
		p, ok := cleanPath(hdr.Name)
		if !ok {
			opts.warn(ld, hdr.Name, "entry escapes the root; dropped")
			continue
		}
		if p == "" {
			continue // the root directory itself
		}
		dir, base := splitPath(p)
		if len(base) >= 4 && base[:4] == ".wh." {
			switch {
			case base == ".wh..wh..opq":
				ld.opaque[dir] = struct{}{}
			case len(base) >= 8 && base[:8] == ".wh..wh.":
				// Other AUFS metadata (hardlink dirs): not part of the tree.
			case len(base) > 4:
				ld.whiteouts[joinPath(dir, base[4:])] = struct{}{}
			}
			continue
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			ld.unkeptDir(p)
		case tar.TypeSymlink:
			ld.put(p, &entry{kind: kindSymlink, mode: fs.ModeSymlink | fs.FileMode(hdr.Mode)&fs.ModePerm,
				modTime: hdr.ModTime, target: hdr.Linkname})
		case tar.TypeLink:
			t, ok := cleanPath(hdr.Linkname)
			if !ok || t == "" {
				opts.warn(ld, hdr.Name, "hard link target "+strconv.Quote(hdr.Linkname)+" escapes the root; dropped")
				ld.unkeptOther(p)
				continue
			}
			ld.put(p, &entry{kind: kindHardlink, mode: fs.FileMode(hdr.Mode) & fs.ModePerm,
				modTime: hdr.ModTime, target: t})
		case tar.TypeReg, '\x00', tar.TypeGNUSparse:
			if err := readFile(ld, p, hdr, tr, opts); err != nil {
				return fail(hdr.Name, err)
			}
		default:
			// Devices, fifos and anything else: not kept, but they
			// replace what lower layers had at p.
			ld.unkeptOther(p)
		}
	}
	ld.finish()
	return nil
}

// readFile keeps a regular file's contents when wanted. A returned error
// comes from the layer stream; problems with the file alone are warnings.
func readFile(ld *layerData, p string, hdr *tar.Header, r io.Reader, opts *Options) error {
	mode := hdr.FileInfo().Mode()
	data, keep, err := readContents(ld, p, mode, hdr.Size, r, opts)
	if err != nil || !keep {
		ld.unkeptOther(p)
		return err
	}
	ld.put(p, &entry{kind: kindFile, mode: mode, size: hdr.Size, modTime: hdr.ModTime, data: data})
	return nil
}

// readContents reads what is kept of a file from r: all of it, a condensed
// summary, or nothing (keep=false).
func readContents(ld *layerData, p string, mode fs.FileMode, size int64, r io.Reader, opts *Options) (data []byte, keep bool, err error) {
	if opts.Want == nil || !opts.Want(p, mode, size) {
		return nil, false, nil
	}
	if opts.Condense != nil {
		if c := opts.Condense(p, mode, size); c != nil {
			sr := &stickyReader{r: r}
			data, cerr := c(p, sr, size)
			if sr.err != nil {
				return nil, false, sr.err
			}
			if cerr != nil {
				opts.warn(ld, p, "condensing: "+cerr.Error()+"; skipped")
				return nil, false, nil
			}
			return data, true, nil
		}
	}
	if size > opts.MaxFileSize {
		opts.warn(ld, p, fmt.Sprintf("%d bytes, more than the %d-byte file limit; skipped", size, opts.MaxFileSize))
		return nil, false, nil
	}
	data = make([]byte, size)
	if _, err := io.ReadFull(r, data); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, false, err
	}
	return data, true, nil
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
// files are kept as from a layer. Unreadable entries are warnings.
func ReadDir(ctx context.Context, root string, opts Options) (*Tree, error) {
	opts = opts.withDefaults()
	ld := newLayerData(root)
	if _, err := os.Stat(root); err != nil {
		return nil, err
	}
	err := filepath.WalkDir(root, func(name string, d fs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		rel, rerr := filepath.Rel(root, name)
		if rerr != nil {
			return rerr
		}
		p := filepath.ToSlash(rel)
		if err != nil {
			opts.warn(ld, p, err.Error())
			if d != nil && d.IsDir() && name != root {
				return fs.SkipDir
			}
			return nil
		}
		if p == "." {
			return nil
		}
		switch t := d.Type(); {
		case t.IsDir():
		case t&fs.ModeSymlink != 0:
			target, err := os.Readlink(name)
			if err != nil {
				opts.warn(ld, p, err.Error())
				return nil
			}
			ld.put(p, &entry{kind: kindSymlink, mode: fs.ModeSymlink | 0o777, target: filepath.ToSlash(target)})
		case t.IsRegular():
			if err := readDirFile(ld, name, p, d, &opts); err != nil {
				opts.warn(ld, p, err.Error())
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walking %s: %w", root, err)
	}
	ld.finish()
	return build([]*layerData{ld}), nil
}

func readDirFile(ld *layerData, name, p string, d fs.DirEntry, opts *Options) error {
	info, err := d.Info()
	if err != nil {
		return err
	}
	if opts.Want == nil || !opts.Want(p, info.Mode(), info.Size()) {
		return nil
	}
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	// The file may change while read: read no more than its size said.
	data, keep, err := readContents(ld, p, info.Mode(), info.Size(), io.LimitReader(f, info.Size()), opts)
	if err != nil || !keep {
		return err
	}
	ld.put(p, &entry{kind: kindFile, mode: info.Mode(), size: info.Size(), modTime: info.ModTime(), data: data})
	return nil
}
