package layerfs

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/vigil-scanner/vigil/internal/inflate"
)

// A layer is read once, before anyone knows which of its files symbolic
// and hard links of other layers lead to: a database reached only through
// a link (var/lib/dpkg a link to /opt/x, the status file a link to a file
// no cataloger wants by its name) is not kept on the first read. The tree
// remembers such files (Unread), and Fetch reads them from the layers that
// hold them, so that the tree shows what a container would see.

// maxMissed bounds the paths a tree remembers as missed.
const maxMissed = 1 << 12

// missed is the set of paths that readers of a tree's filesystems reached
// through symbolic links and found nothing kept at. It is shared by the
// tree's views, which may be read concurrently.
type missed struct {
	mu    sync.Mutex
	paths map[string]struct{}
}

func (m *missed) add(p string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.paths) < maxMissed {
		m.paths[p] = struct{}{}
	}
}

func (m *missed) list() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Sorted(maps.Keys(m.paths))
}

// source is where a tree's layers were read from.
type source struct {
	layers []v1.Layer // an image's layers, or nil
	ids    []layerID  // what the image says of them, or nil
	dir    string     // the directory ReadDir read, or ""
	opts   Options
}

// Unread returns, sorted, the files of the tree's last layer state that
// links lead to but whose contents were not kept: targets of symbolic
// links at paths a reader wants, targets in lower layers of wanted hard
// links, and files that readers of the tree's filesystems reached through
// symbolic links (directory links included) since the tree was built.
// Fetch reads them.
func (t *Tree) Unread() []string {
	var out []string
	for _, p := range append(slices.Clone(t.unread), t.missed.list()...) {
		if holder(t.layers, p) >= 0 {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Fetch returns a tree like t in which the files at paths (as Unread
// returns them) are kept as well, read again from the layers that hold
// them (each layer checked against its diff ID again). Paths that no layer
// holds unkept are ignored.
func (t *Tree) Fetch(ctx context.Context, paths []string) (*Tree, error) {
	if t.src == nil {
		return nil, fmt.Errorf("fetching %d files: the tree's layers cannot be read again", len(paths))
	}
	byLayer := map[int]map[string]bool{}
	for _, p := range paths {
		if j := holder(t.layers, p); j >= 0 {
			if byLayer[j] == nil {
				byLayer[j] = map[string]bool{}
			}
			byLayer[j][p] = true
		}
	}
	layers := slices.Clone(t.layers)
	opts := t.src.opts
	for _, j := range slices.Sorted(maps.Keys(byLayer)) {
		want := byLayer[j]
		fo := opts
		fo.Want = func(p string, _ os.FileMode, _ int64) bool { return want[p] }
		fo.Condense = nil
		fo.Logger = nil
		fo = fo.withDefaults()
		scratch := newLayerData(layers[j].name)
		var err error
		if t.src.dir != "" {
			err = fetchDir(t.src.dir, scratch, want, &fo)
		} else {
			var diffID v1.Hash
			if t.src.ids != nil {
				diffID = t.src.ids[j].diffID
			}
			_, err = streamInto(ctx, scratch, t.src.layers[j], diffID, &fo, inflate.Options{})
		}
		if err != nil {
			return nil, err
		}
		ld := layers[j].clone()
		for p := range want {
			if e, ok := scratch.entries[p]; ok && e.kind == kindFile {
				ld.entries[p] = e
			} else {
				ld.warn(p, "could not be read again for the links that lead to it")
			}
		}
		layers[j] = ld
	}
	nt := build(layers, &opts)
	nt.src = t.src
	return nt, nil
}

// fetchDir reads the files want names from the directory root into ld.
func fetchDir(root string, ld *layerData, want map[string]bool, opts *Options) error {
	r, err := os.OpenRoot(root)
	if err != nil {
		return err
	}
	defer r.Close()
	for _, p := range slices.Sorted(maps.Keys(want)) {
		info, err := r.Lstat(p)
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		if err := readDirFile(r, ld, p, info, opts); err != nil {
			ld.warn(p, err.Error())
		}
	}
	return nil
}

// clone returns a copy of ld whose entries and warnings can be added to.
func (ld *layerData) clone() *layerData {
	c := *ld
	c.entries = maps.Clone(ld.entries)
	c.warnings = slices.Clone(ld.warnings)
	return &c
}

// addUnread records a file that a link of the tree leads to but whose
// contents were not kept, as long as there is room.
func (t *Tree) addUnread(p string) {
	if len(t.unread) < maxMissed {
		t.unread = append(t.unread, p)
	}
}
