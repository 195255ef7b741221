package vulndb

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// A local database is a directory:
//
//	index.json       the Index: metadata, provenance and the parts
//	index.prev.json  the index before the last change (its parts are kept)
//	parts/<hex>.db   part files, named by content digest
//
// The index is the commit point: a build or an update writes every new part
// file first, then replaces index.json with an atomic rename, so a reader
// sees the old database or the new one, never a mix, and a process killed
// half-way leaves the old database as it was.

const (
	// IndexFileName is the index of a database directory.
	IndexFileName = "index.json"
	prevIndexName = "index.prev.json"
	// PartsDirName is the directory of part files.
	PartsDirName = "parts"
	// legacyFileName is the single-file database of schema 1.
	legacyFileName = "vigil.db"

	maxIndexSize = 64 << 20
)

// Index describes a local database: its metadata and provenance, and every
// part of the database version it holds, each either present on disk
// (Local) or known from the published manifest only.
type Index struct {
	SchemaVersion int      `json:"schemaVersion"`
	Metadata      Metadata `json:"metadata"`
	// CheckedAt is when a repository was last asked for a newer version.
	CheckedAt time.Time   `json:"checkedAt,omitzero"`
	Parts     []PartEntry `json:"parts"`
}

// PartEntry is one part of a database version.
type PartEntry struct {
	PartKey
	// Content is the part's content digest (see CheckPart).
	Content string `json:"content"`
	Records int    `json:"records,omitempty"`
	// Local says the part file is on disk, Size bytes long.
	Local bool  `json:"local"`
	Size  int64 `json:"size,omitempty"`
	// Blob is the part's published blob, when the version was pulled from
	// or pushed to a repository.
	Blob *Blob `json:"blob,omitempty"`
}

// Blob is a part as published in a repository.
type Blob struct {
	Digest string `json:"digest"`
	Size   int64  `json:"size"`
}

// Provenance kinds.
const (
	ProvenanceBuilt  = "built"
	ProvenancePulled = "pulled"
)

// Provenance says where a database came from: built here from the sources
// in Metadata.Sources (each with the base, upstream or mirror, it was read
// from), or pulled from Repository, manifest Manifest.
type Provenance struct {
	Kind       string    `json:"kind"`
	Repository string    `json:"repository,omitempty"`
	Manifest   string    `json:"manifest,omitempty"`
	At         time.Time `json:"at"`
}

// PartPath is where the part with content digest content lives in dir.
func PartPath(dir, content string) string {
	return filepath.Join(dir, PartsDirName, strings.TrimPrefix(content, "sha256:")+".db")
}

// PartFiles maps the content digest of each part file in the database
// directory dir to its size (whether or not the index lists it).
func PartFiles(dir string) map[string]int64 {
	out := map[string]int64{}
	entries, _ := os.ReadDir(filepath.Join(dir, PartsDirName))
	for _, e := range entries {
		hexd, ok := strings.CutSuffix(e.Name(), ".db")
		if !ok || len(hexd) != 64 || !e.Type().IsRegular() {
			continue
		}
		if fi, err := e.Info(); err == nil {
			out["sha256:"+hexd] = fi.Size()
		}
	}
	return out
}

// ErrNoDatabase reports a directory without a database.
var ErrNoDatabase = errors.New("vulndb: no database")

// ReadIndex reads and checks the index of the database in dir. It does
// not open the parts.
func ReadIndex(dir string) (*Index, error) {
	path := filepath.Join(dir, IndexFileName)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		if fi, serr := os.Stat(dir); serr == nil && fi.Mode().IsRegular() {
			return nil, fmt.Errorf("vulndb: %s is a file, not a database directory (a database of schema 1?): %w", dir, ErrSchema)
		}
		if _, serr := os.Stat(filepath.Join(dir, legacyFileName)); serr == nil {
			return nil, fmt.Errorf("vulndb: %s holds a single-file database of schema 1: %w (this vigil reads %d; run `vigil db update` or `vigil db build`)", dir, ErrSchema, SchemaVersion)
		}
		return nil, fmt.Errorf("%w at %s: %w", ErrNoDatabase, dir, err)
	}
	if err != nil {
		return nil, fmt.Errorf("vulndb: %w", err)
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxIndexSize+1))
	if err != nil {
		return nil, fmt.Errorf("vulndb: read %s: %w", path, err)
	}
	if len(raw) > maxIndexSize {
		return nil, fmt.Errorf("vulndb: %s: over %d bytes", path, maxIndexSize)
	}
	var idx Index
	if err := json.Unmarshal(raw, &idx); err != nil {
		return nil, fmt.Errorf("vulndb: %s: not a database index (truncated or corrupt?): %w", path, err)
	}
	if err := idx.check(); err != nil {
		return nil, fmt.Errorf("vulndb: %s: %w", path, err)
	}
	return &idx, nil
}

// check validates the index: schema, part keys, digests and that each
// group's shards are all there, once.
func (idx *Index) check() error {
	if idx.SchemaVersion != SchemaVersion {
		return fmt.Errorf("%w %d (this vigil reads %d)", ErrSchema, idx.SchemaVersion, SchemaVersion)
	}
	seen := map[PartKey]bool{}
	shards := map[string]int{}
	count := map[string]int{}
	for _, p := range idx.Parts {
		if err := p.PartKey.validate(); err != nil {
			return err
		}
		if !validDigest(p.Content) {
			return fmt.Errorf("part %s: invalid content digest %q", p.PartKey, p.Content)
		}
		if p.Blob != nil && !validDigest(p.Blob.Digest) {
			return fmt.Errorf("part %s: invalid blob digest %q", p.PartKey, p.Blob.Digest)
		}
		if seen[p.PartKey] {
			return fmt.Errorf("part %s listed twice", p.PartKey)
		}
		seen[p.PartKey] = true
		g := p.group()
		if n, ok := shards[g]; ok && n != p.Shards {
			return fmt.Errorf("part %s: shard counts %d and %d in one group", p.PartKey, n, p.Shards)
		}
		shards[g] = p.Shards
		count[g]++
	}
	for g, n := range shards {
		if count[g] != n {
			kind, eco, _ := strings.Cut(g, "\x00")
			return fmt.Errorf("%s %s: %d of %d shards listed", kind, eco, count[g], n)
		}
	}
	return nil
}

// Complete reports whether every part is on disk.
func (idx *Index) Complete() bool {
	return !slices.ContainsFunc(idx.Parts, func(p PartEntry) bool { return !p.Local })
}

// Ecosystems returns the ecosystems the index has parts for, sorted.
func (idx *Index) Ecosystems() []string {
	var out []string
	for _, p := range idx.Parts {
		if p.Kind == KindEcosystem && !slices.Contains(out, p.Ecosystem) {
			out = append(out, p.Ecosystem)
		}
	}
	slices.Sort(out)
	return out
}

// WriteIndex replaces the index of dir with idx atomically (a temporary
// file synced and renamed over index.json, then the directory synced).
// The index it replaces is kept as index.prev.json, so that the parts of
// the previous version stay on disk for a reader that opened it just
// before.
func WriteIndex(dir string, idx *Index) error {
	idx.SchemaVersion = SchemaVersion
	if err := idx.check(); err != nil {
		return fmt.Errorf("vulndb: write index: %w", err)
	}
	raw, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return fmt.Errorf("vulndb: write index: %w", err)
	}
	path := filepath.Join(dir, IndexFileName)
	if old, err := os.ReadFile(path); err == nil {
		if err := writeFileAtomic(filepath.Join(dir, prevIndexName), old); err != nil {
			return fmt.Errorf("vulndb: keep previous index: %w", err)
		}
	}
	if err := writeFileAtomic(path, append(raw, '\n')); err != nil {
		return fmt.Errorf("vulndb: write index: %w", err)
	}
	return nil
}

// writeFileAtomic writes data to a temporary file beside path, syncs it,
// renames it over path and syncs the directory.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, tempPrefix+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}

// tempPrefix starts the name of every temporary file vigil writes in a
// database directory; Sweep removes those left by a killed process.
const tempPrefix = ".tmp-"

// TempFile creates a temporary file in dir (or dir/parts) whose name Sweep
// recognises, locked against Sweep while it is open.
func TempFile(dir, pattern string) (*os.File, error) {
	f, err := os.CreateTemp(dir, tempPrefix+pattern)
	if err != nil {
		return nil, err
	}
	if err := lockExclusive(f); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return f, nil
}

// CheckIndex validates an index built elsewhere (from a manifest): schema,
// part keys, digests, and each group's shards listed once.
func CheckIndex(idx *Index) error { return idx.check() }

// Digest identifies the database content the index describes: the sha256
// of its parts' keys and content digests, in order. It changes when and
// only when a part's content does (not when the index records a check or
// a part being downloaded).
func (idx *Index) Digest() string {
	lines := make([]string, 0, len(idx.Parts))
	for _, p := range idx.Parts {
		lines = append(lines, fmt.Sprintf("%s\x00%s\x00%d\x00%d\x00%s", p.Kind, p.Ecosystem, p.Shard, p.Shards, p.Content))
	}
	slices.Sort(lines)
	h := sha256.New()
	fmt.Fprintf(h, "vigil-db-%d\n", idx.SchemaVersion)
	for _, l := range lines {
		h.Write([]byte(l))
		h.Write([]byte{'\n'})
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}
