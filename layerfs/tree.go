package layerfs

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strconv"
	"sync"
)

// Tree is the merged result of reading an image's layers: every kept
// entry with the layers that added, replaced or removed it.
type Tree struct {
	n int
	// history holds, per path, the versions in layer order; a nil entry
	// means the path was removed by that layer.
	history map[string][]version
	// changes holds, per layer, the kept paths it added, replaced or
	// removed.
	changes  [][]change
	warnings []Warning
	// unreadable holds the paths of the merged filesystem that hold
	// something a reader wanting a regular file there cannot read, with
	// what it is (see Unreadable).
	unreadable map[string]string

	// layers are what the tree was built from, and src where they came
	// from: Fetch reads from it again.
	layers []*layerData
	src    *source
	// unread are the files that links lead to but whose contents were
	// not kept; missed, those that readers reached through links.
	unread []string
	missed *missed
	// merged counts the warnings made while merging the layers.
	merged int

	once  sync.Once
	final *view
}

type version struct {
	layer int
	e     *entry
}

type change struct {
	path     string
	old, new *entry
}

// build merges the layers, base first. Hard links to files of lower
// layers are resolved here, to the file as it stood when the link's layer
// was applied (as a runtime applying the layers links to the file it
// has). opts.Want decides which odd links are worth a warning.
func build(layers []*layerData, opts *Options) *Tree {
	t := &Tree{
		n:          len(layers),
		history:    make(map[string][]version),
		changes:    make([][]change, len(layers)),
		unreadable: make(map[string]string),
		layers:     layers,
		missed:     &missed{paths: make(map[string]struct{})},
	}
	cur := make(map[string]*entry)
	for i, ld := range layers {
		for _, w := range ld.warnings {
			w.Index = i
			t.warnings = append(t.warnings, w)
		}
		for p := range t.unreadable {
			if _, replaced := ld.entries[p]; replaced || ld.hides(p) {
				delete(t.unreadable, p)
			}
		}
		maps.Copy(t.unreadable, ld.unreadable)
		var cs []change
		for p, e := range cur {
			if _, replaced := ld.entries[p]; replaced || !ld.hides(p) {
				continue
			}
			delete(cur, p)
			cs = append(cs, change{path: p, old: e})
			t.history[p] = append(t.history[p], version{layer: i})
		}
		links := t.resolveLinks(layers[:i], ld, cur, opts)
		for p, e := range ld.entries {
			if e.kind == kindHardlink {
				e = links[p]
			}
			if e == nil {
				if old, ok := cur[p]; ok {
					delete(cur, p)
					cs = append(cs, change{path: p, old: old})
					t.history[p] = append(t.history[p], version{layer: i})
				}
				continue
			}
			cs = append(cs, change{path: p, old: cur[p], new: e})
			cur[p] = e
			t.history[p] = append(t.history[p], version{layer: i, e: e})
		}
		t.changes[i] = cs
	}
	t.checkSymlinks(layers, opts)
	if more := t.merged - maxWarnings; more > 0 {
		t.warnings = append(t.warnings, Warning{Layer: layers[len(layers)-1].name, Index: len(layers) - 1,
			Msg: fmt.Sprintf("%d more warnings about links not shown", more)})
	}
	return t
}

// resolveLinks resolves the hard links of ld to files of lower layers,
// which cur holds as they stand below ld. A link whose target is not kept
// resolves to nil: it is dropped, with a warning when its target does not
// exist, or when a cataloger would have read the link.
func (t *Tree) resolveLinks(lower []*layerData, ld *layerData, cur map[string]*entry, opts *Options) map[string]*entry {
	var links map[string]*entry
	var paths []string
	for p, e := range ld.entries {
		if e.kind == kindHardlink {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths) // warnings in a stable order
	for _, p := range paths {
		e := ld.entries[p]
		if links == nil {
			links = make(map[string]*entry)
		}
		if te := cur[e.target]; te != nil {
			links[p] = linkedEntry(te, e.mode)
			continue
		}
		switch {
		case !existsUnkept(lower, e.target):
			why := "hard link to " + strconv.Quote(e.target) + ", which no lower layer holds"
			t.warn(len(lower), ld, p, why+"; dropped")
			if opts.Want != nil && opts.Want(p, regularMode, 0) && len(t.unreadable) < maxUnreadable {
				t.unreadable[p] = why
			}
		case opts.Want != nil && opts.Want(p, e.mode, 0):
			t.warn(len(lower), ld, p, "hard link to "+strconv.Quote(e.target)+" of a lower layer, whose contents were not read; dropped")
			t.addUnread(e.target)
		}
		links[p] = nil
	}
	return links
}

// warn records a warning about path p of layer i (ld).
// warn records a warning made while merging the layers; past
// maxWarnings of them, only a count is kept.
func (t *Tree) warn(i int, ld *layerData, p, msg string) {
	if t.merged++; t.merged <= maxWarnings {
		t.warnings = append(t.warnings, Warning{Layer: ld.name, Index: i, Path: p, Msg: msg})
	}
}

// existsUnkept reports whether the top of layers holds an entry at p that
// is not a directory and whose contents were not kept.
func existsUnkept(layers []*layerData, p string) bool { return holder(layers, p) >= 0 }

// holder returns the index of the layer whose unkept entry at p is the
// one on top of layers (not a directory), or -1 when there is none.
func holder(layers []*layerData, p string) int {
	h := pathHash(p)
	for j := len(layers) - 1; j >= 0; j-- {
		ld := layers[j]
		if _, ok := ld.entries[p]; ok {
			return -1
		}
		if has(ld.others, h) {
			return j
		}
		if ld.hides(p) {
			return -1
		}
	}
	return -1
}

// checkSymlinks warns about the symbolic links of the final tree at paths
// where a cataloger expects a regular file, when they loop or lead to a
// file whose contents were not kept (a link the walk could not follow,
// since layers are read before their links are known).
func (t *Tree) checkSymlinks(layers []*layerData, opts *Options) {
	if opts.Want == nil || t.n == 0 {
		return
	}
	var paths []string
	for p, vs := range t.history {
		if e := vs[len(vs)-1].e; e != nil && e.kind == kindSymlink && opts.Want(p, regularMode, 0) {
			paths = append(paths, p)
		}
	}
	if len(paths) == 0 {
		return
	}
	slices.Sort(paths)
	v := t.FS().(*view)
	for _, p := range paths {
		vs := t.history[p]
		i := vs[len(vs)-1].layer
		ld := layers[i]
		_, err := v.resolve("open", p, true)
		var nf *notFound
		switch {
		case errors.Is(err, ErrSymlinkLoop):
			t.warn(i, ld, p, "symbolic link loop, or a chain of more than 40 links; not followed")
		case errors.As(err, &nf) && existsUnkept(layers, nf.path):
			t.warn(i, ld, p, "symbolic link to "+strconv.Quote(nf.path)+", a file whose contents were not read")
			t.addUnread(nf.path)
		}
	}
}

// Len returns the number of layers.
func (t *Tree) Len() int { return t.n }

// Warnings returns the problems met while reading, in layer order, then
// one for each file that a reader of the tree's filesystems reached
// through a symbolic link but whose contents were not kept (see Unread).
func (t *Tree) Warnings() []Warning {
	ws := slices.Clone(t.warnings)
	for _, p := range t.missed.list() {
		if j := holder(t.layers, p); j >= 0 && !slices.Contains(t.unread, p) {
			ws = append(ws, Warning{Layer: t.layers[j].name, Index: j, Path: p, Msg: "reached through a symbolic link, but its contents were not read"})
		}
	}
	return ws
}

// Unreadable returns the paths of the merged filesystem where a reader
// wants a regular file (Options.Want) but the tree holds something it
// could not read, each with what that is: a device, fifo or socket, a
// directory, a hard link that cannot be applied, a file or directory
// ReadDir could not read ("open …: permission denied"). The filesystems
// of the tree show nothing at these paths (or a directory); Unreadable
// tells a reader that finds nothing there that something does exist.
// Files that symbolic and hard links lead to but that were not kept are
// not listed: the walk did not know they were wanted; Unread lists them,
// and Fetch reads them.
func (t *Tree) Unreadable() map[string]string { return maps.Clone(t.unreadable) }

// LayerOf returns the layer, as an index base first, that holds the entry
// at path in the merged filesystem, and false when there is no entry at
// path (an implied directory or a missing file). path is not resolved:
// for a symbolic link it is the link's layer.
func (t *Tree) LayerOf(path string) (int, bool) {
	vs := t.history[path]
	if len(vs) == 0 || vs[len(vs)-1].e == nil {
		return 0, false
	}
	return vs[len(vs)-1].layer, true
}

// History returns, in increasing order, the layers (as indexes, base
// first) that added, replaced or removed the kept entry at path, whether
// by an entry at path itself or by a change above it (a whiteout, an
// opaque directory, a file in place of a directory).
func (t *Tree) History(path string) []int {
	vs := t.history[path]
	layers := make([]int, len(vs))
	for i, v := range vs {
		layers[i] = v.layer
	}
	return layers
}

// Only returns the filesystem as it stood after layer i, holding only the
// kept entries at paths and the directories that lead to them: nil when
// none of them was there, and false when one of them was a symbolic link
// (which At(i) would follow to other entries).
func (t *Tree) Only(i int, paths []string) (fs.FS, bool) {
	var v *view
	for _, p := range paths {
		var e *entry
		for _, ver := range t.history[p] {
			if ver.layer > i {
				break
			}
			e = ver.e
		}
		if e == nil {
			continue
		}
		if e.kind == kindSymlink {
			return nil, false
		}
		if v == nil {
			v = &view{entries: make(map[string]*entry)}
		}
		v.entries[p] = e
	}
	if v == nil {
		return nil, true
	}
	v.index()
	return v, true
}

// FS returns the merged filesystem of all layers. It is read-only and safe
// for concurrent use; it implements fs.ReadFileFS, fs.ReadDirFS,
// fs.StatFS and fs.ReadLinkFS.
func (t *Tree) FS() fs.FS {
	t.once.Do(func() { t.final = t.view(t.n - 1) })
	return t.final
}

// At returns the filesystem as it stood after layer i (layers 0..i
// applied). At(Len()-1) is FS(); At(-1) is empty.
func (t *Tree) At(i int) fs.FS {
	if i >= t.n-1 {
		return t.FS()
	}
	return t.view(i)
}

// Changed returns, in increasing order, the layers that added, replaced or
// removed a kept entry for which match returns true. match is called with
// the entry's path, mode and size (for a removal, those of the removed
// entry).
func (t *Tree) Changed(match func(path string, mode fs.FileMode, size int64) bool) []int {
	var layers []int
	for i, cs := range t.changes {
		for _, c := range cs {
			if (c.new != nil && match(c.path, c.new.mode, c.new.size)) ||
				(c.old != nil && match(c.path, c.old.mode, c.old.size)) {
				layers = append(layers, i)
				break
			}
		}
	}
	return layers
}

// view builds the filesystem after layer i.
func (t *Tree) view(i int) *view {
	v := &view{entries: make(map[string]*entry), missed: t.missed}
	for p, vs := range t.history {
		var e *entry
		for _, ver := range vs {
			if ver.layer > i {
				break
			}
			e = ver.e
		}
		if e != nil {
			v.entries[p] = e
		}
	}
	v.index()
	return v
}

// index lists in v.dirs the directories that v.entries imply.
func (v *view) index() {
	v.dirs = map[string][]string{"": nil}
	for p := range v.entries {
		for {
			dir, base := splitPath(p)
			_, existed := v.dirs[dir]
			v.dirs[dir] = append(v.dirs[dir], base)
			if existed {
				break
			}
			p = dir
		}
	}
	for d, names := range v.dirs {
		slices.Sort(names)
		v.dirs[d] = slices.Compact(names)
		if v.entries[d] != nil {
			v.mixed = true
		}
	}
}
