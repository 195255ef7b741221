package catalog

import (
	"io/fs"
	"maps"
	"path"
	"slices"
)

// skipTree is a Tree whose files for which skip returns true are left out:
// its filesystems do not hold them and their changes are not reported.
type skipTree struct {
	Tree
	skip func(path string) bool
}

func (t skipTree) FS() fs.FS      { return skipFS{t.Tree.FS(), t.skip} }
func (t skipTree) At(i int) fs.FS { return skipFS{t.Tree.At(i), t.skip} }
func (t skipTree) Changed(match func(path string, mode fs.FileMode, size int64) bool) []int {
	return t.Tree.Changed(func(p string, mode fs.FileMode, size int64) bool {
		return !t.skip(p) && match(p, mode, size)
	})
}

// History and Only are those of the tree, when it has them (see
// fileHistory), without the files left out.
func (t skipTree) History(path string) []int {
	fh, ok := t.Tree.(fileHistory)
	if !ok || t.skip(path) {
		return nil
	}
	return fh.History(path)
}

func (t skipTree) Only(i int, paths []string) (fs.FS, bool) {
	fh, ok := t.Tree.(fileHistory)
	if !ok {
		return nil, false
	}
	return fh.Only(i, slices.DeleteFunc(slices.Clone(paths), t.skip))
}

func (t skipTree) Unreadable() map[string]string {
	m := t.Tree.Unreadable()
	maps.DeleteFunc(m, func(p, _ string) bool { return t.skip(p) })
	return m
}

// skipFS is fsys without the entries for which skip returns true: they do
// not exist and directories do not list them. It keeps fsys's ReadFile,
// ReadDir, Stat and ReadLink (so symbolic links stay links).
type skipFS struct {
	fsys fs.FS
	skip func(path string) bool
}

var (
	_ fs.ReadFileFS = skipFS{}
	_ fs.ReadDirFS  = skipFS{}
	_ fs.StatFS     = skipFS{}
	_ fs.ReadLinkFS = skipFS{}
)

func (s skipFS) hidden(op, name string) error {
	if name != "." && s.skip(name) {
		return &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
	}
	return nil
}

func (s skipFS) Open(name string) (fs.File, error) {
	if err := s.hidden("open", name); err != nil {
		return nil, err
	}
	return s.fsys.Open(name)
}

func (s skipFS) ReadFile(name string) ([]byte, error) {
	if err := s.hidden("read", name); err != nil {
		return nil, err
	}
	return fs.ReadFile(s.fsys, name)
}

func (s skipFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if err := s.hidden("readdir", name); err != nil {
		return nil, err
	}
	des, err := fs.ReadDir(s.fsys, name)
	kept := des[:0]
	for _, d := range des {
		if !s.skip(path.Join(name, d.Name())) {
			kept = append(kept, d)
		}
	}
	return kept, err
}

func (s skipFS) Stat(name string) (fs.FileInfo, error) {
	if err := s.hidden("stat", name); err != nil {
		return nil, err
	}
	return fs.Stat(s.fsys, name)
}

func (s skipFS) ReadLink(name string) (string, error) {
	if err := s.hidden("readlink", name); err != nil {
		return "", err
	}
	return fs.ReadLink(s.fsys, name)
}

func (s skipFS) Lstat(name string) (fs.FileInfo, error) {
	if err := s.hidden("lstat", name); err != nil {
		return nil, err
	}
	return fs.Lstat(s.fsys, name)
}
