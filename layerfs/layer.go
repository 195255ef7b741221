package layerfs

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"
)

// kind is what a kept entry is.
type kind uint8

const (
	kindFile kind = iota
	kindSymlink
	kindHardlink
)

// entry is one kept filesystem object: a wanted regular file with its
// contents, or a link.
type entry struct {
	kind    kind
	mode    fs.FileMode
	size    int64 // size in the header (the original size of a condensed file)
	modTime time.Time
	data    []byte
	// target is the raw link target of a symlink, or the cleaned path a
	// hardlink refers to.
	target string
	// truncated is set when data holds only the first MaxFileSize
	// bytes of a larger file.
	truncated bool
}

// layerData is what one layer contributes: its kept entries, its whiteouts
// and a compact record of the paths it holds but did not keep, needed only
// to hide kept entries of lower layers that it replaces.
type layerData struct {
	name      string
	entries   map[string]*entry
	whiteouts map[string]struct{} // hide the path and everything below it
	opaque    map[string]struct{} // hide the lower children of these dirs
	// Hashes of paths present in the layer but not kept: directories hide
	// only a lower entry at the same path; other objects (unwanted files,
	// devices, skipped files) also hide everything below it.
	dirs, others []uint64
	warnings     []Warning
	// dropped counts the warnings beyond maxWarnings, not kept.
	dropped int
	// unreadable holds the paths a reader wants a regular file at (Want)
	// where the layer has something it cannot read — a device, a fifo, a
	// directory, a hard link to nothing, a file the walk was denied —
	// with what that is ("a fifo"); see Tree.Unreadable.
	unreadable map[string]string
	// truncated is set when the layer was read only in part (MaxLayerSize).
	truncated bool
}

// maxWarnings bounds the warnings kept for one layer: a hostile layer may
// hold millions of odd entries.
const maxWarnings = 100

// maxUnreadable bounds the unreadable paths recorded for one layer.
const maxUnreadable = 1 << 12

func newLayerData(name string) *layerData {
	return &layerData{
		name:       name,
		entries:    make(map[string]*entry),
		whiteouts:  make(map[string]struct{}),
		opaque:     make(map[string]struct{}),
		unreadable: make(map[string]string),
	}
}

// pathHash is the 64-bit hash by which unkept paths are remembered. It
// does not change between runs, so cached layer records can be merged
// with freshly read ones, and it is cryptographic, so a hostile layer
// cannot craft a path whose hash hides a chosen file of a lower layer.
func pathHash(p string) uint64 {
	sum := sha256.Sum256([]byte(p))
	return binary.LittleEndian.Uint64(sum[:8])
}

func (ld *layerData) put(p string, e *entry) { ld.entries[p] = e }

// unkeptDir records a directory entry at p.
func (ld *layerData) unkeptDir(p string) {
	delete(ld.entries, p) // a later entry replaces an earlier one
	ld.dirs = append(ld.dirs, pathHash(p))
}

// unkeptOther records a non-directory entry at p whose contents are not kept.
func (ld *layerData) unkeptOther(p string) {
	delete(ld.entries, p)
	ld.others = append(ld.others, pathHash(p))
}

// cannotRead records that p holds what (a noun phrase: "a fifo"), which
// a reader wanting a regular file at p cannot read.
func (ld *layerData) cannotRead(p, what string) {
	if _, ok := ld.unreadable[p]; ok || len(ld.unreadable) < maxUnreadable {
		ld.unreadable[p] = what
	}
}

// warn records a warning, unless the layer has too many already; it
// reports whether it did.
func (ld *layerData) warn(p, msg string) bool {
	if len(ld.warnings) >= maxWarnings {
		ld.dropped++
		return false
	}
	ld.warnings = append(ld.warnings, Warning{Layer: ld.name, Path: p, Msg: msg})
	return true
}

// finish sorts the hash lists and counts the warnings not kept.
func (ld *layerData) finish() {
	slices.Sort(ld.dirs)
	ld.dirs = slices.Compact(ld.dirs)
	slices.Sort(ld.others)
	ld.others = slices.Compact(ld.others)
	if ld.dropped > 0 {
		ld.warnings = append(ld.warnings, Warning{Layer: ld.name, Msg: fmt.Sprintf("%d more warnings about this layer not shown", ld.dropped)})
		ld.dropped = 0
	}
}

// hides reports whether this layer hides an entry at p of a lower layer,
// not counting a kept entry at p itself (a replacement).
func (ld *layerData) hides(p string) bool {
	if _, ok := ld.opaque[""]; ok {
		return true // the root is opaque
	}
	if _, ok := ld.whiteouts[p]; ok {
		return true
	}
	if has(ld.dirs, pathHash(p)) || has(ld.others, pathHash(p)) {
		return true
	}
	for a := p; ; {
		i := strings.LastIndexByte(a, '/')
		if i < 0 {
			return false
		}
		a = a[:i]
		if _, ok := ld.whiteouts[a]; ok {
			return true
		}
		if _, ok := ld.opaque[a]; ok {
			return true
		}
		if _, ok := ld.entries[a]; ok {
			return true // a file or link replaced a directory
		}
		if has(ld.others, pathHash(a)) {
			return true
		}
	}
}

func has(sorted []uint64, h uint64) bool {
	_, ok := slices.BinarySearch(sorted, h)
	return ok
}

// escapes reports whether a relative path climbs above its start.
func escapes(name string) bool {
	depth := 0
	for name != "" {
		var c string
		c, name, _ = strings.Cut(name, "/")
		switch c {
		case "", ".":
		case "..":
			depth--
			if depth < 0 {
				return true
			}
		default:
			depth++
		}
	}
	return false
}

// splitPath splits p into its directory ("" for the root) and base name.
func splitPath(p string) (dir, base string) {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return "", p
	}
	return p[:i], p[i+1:]
}

func joinPath(dir, base string) string {
	if dir == "" {
		return base
	}
	return dir + "/" + base
}
