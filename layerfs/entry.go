package layerfs

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"
)

// This file applies one tar entry of a layer to the layer's record, the
// way a container runtime applies a layer (containerd's archive.Apply is
// the model): names are read relative to the image root and never leave
// it, whiteouts are recognised by their base name, hard links take their
// target's contents. Every entry a runtime would read differently from
// how it is written, or that no runtime could apply, gets a warning naming
// the layer and the entry.

// maxUnread bounds how many unkept files of one layer are remembered as
// possible hard link targets (about 40 bytes each).
const maxUnread = 1 << 20

// regularMode is the mode Want is asked about for a path when the question
// is whether a cataloger expects a regular file there.
const regularMode fs.FileMode = 0o644

// unread describes a regular file of the layer being read whose contents
// were not kept: what a later hard link to it needs.
type unread struct {
	mode fs.FileMode
	size int64
	ord  int // the entry's position in the layer's tar stream
}

// fetch is a hard link, wanted by its own path, to a file of the same
// layer whose contents were not kept: a second pass over the layer reads
// the entry at ord for it.
type fetch struct {
	ord     int
	path    string
	mode    fs.FileMode
	size    int64
	modTime time.Time
}

// layerReader applies the entries of one layer's tar stream, in order.
type layerReader struct {
	ld   *layerData
	opts *Options
	ord  int // position of the current entry
	// unread holds the unkept entries met so far, by path hash: regular
	// files, and with their type in mode, other entries.
	unread map[uint64]unread
	// fetches are the hard links waiting for a second pass.
	fetches []fetch
}

func newLayerReader(ld *layerData, opts *Options) *layerReader {
	return &layerReader{ld: ld, opts: opts, unread: make(map[uint64]unread)}
}

// add applies the entry hdr, whose contents r holds. A returned error
// comes from the layer stream; problems with the entry are warnings.
func (lr *layerReader) add(hdr *tar.Header, r io.Reader) error {
	defer func() { lr.ord++ }()
	ld, opts := lr.ld, lr.opts
	p, note := entryPath(hdr.Name)
	if note != "" {
		opts.warn(ld, hdr.Name, note+"; read as "+strconv.Quote(p))
	}
	if p == "" {
		return nil // the root directory itself
	}
	dir, base := splitPath(p)
	if strings.HasPrefix(base, whiteoutPrefix) {
		lr.whiteout(hdr.Name, dir, base)
		return nil
	}
	delete(lr.unread, pathHash(p)) // whatever was at p is replaced
	delete(ld.unreadable, p)
	switch hdr.Typeflag {
	case tar.TypeDir:
		ld.unkeptDir(p)
		lr.remember(p, unread{mode: fs.ModeDir})
		if opts.Want != nil && opts.Want(p, regularMode, 0) {
			ld.cannotRead(p, "directory where a regular file is expected")
		}
	case tar.TypeSymlink:
		ld.put(p, &entry{kind: kindSymlink, mode: fs.ModeSymlink | fs.FileMode(hdr.Mode)&fs.ModePerm,
			modTime: hdr.ModTime, target: hdr.Linkname})
	case tar.TypeLink:
		lr.hardlink(hdr, p)
	case tar.TypeReg, tar.TypeRegA, tar.TypeGNUSparse:
		mode := fileMode(hdr)
		kept, err := readFile(ld, p, hdr, mode, r, opts)
		if err != nil {
			return err
		}
		if !kept {
			lr.remember(p, unread{mode: mode, size: hdr.Size, ord: lr.ord})
		}
	default:
		// Devices, fifos and anything else: not kept, but they
		// replace what lower layers had at p.
		lr.notRegular(hdr.Name, p, typeName(hdr.Typeflag))
		ld.unkeptOther(p)
		lr.remember(p, unread{mode: fs.ModeDevice})
	}
	return nil
}

// remember records an unkept entry at p, as long as there is room.
func (lr *layerReader) remember(p string, u unread) {
	if len(lr.unread) < maxUnread {
		lr.unread[pathHash(p)] = u
	}
}

// whiteoutPrefix starts the base name of a whiteout entry, and opaque is
// the whole base name of an opaque-directory marker.
const (
	whiteoutPrefix = ".wh."
	opaque         = ".wh..wh..opq"
)

// whiteout applies a whiteout entry found in dir.
func (lr *layerReader) whiteout(name, dir, base string) {
	switch target := base[len(whiteoutPrefix):]; {
	case base == opaque:
		lr.ld.opaque[dir] = struct{}{}
	case strings.HasPrefix(target, whiteoutPrefix):
		// Other AUFS metadata (.wh..wh.plnk, .wh..wh.aufs): not part of
		// the tree.
	case target == "" || target == "." || target == "..":
		lr.opts.warn(lr.ld, name, "whiteout that names no file; ignored")
	default:
		lr.ld.whiteouts[joinPath(dir, target)] = struct{}{}
	}
}

// hardlink applies a hard link at p. A link to a file met earlier in the
// layer takes the file's contents when they were kept, or is read in a
// second pass when its own path is wanted; a link to a file of a lower
// layer is resolved when the layers are merged (see Tree).
func (lr *layerReader) hardlink(hdr *tar.Header, p string) {
	ld, opts := lr.ld, lr.opts
	t, note := entryPath(hdr.Linkname)
	if note != "" && !strings.HasPrefix(note, "absolute") {
		opts.warn(ld, hdr.Name, "hard link target "+strconv.Quote(hdr.Linkname)+": "+note+"; read as "+strconv.Quote(t))
	}
	if t == "" || t == p {
		lr.dropLink(hdr.Name, p, "hard link to "+strconv.Quote(hdr.Linkname)+", which is no file")
		return
	}
	perm := fs.FileMode(hdr.Mode) & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
	if e, ok := ld.entries[t]; ok {
		if e.kind == kindHardlink {
			// A link to a link to a lower layer: resolved with it.
			ld.put(p, &entry{kind: kindHardlink, mode: perm, modTime: hdr.ModTime, target: e.target})
			return
		}
		ld.put(p, linkedEntry(e, perm))
		return
	}
	if u, ok := lr.unread[pathHash(t)]; ok {
		ld.unkeptOther(p)
		switch {
		case !u.mode.IsRegular():
			// A directory, device or fifo of this layer: so is the
			// link, if anything.
			lr.notRegular(hdr.Name, p, "hard link to an entry that is no regular file")
		case opts.Want != nil && opts.Want(p, u.mode, u.size):
			lr.fetches = append(lr.fetches, fetch{ord: u.ord, path: p, mode: u.mode, size: u.size, modTime: hdr.ModTime})
			lr.remember(p, u) // a later link to this one reads the same entry
		default:
			lr.remember(p, u)
		}
		return
	}
	if _, ok := ld.whiteouts[t]; ok {
		lr.dropLink(hdr.Name, p, "hard link to "+strconv.Quote(t)+", which this layer removes")
		return
	}
	ld.put(p, &entry{kind: kindHardlink, mode: perm, modTime: hdr.ModTime, target: t})
}

// dropLink drops the hard link at p, which cannot be applied (why), with
// a warning.
func (lr *layerReader) dropLink(name, p, why string) {
	lr.opts.warn(lr.ld, name, why+"; dropped")
	lr.ld.unkeptOther(p)
	if lr.opts.Want != nil && lr.opts.Want(p, regularMode, 0) {
		lr.ld.cannotRead(p, why)
	}
}

// linkedEntry is what a hard link with permissions perm to e holds: e's
// contents and kind.
func linkedEntry(e *entry, perm fs.FileMode) *entry {
	f := *e
	if e.kind == kindFile {
		f.mode = perm
	}
	return &f
}

// notRegular warns when a cataloger would read a regular file at p, where
// the layer has something else (what), and records p as unreadable.
func (lr *layerReader) notRegular(name, p, what string) {
	if lr.opts.Want != nil && lr.opts.Want(p, regularMode, 0) {
		lr.opts.warn(lr.ld, name, what+" where a regular file is expected; not read")
		lr.ld.cannotRead(p, what+" where a regular file is expected")
	}
}

// fileMode is the mode of a regular file entry: its permission bits. The
// file type bits of the header's mode are ignored, as runtimes do: the type
// flag says what the entry is.
func fileMode(hdr *tar.Header) fs.FileMode {
	m := fs.FileMode(hdr.Mode) & fs.ModePerm
	if hdr.Mode&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if hdr.Mode&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if hdr.Mode&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	return m
}

func typeName(flag byte) string {
	switch flag {
	case tar.TypeChar:
		return "character device"
	case tar.TypeBlock:
		return "block device"
	case tar.TypeFifo:
		return "fifo"
	case tar.TypeCont:
		return "contiguous file"
	}
	return fmt.Sprintf("entry of type %q", flag)
}

// modeName names the file type of mode.
func modeName(mode fs.FileMode) string {
	switch {
	case mode&fs.ModeCharDevice != 0:
		return "character device"
	case mode&fs.ModeDevice != 0:
		return "block device"
	case mode&fs.ModeNamedPipe != 0:
		return "fifo"
	case mode&fs.ModeSocket != 0:
		return "socket"
	}
	return "file of type " + mode.Type().String()
}

// entryPath turns a tar entry name (or a hard link's target) into a path
// relative to the image root, without a leading slash; "" is the root.
// Names are read as containerd applies them: relative to the root even
// when absolute, with ".." never climbing above the root. note says how
// the name was unusual ("" for an ordinary name).
func entryPath(name string) (p, note string) {
	p = strings.TrimPrefix(path.Clean("/"+name), "/")
	switch {
	case escapes(strings.TrimLeft(name, "/")):
		note = "entry name climbs above the root"
	case strings.HasPrefix(name, "/"):
		note = "absolute entry name"
	case hasDotDot(name):
		note = `entry name holds ".."`
	}
	return p, note
}

func hasDotDot(name string) bool {
	for name != "" {
		var c string
		c, name, _ = strings.Cut(name, "/")
		if c == ".." {
			return true
		}
	}
	return false
}
