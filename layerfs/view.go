package layerfs

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ErrSymlinkLoop is returned when resolving a path follows more than 40
// symbolic links.
var ErrSymlinkLoop = errors.New("too many levels of symbolic links")

// view is a read-only filesystem of kept entries, with the directories
// they imply. Absolute symlink targets resolve from its root, and ".."
// never climbs above it.
type view struct {
	entries map[string]*entry
	dirs    map[string][]string // directory ("" for the root) → sorted child names
	// mixed is set when some directory of dirs is also an entry (a file
	// or link that a later layer wrote below without replacing it): a
	// path's prefixes must then be checked one by one.
	mixed bool
	// missed records the paths reached through symbolic links that
	// hold nothing kept (see Tree.Unread); nil records nothing.
	missed *missed
}

var (
	_ fs.ReadFileFS = (*view)(nil)
	_ fs.ReadDirFS  = (*view)(nil)
	_ fs.StatFS     = (*view)(nil)
	_ fs.ReadLinkFS = (*view)(nil)
)

// resolve follows symlinks in name (in its last element too when
// followLast) and returns the resolved path, "" for the root.
func (v *view) resolve(op, name string, followLast bool) (string, error) {
	if !fs.ValidPath(name) {
		return "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	if name == "." {
		return "", nil
	}
	// Most paths hold no symbolic link, "." or "..": each prefix of name
	// is then a directory, which is checked without building its path.
	if p, ok := v.plain(name); ok {
		return p, nil
	}
	cur, rest, hops := "", name, 0
	for rest != "" {
		var c string
		c, rest, _ = strings.Cut(rest, "/")
		switch c {
		case "", ".":
			continue
		case "..":
			cur, _ = splitPath(cur)
			continue
		}
		next := joinPath(cur, c)
		e := v.entries[next]
		if e == nil {
			if _, ok := v.dirs[next]; !ok {
				nf := &notFound{path: path.Clean(joinPath(next, rest))}
				if hops > 0 && v.missed != nil {
					v.missed.add(nf.path)
				}
				return "", &fs.PathError{Op: op, Path: name, Err: nf}
			}
			cur = next
			continue
		}
		if e.kind == kindSymlink && (rest != "" || followLast) {
			if hops++; hops > maxSymlinks {
				return "", &fs.PathError{Op: op, Path: name, Err: &loopError{link: next}}
			}
			target := e.target
			if strings.HasPrefix(target, "/") {
				cur = "" // absolute targets start at the image root
			}
			if rest != "" {
				rest = target + "/" + rest
			} else {
				rest = target
			}
			continue
		}
		if rest != "" {
			// A file (or a link not followed) used as a directory.
			return "", &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
		}
		cur = next
	}
	return cur, nil
}

// plain returns name, a valid path other than ".", and true when every
// element of it but the last is a directory of v (no entry, and implied
// by the entries) and it has no "." or ".." element; resolve then returns
// name as it is. (The last element may be anything, or nothing: resolve
// looks at it with the slow path.)
func (v *view) plain(name string) (string, bool) {
	if !v.mixed {
		// Every prefix of an entry's path or of a directory is a
		// directory (dirs are what the entries imply), and no directory
		// is an entry.
		if e := v.entries[name]; e != nil {
			return name, e.kind != kindSymlink
		}
		_, ok := v.dirs[name]
		return name, ok
	}
	for i := 0; i < len(name); i++ {
		if name[i] != '/' {
			continue
		}
		dir := name[:i]
		if _, ok := v.dirs[dir]; !ok || v.entries[dir] != nil {
			return "", false
		}
	}
	last := name[strings.LastIndexByte(name, '/')+1:]
	if last == "." || last == ".." {
		return "", false
	}
	if e := v.entries[name]; e != nil && e.kind == kindSymlink {
		return "", false
	}
	if _, ok := v.dirs[name]; !ok && v.entries[name] == nil {
		return "", false // missing: the slow path makes the error
	}
	return name, true
}

// loopError is ErrSymlinkLoop naming the link at which resolution gave
// up, so that a reader's warning names the link.
type loopError struct{ link string }

func (e *loopError) Error() string        { return ErrSymlinkLoop.Error() + " at " + strconv.Quote(e.link) }
func (e *loopError) Is(target error) bool { return target == ErrSymlinkLoop }

// notFound is the error of a path that does not exist; path is where the
// resolution of symbolic links led.
type notFound struct{ path string }

func (e *notFound) Error() string        { return fs.ErrNotExist.Error() }
func (e *notFound) Is(target error) bool { return target == fs.ErrNotExist }

// lookup returns the entry at the resolved path p, or nil when p is a
// directory. (Hard links were resolved to their targets' contents when
// the layers were merged.)
func (v *view) lookup(op, name, p string) (*entry, error) {
	e := v.entries[p]
	if e == nil {
		if _, ok := v.dirs[p]; !ok {
			return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
		}
	}
	return e, nil
}

// Open opens the named file or directory, following symlinks.
func (v *view) Open(name string) (fs.File, error) {
	p, err := v.resolve("open", name, true)
	if err != nil {
		return nil, err
	}
	e, err := v.lookup("open", name, p)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return &openDir{info: dirInfo(name), v: v, path: p}, nil
	}
	f := &openFile{info: fileInfo(path.Base(name), e), truncated: e.truncated}
	f.Reset(e.data)
	return f, nil
}

// ReadFile returns the kept contents of the named file.
func (v *view) ReadFile(name string) ([]byte, error) {
	p, err := v.resolve("read", name, true)
	if err != nil {
		return nil, err
	}
	e, err := v.lookup("read", name, p)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: errors.New("is a directory")}
	}
	if e.truncated {
		return slices.Clone(e.data), &fs.PathError{Op: "read", Path: name, Err: io.ErrUnexpectedEOF}
	}
	return slices.Clone(e.data), nil
}

// ReadDir lists the named directory, sorted by name.
func (v *view) ReadDir(name string) ([]fs.DirEntry, error) {
	p, err := v.resolve("readdir", name, true)
	if err != nil {
		return nil, err
	}
	names, ok := v.dirs[p]
	if !ok {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
	}
	return v.dirEntries(p, names), nil
}

// dirEntries describes the entries names of the resolved directory dir:
// two allocations, whatever their number.
func (v *view) dirEntries(dir string, names []string) []fs.DirEntry {
	out := make([]fs.DirEntry, len(names))
	infos := make([]info, len(names))
	var buf []byte
	if dir != "" {
		buf = append(buf, dir...)
		buf = append(buf, '/')
	}
	n0 := len(buf)
	for i, n := range names {
		buf = append(buf[:n0], n...)
		if e := v.entries[string(buf)]; e != nil {
			infos[i] = fileInfo(n, e)
		} else {
			infos[i] = info{name: n, mode: fs.ModeDir | 0o755}
		}
		out[i] = &infos[i]
	}
	return out
}

// lstat describes the entry at the resolved path p without following it.
func (v *view) lstat(p, name string) info {
	e := v.entries[p]
	if e == nil {
		return dirInfo(name)
	}
	return fileInfo(name, e)
}

// Stat describes the named file, following symlinks.
func (v *view) Stat(name string) (fs.FileInfo, error) {
	p, err := v.resolve("stat", name, true)
	if err != nil {
		return nil, err
	}
	e, err := v.lookup("stat", name, p)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return dirInfo(path.Base(name)), nil
	}
	return fileInfo(path.Base(name), e), nil
}

// Lstat describes the named file without following a final symlink.
func (v *view) Lstat(name string) (fs.FileInfo, error) {
	p, err := v.resolve("lstat", name, false)
	if err != nil {
		return nil, err
	}
	return v.lstat(p, path.Base(name)), nil
}

// ReadLink returns the target of the named symlink as written.
func (v *view) ReadLink(name string) (string, error) {
	p, err := v.resolve("readlink", name, false)
	if err != nil {
		return "", err
	}
	e := v.entries[p]
	if e == nil || e.kind != kindSymlink {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	return e.target, nil
}

// info describes an entry; it is both an fs.FileInfo and an fs.DirEntry.
type info struct {
	name    string
	mode    fs.FileMode
	size    int64
	modTime time.Time
}

func fileInfo(name string, e *entry) info {
	size := int64(len(e.data))
	if e.kind == kindSymlink {
		size = int64(len(e.target))
	}
	return info{name: name, mode: e.mode, size: size, modTime: e.modTime}
}

func dirInfo(name string) info {
	return info{name: path.Base(name), mode: fs.ModeDir | 0o755}
}

func (i info) Name() string               { return i.name }
func (i info) Size() int64                { return i.size }
func (i info) Mode() fs.FileMode          { return i.mode }
func (i info) ModTime() time.Time         { return i.modTime }
func (i info) IsDir() bool                { return i.mode.IsDir() }
func (i info) Sys() any                   { return nil }
func (i info) Type() fs.FileMode          { return i.mode.Type() }
func (i info) Info() (fs.FileInfo, error) { return i, nil }
func (i info) String() string             { return fs.FormatFileInfo(i) }

// openFile is an open regular file: a bytes.Reader over its contents.
// The contents of a truncated file end with io.ErrUnexpectedEOF.
type openFile struct {
	bytes.Reader
	info      info
	truncated bool
}

func (f *openFile) Read(p []byte) (int, error) {
	n, err := f.Reader.Read(p)
	if err == io.EOF && f.truncated {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (f *openFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := f.Reader.ReadAt(p, off)
	if err == io.EOF && f.truncated {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (f *openFile) WriteTo(w io.Writer) (int64, error) {
	n, err := f.Reader.WriteTo(w)
	if err == nil && f.truncated {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (f *openFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *openFile) Close() error               { return nil }

// openDir is an open directory.
type openDir struct {
	info   info
	v      *view
	path   string
	offset int
}

func (d *openDir) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *openDir) Close() error               { return nil }
func (d *openDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.name, Err: errors.New("is a directory")}
}

func (d *openDir) ReadDir(n int) ([]fs.DirEntry, error) {
	names := d.v.dirs[d.path][d.offset:]
	if n > 0 && len(names) == 0 {
		return nil, io.EOF
	}
	if n > 0 && len(names) > n {
		names = names[:n]
	}
	d.offset += len(names)
	return d.v.dirEntries(d.path, names), nil
}
