package layerfs

import (
	"io/fs"
	"slices"
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

// build merges the layers, base first.
func build(layers []*layerData) *Tree {
	t := &Tree{
		n:       len(layers),
		history: make(map[string][]version),
		changes: make([][]change, len(layers)),
	}
	cur := make(map[string]*entry)
	for i, ld := range layers {
		for _, w := range ld.warnings {
			w.Index = i
			t.warnings = append(t.warnings, w)
		}
		var cs []change
		for p, e := range cur {
			if _, replaced := ld.entries[p]; replaced || !ld.hides(p) {
				continue
			}
			delete(cur, p)
			cs = append(cs, change{path: p, old: e})
			t.history[p] = append(t.history[p], version{layer: i})
		}
		for p, e := range ld.entries {
			cs = append(cs, change{path: p, old: cur[p], new: e})
			cur[p] = e
			t.history[p] = append(t.history[p], version{layer: i, e: e})
		}
		t.changes[i] = cs
	}
	return t
}

// Len returns the number of layers.
func (t *Tree) Len() int { return t.n }

// Warnings returns the problems met while reading, in layer order.
func (t *Tree) Warnings() []Warning { return slices.Clone(t.warnings) }

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
	v := &view{entries: make(map[string]*entry), dirs: map[string][]string{"": nil}}
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
	}
	return v
}
