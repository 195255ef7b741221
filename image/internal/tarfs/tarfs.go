// Package tarfs serves the regular files of a tar archive as an fs.FS.
//
// The archive may be plain or gzip-compressed as a whole (as written by
// `docker save | gzip`); the two are told apart by their magic bytes.
//
// A plain archive is indexed once and its files are then read at their
// offsets, so opening a file costs nothing. A gzip stream cannot be read at an
// offset: small files (manifests, configs) are kept in memory from the
// indexing pass, which also records checkpoints (a deflate block boundary
// and the 32 KiB window before it) every few MiB of the tar stream; a
// larger file is then read by decompressing from the last checkpoint
// before it, not from the start of the archive. Nothing is unpacked to
// disk.
package tarfs

import (
	"archive/tar"
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/vigil-scanner/vigil/internal/inflate"
)

const (
	headSize     = 16      // bytes of every file kept from the indexing pass
	maxEntries   = 1 << 20 // more entries than this is not an image archive
	maxCached    = 1 << 20 // gzip: files up to this size are kept in memory
	maxCacheSize = 64 << 20
	maxLinkHops  = 16

	// gzip archives: a checkpoint every checkpointEvery bytes of the tar
	// stream, at most maxCheckpoints of them (32 KiB each): past that the
	// interval doubles.
	checkpointEvery = 8 << 20
	maxCheckpoints  = 512
)

// FS is a read-only view of a tar archive's regular files, symbolic links
// and hard links. It is safe for concurrent use. Close releases the file.
type FS struct {
	path    string
	file    *os.File
	gzipped bool
	entries map[string]*entry
	// checkpoints of a gzip archive, by increasing Out, one every
	// (at least) every bytes.
	checkpoints []inflate.Checkpoint
	every       int64
	workers     int
	skipped     atomic.Int64 // bytes decompressed only to reach a file
}

type entry struct {
	name   string
	link   string // symlink or hardlink target, as an archive path
	offset int64  // where the file's data starts in the (uncompressed) tar
	size   int64
	head   []byte // the first headSize bytes
	data   []byte // gzip archives: the whole file, when small
}

// Open indexes the tar archive at name. Errors name the file and say whether
// it is truncated or not a tar archive at all.
func Open(name string) (*FS, error) {
	return open(name, checkpointEvery, inflate.DefaultWorkers())
}

// open is Open with a checkpoint interval and the workers that inflate a
// gzip archive's indexing pass.
func open(name string, every int64, workers int) (*FS, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	fsys := &FS{path: name, file: f, entries: make(map[string]*entry), every: every, workers: workers}
	if err := fsys.index(); err != nil {
		f.Close()
		return nil, err
	}
	return fsys, nil
}

// Close closes the archive file.
func (fsys *FS) Close() error { return fsys.file.Close() }

// Gzipped reports whether the archive is gzip-compressed as a whole.
func (fsys *FS) Gzipped() bool { return fsys.gzipped }

func (fsys *FS) index() error {
	var magic [2]byte
	n, err := fsys.file.ReadAt(magic[:], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: %w", fsys.path, err)
	}
	fsys.gzipped = n == 2 && magic[0] == 0x1f && magic[1] == 0x8b

	r, closeFn, err := fsys.stream()
	if err != nil {
		return err
	}
	defer closeFn()
	pos := func() (int64, error) { return fsys.file.Seek(0, io.SeekCurrent) }
	if fsys.gzipped {
		cr := &counter{r: r}
		r, pos = cr, func() (int64, error) { return cr.n, nil }
	}
	tr := tar.NewReader(r)
	cached := 0
	var dataEnd int64 // where the last member's padded data ends
	for ord := 0; ; ord++ {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			if ord == 0 {
				return fmt.Errorf("%s: empty tar archive", fsys.path)
			}
			// archive/tar accepts a stream that stops between members;
			// a complete archive ends with zero blocks.
			if end, err := pos(); err != nil || end <= dataEnd {
				return fmt.Errorf("%s: archive is truncated: no end-of-archive marker", fsys.path)
			}
			return nil
		}
		if err != nil {
			return fsys.readError(err)
		}
		if ord >= maxEntries {
			return fmt.Errorf("%s: more than %d entries in archive", fsys.path, maxEntries)
		}
		start, err := pos()
		if err != nil {
			return fmt.Errorf("%s: %w", fsys.path, err)
		}
		dataEnd = start + (hdr.Size+511)&^511
		name, ok := clean(hdr.Name)
		if !ok {
			continue
		}
		e := &entry{name: name, size: hdr.Size}
		switch hdr.Typeflag {
		case tar.TypeReg:
		case tar.TypeSymlink:
			target := hdr.Linkname
			if !strings.HasPrefix(target, "/") {
				target = path.Join(path.Dir(name), target)
			}
			if e.link, ok = clean(target); !ok {
				continue
			}
			e.size = 0
		case tar.TypeLink:
			if e.link, ok = clean(hdr.Linkname); !ok {
				continue
			}
			e.size = 0
		default:
			continue // directories, devices, sparse files: not part of an image
		}
		if e.link == "" {
			e.offset = start
			if fsys.gzipped && e.size <= maxCached && cached+int(e.size) <= maxCacheSize {
				e.data = make([]byte, e.size)
				if _, err := io.ReadFull(tr, e.data); err != nil {
					return fsys.readError(err)
				}
				cached += len(e.data)
				e.head = e.data[:min(len(e.data), headSize)]
			} else {
				e.head = make([]byte, min(e.size, headSize))
				if _, err := io.ReadFull(tr, e.head); err != nil {
					return fsys.readError(err)
				}
			}
		}
		fsys.entries[name] = e
	}
}

func (fsys *FS) readError(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%s: archive is truncated: %w", fsys.path, err)
	}
	return fmt.Errorf("%s: corrupt or not a tar archive: %w", fsys.path, err)
}

// stream returns the archive's tar stream from its start.
func (fsys *FS) stream() (io.Reader, func(), error) {
	if !fsys.gzipped {
		// Only the indexing pass streams a plain archive; an *os.File lets
		// tar.Reader seek past file data instead of reading it.
		return fsys.file, func() {}, nil
	}
	// A section reader of its own, so concurrent passes share no offset.
	sr := io.NewSectionReader(fsys.file, 0, 1<<62)
	zr, err := inflate.NewIndexingReader(bufio.NewReaderSize(sr, 1<<18), fsys.every, func(cp inflate.Checkpoint) {
		if len(fsys.checkpoints) > 0 && cp.Out < fsys.checkpoints[len(fsys.checkpoints)-1].Out+fsys.every {
			return
		}
		fsys.checkpoints = append(fsys.checkpoints, cp)
		if len(fsys.checkpoints) == maxCheckpoints {
			// Keep every other one, and ask for half as many.
			kept := fsys.checkpoints[:0]
			for i := 1; i < len(fsys.checkpoints); i += 2 {
				kept = append(kept, fsys.checkpoints[i])
			}
			clear(fsys.checkpoints[len(kept):])
			fsys.checkpoints = kept
			fsys.every *= 2
		}
	}, inflate.Options{Workers: fsys.workers})
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, nil, fsys.readError(err)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: corrupt gzip stream: %w", fsys.path, err)
	}
	return zr, func() { zr.Close() }, nil
}

// clean turns an archive member name into an fs.FS path, rejecting names
// that climb out of the archive.
func clean(name string) (string, bool) {
	name = path.Clean(strings.TrimLeft(name, "/"))
	if !fs.ValidPath(name) || name == "." {
		return "", false
	}
	return name, true
}

// lookup resolves links and returns the regular file named name.
func (fsys *FS) lookup(name string) (*entry, error) {
	for range maxLinkHops {
		e, ok := fsys.entries[name]
		if !ok {
			return nil, fs.ErrNotExist
		}
		if e.link == "" {
			return e, nil
		}
		name = e.link
	}
	return nil, fmt.Errorf("too many links")
}

// Open implements fs.FS.
func (fsys *FS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	e, err := fsys.lookup(name)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	f := &file{fsys: fsys, e: e}
	switch {
	case e.data != nil:
		f.r = bytes.NewReader(e.data)
	case !fsys.gzipped:
		f.r = io.NewSectionReader(fsys.file, e.offset, e.size)
	default:
		f.r = bytes.NewReader(e.head) // then the rest, decompressed on demand
	}
	return f, nil
}

// file is an open archive member.
type file struct {
	fsys   *FS
	e      *entry
	r      io.Reader
	rest   bool // r now reads past the head, from a fresh gzip stream
	closer func()
}

func (f *file) Stat() (fs.FileInfo, error) { return info{f.e}, nil }

func (f *file) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if errors.Is(err, io.EOF) && f.fsys.gzipped && f.e.data == nil && !f.rest && f.e.size > int64(len(f.e.head)) {
		if err := f.openRest(); err != nil {
			return n, err
		}
		err = nil
		if n == 0 {
			return f.Read(p)
		}
	}
	return n, err
}

// openRest decompresses the archive from the last checkpoint before f's
// entry (or from its start) and positions r just past the head already
// served.
func (f *file) openRest() error {
	f.rest = true
	fsys := f.fsys
	skip := f.e.offset + int64(len(f.e.head))
	var zr io.ReadCloser
	var err error
	i, _ := slices.BinarySearchFunc(fsys.checkpoints, skip, func(cp inflate.Checkpoint, off int64) int { return cmp.Compare(cp.Out, off+1) })
	if i > 0 {
		cp := fsys.checkpoints[i-1]
		zr, err = inflate.NewReaderFrom(bufio.NewReaderSize(io.NewSectionReader(fsys.file, cp.In/8, 1<<62), 1<<18), cp)
		skip -= cp.Out
	} else {
		zr, err = inflate.NewReader(bufio.NewReaderSize(io.NewSectionReader(fsys.file, 0, 1<<62), 1<<18), inflate.Options{})
	}
	if err != nil {
		return fmt.Errorf("%s: %w", fsys.path, err)
	}
	fsys.skipped.Add(skip)
	if _, err := io.CopyN(io.Discard, zr, skip); err != nil {
		zr.Close()
		return fsys.readError(err)
	}
	f.r, f.closer = io.LimitReader(zr, f.e.size-int64(len(f.e.head))), func() { zr.Close() }
	return nil
}

func (f *file) Close() error {
	if f.closer != nil {
		f.closer()
		f.closer = nil
	}
	return nil
}

type info struct{ e *entry }

func (i info) Name() string       { return path.Base(i.e.name) }
func (i info) Size() int64        { return i.e.size }
func (i info) Mode() fs.FileMode  { return 0o444 }
func (i info) ModTime() time.Time { return time.Time{} }
func (i info) IsDir() bool        { return false }
func (i info) Sys() any           { return nil }

// counter counts the bytes read through it.
type counter struct {
	r io.Reader
	n int64
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
