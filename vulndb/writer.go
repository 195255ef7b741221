package vulndb

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// Staging buckets. While sources run, every record is stored on its own
// under a key that sorts it next to the records it will be grouped with, so
// merging is a read-modify-write of one small value and nothing is held in
// memory. Commit then walks the staging buckets in key order and writes the
// parts (part.go).
var (
	stageAffected = []byte("a") // eco\0pkg\0id\0source → JSON Affected
	stageVulns    = []byte("v") // id\0source → JSON Vulnerability (that source's)
	stageForward  = []byte("f") // id\0alias → nil: the aliases id's record names
)

// commitEvery bounds the writes batched in one transaction.
const commitEvery = 5000

// Writer builds a database. It implements Sink and is safe for concurrent
// use by several sources. Records go to a staging file in the database
// directory; Commit writes the parts, then replaces the index with an
// atomic rename, so a failed, abandoned or killed build leaves an existing
// database untouched.
//
// Records are merged deterministically: several records of one source for
// one id (or one id, package and ecosystem) merge in the order they were
// put; the records of different sources merge in source-name order, so
// the result does not depend on which source finished first.
type Writer struct {
	dir         string
	stagingPath string

	mu      sync.Mutex
	staging *bolt.DB
	tx      *bolt.Tx
	ops     int
	err     error // first write error; later puts return it
}

// NewWriter starts a build of the database in the directory dir.
func NewWriter(dir string) (*Writer, error) {
	if err := os.MkdirAll(filepath.Join(dir, PartsDirName), 0o755); err != nil {
		return nil, fmt.Errorf("vulndb: %w", err)
	}
	Sweep(dir)
	f, err := os.CreateTemp(dir, tempPrefix+"staging-*")
	if err != nil {
		return nil, fmt.Errorf("vulndb: create staging file: %w", err)
	}
	f.Close()
	w := &Writer{dir: dir, stagingPath: f.Name()}
	w.staging, err = openWrite(w.stagingPath)
	if err != nil {
		os.Remove(w.stagingPath)
		return nil, fmt.Errorf("vulndb: open staging file %s: %w", w.stagingPath, err)
	}
	return w, nil
}

// PutAffected stores a, merging it with an earlier record for the same
// (id, source, ecosystem, package).
func (w *Writer) PutAffected(ctx context.Context, a Affected) error {
	if err := a.Validate(); err != nil {
		return err
	}
	key := joinKey(a.Ecosystem, a.Package, a.VulnID, a.Source)
	return w.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(stageAffected)
		if old := b.Get(key); old != nil {
			var prev Affected
			if err := json.Unmarshal(old, &prev); err != nil {
				return err
			}
			a = mergeAffected(prev, a)
		}
		raw, err := json.Marshal(a)
		if err != nil {
			return err
		}
		return b.Put(key, raw)
	})
}

// PutVulnerability stores v, merging it with earlier records of the same
// source for v.ID. The source is the one Build loads; for a Writer used
// directly, v.Sources[0].
func (w *Writer) PutVulnerability(ctx context.Context, v Vulnerability) error {
	source := ""
	if len(v.Sources) > 0 {
		source = v.Sources[0]
	}
	return w.putVulnerability(ctx, source, v)
}

func (w *Writer) putVulnerability(ctx context.Context, source string, v Vulnerability) error {
	if err := v.Validate(); err != nil {
		return err
	}
	if strings.IndexByte(source, 0) >= 0 {
		return fmt.Errorf("vulndb: source name %q contains a NUL byte", source)
	}
	key := joinKey(v.ID, source)
	return w.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(stageVulns)
		if old := b.Get(key); old != nil {
			var prev Vulnerability
			if err := json.Unmarshal(old, &prev); err != nil {
				return err
			}
			v = mergeVulnerability(prev, v)
		}
		raw, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if err := b.Put(key, raw); err != nil {
			return err
		}
		fw := tx.Bucket(stageForward)
		for _, a := range v.Aliases {
			if a != v.ID && a != "" && bytes.IndexByte([]byte(a), 0) < 0 {
				if err := fw.Put(joinKey(v.ID, a), nil); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

func (w *Writer) update(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	if w.tx == nil {
		tx, err := w.staging.Begin(true)
		if err != nil {
			w.err = fmt.Errorf("vulndb: staging %s: %w", w.stagingPath, err)
			return w.err
		}
		for _, name := range [][]byte{stageAffected, stageVulns, stageForward} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				tx.Rollback()
				w.err = fmt.Errorf("vulndb: staging %s: %w", w.stagingPath, err)
				return w.err
			}
		}
		w.tx = tx
	}
	if err := fn(w.tx); err != nil {
		w.tx.Rollback()
		w.tx = nil
		w.err = fmt.Errorf("vulndb: staging %s: %w", w.stagingPath, err)
		return w.err
	}
	w.ops++
	if w.ops%commitEvery == 0 {
		return w.commitStaging()
	}
	return nil
}

// commitStaging commits the open staging transaction; w.mu is held.
func (w *Writer) commitStaging() error {
	if w.tx == nil {
		return nil
	}
	err := w.tx.Commit()
	w.tx = nil
	if err != nil {
		w.err = fmt.Errorf("vulndb: staging %s: %w", w.stagingPath, err)
	}
	return w.err
}

// Abort discards the build; the database is not touched.
func (w *Writer) Abort() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.tx != nil {
		w.tx.Rollback()
		w.tx = nil
	}
	if w.err == nil {
		w.err = errors.New("vulndb: build aborted")
	}
	return w.closeStaging()
}

func (w *Writer) closeStaging() error {
	if w.staging == nil {
		return nil
	}
	err := w.staging.Close()
	w.staging = nil
	if rerr := os.Remove(w.stagingPath); err == nil && rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
		err = rerr
	}
	return err
}

// Commit writes the database's parts and then its index, with meta (its
// SchemaVersion is set here; a nil Provenance becomes "built now"). The
// Writer cannot be used after.
func (w *Writer) Commit(ctx context.Context, meta Metadata) (err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	defer func() {
		if cerr := w.closeStaging(); err == nil && cerr != nil {
			err = fmt.Errorf("vulndb: close staging %s: %w", w.stagingPath, cerr)
		}
	}()
	if err := w.commitStaging(); err != nil {
		return err
	}
	if w.err != nil {
		return w.err
	}
	meta.SchemaVersion = SchemaVersion
	if meta.Provenance == nil {
		meta.Provenance = &Provenance{Kind: ProvenanceBuilt, At: meta.BuiltAt}
	}
	parts, err := w.writeParts(ctx)
	if err != nil {
		return fmt.Errorf("vulndb: write %s: %w", w.dir, err)
	}
	idx := &Index{SchemaVersion: SchemaVersion, Metadata: meta, Parts: parts}
	if err := WriteIndex(w.dir, idx); err != nil {
		return err
	}
	Sweep(w.dir)
	return nil
}

// Shard sizing: a group is split so that each part stays near
// targetPartBytes compressed (estimated as its JSON over compressionRatio);
// the previous index's count is kept while it stays within a factor of
// two, so that the count, which names the parts, rarely changes.
const (
	targetPartBytes  = 8 << 20
	compressionRatio = 5
)

func shardsFor(estBytes int64, prev int) int {
	if prev > 0 {
		per := estBytes / int64(prev)
		if per <= 2*targetPartBytes && (per >= targetPartBytes/4 || prev == 1) {
			return prev
		}
	}
	n := 1
	for n < maxShards && estBytes/int64(n) > targetPartBytes {
		n *= 2
	}
	return n
}

// partSet is the part writers of one group.
type partSet struct {
	w   *Writer
	ws  []*partWriter
	tmp []string
}

func (w *Writer) newPartSet(kind, eco string, shards int) (*partSet, error) {
	ps := &partSet{w: w}
	for i := range shards {
		f, err := os.CreateTemp(filepath.Join(w.dir, PartsDirName), tempPrefix+"part-*")
		if err != nil {
			ps.abort()
			return nil, err
		}
		f.Close()
		pw, err := createPart(f.Name(), PartKey{Kind: kind, Ecosystem: eco, Shard: i, Shards: shards}, true)
		if err != nil {
			os.Remove(f.Name())
			ps.abort()
			return nil, err
		}
		ps.ws = append(ps.ws, pw)
		ps.tmp = append(ps.tmp, f.Name())
	}
	return ps, nil
}

// put writes bucket/key into the shard key routes to.
func (ps *partSet) put(bucket []byte, key string, v []byte) error {
	return ps.ws[shardOf(key, len(ps.ws))].put(bucket, []byte(key), v)
}

// putLists writes each list of m under its key, in key order.
func (ps *partSet) putLists(bucket []byte, m map[string][]string) error {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		raw, err := json.Marshal(m[k])
		if err != nil {
			return err
		}
		if err := ps.put(bucket, k, raw); err != nil {
			return err
		}
	}
	return nil
}

func (ps *partSet) abort() {
	for _, pw := range ps.ws {
		pw.abort()
	}
}

// finish closes the writers, checks each file, and moves it to its
// content-addressed name.
func (ps *partSet) finish() ([]PartEntry, error) {
	var errs []error
	for _, pw := range ps.ws {
		errs = append(errs, pw.close())
	}
	if err := errors.Join(errs...); err != nil {
		ps.abort()
		return nil, err
	}
	var out []PartEntry
	for _, tmp := range ps.tmp {
		e, err := InstallPart(ps.w.dir, tmp)
		if err != nil {
			for _, t := range ps.tmp {
				os.Remove(t)
			}
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// InstallPart checks the part file at tmp (CheckPart) and moves it into
// dir's parts under its content digest, synced. When a file with that
// content is already there, tmp is removed and the existing file kept.
func InstallPart(dir, tmp string) (PartEntry, error) {
	pf, err := CheckPart(tmp)
	if err != nil {
		os.Remove(tmp)
		return PartEntry{}, err
	}
	dst := PartPath(dir, pf.Content)
	e := PartEntry{PartKey: pf.Key, Content: pf.Content, Records: pf.Records, Local: true}
	if size, err := statRegular(dst); err == nil {
		if existing, err := CheckPart(dst); err == nil && existing.Content == pf.Content {
			os.Remove(tmp)
			e.Size = size
			return e, nil
		}
	}
	if err := syncFile(tmp); err != nil {
		os.Remove(tmp)
		return PartEntry{}, err
	}
	if err := os.Chmod(tmp, 0o444); err != nil {
		os.Remove(tmp)
		return PartEntry{}, err
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return PartEntry{}, err
	}
	if err := syncDir(filepath.Dir(dst)); err != nil {
		return PartEntry{}, err
	}
	e.Size = pf.Size
	return e, nil
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeParts writes every part from the staging file and returns their
// index entries.
func (w *Writer) writeParts(ctx context.Context) ([]PartEntry, error) {
	prevShards := map[string]int{}
	if old, err := ReadIndex(w.dir); err == nil {
		for _, p := range old.Parts {
			prevShards[p.group()] = p.Shards
		}
	}
	// merged holds each id's record merged across sources, without EPSS
	// and KEV: ecosystem parts copy it from there.
	mf, err := os.CreateTemp(w.dir, tempPrefix+"merged-*")
	if err != nil {
		return nil, err
	}
	mf.Close()
	defer os.Remove(mf.Name())
	merged, err := openWrite(mf.Name())
	if err != nil {
		return nil, err
	}
	defer merged.Close()
	if err := merged.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketVulns)
		return err
	}); err != nil {
		return nil, err
	}

	var entries []PartEntry
	err = w.staging.View(func(stx *bolt.Tx) error {
		if stx.Bucket(stageAffected) == nil { // nothing was put
			return writeEmpty(w, &entries)
		}
		b := &builder{w: w, ctx: ctx, stx: stx, merged: merged, prevShards: prevShards, referenced: map[string]bool{}}
		if err := b.mergeVulns(); err != nil {
			return err
		}
		if err := b.ecosystems(); err != nil {
			return err
		}
		if err := b.extra(); err != nil {
			return err
		}
		entries = b.entries
		return nil
	})
	if err != nil {
		return nil, err
	}
	return entries, nil
}

// writeEmpty writes the parts of a database without records.
func writeEmpty(w *Writer, entries *[]PartEntry) error {
	for _, kind := range []string{KindEPSS, KindKEV, KindExtra} {
		ps, err := w.newPartSet(kind, "", 1)
		if err != nil {
			return err
		}
		es, err := ps.finish()
		if err != nil {
			return err
		}
		*entries = append(*entries, es...)
	}
	return nil
}

// builder turns the staging file into parts.
type builder struct {
	w          *Writer
	ctx        context.Context
	stx        *bolt.Tx
	merged     *bolt.DB
	prevShards map[string]int
	referenced map[string]bool // ids some ecosystem part holds
	entries    []PartEntry
}

func (b *builder) shards(kind, eco string, est int64) int {
	return shardsFor(est, b.prevShards[PartKey{Kind: kind, Ecosystem: eco}.group()])
}

// mergeVulns merges each id's per-source records (in source-name order,
// the order of the staging keys), writes EPSS and KEV to their parts and
// the rest to the merged file.
func (b *builder) mergeVulns() error {
	vb := b.stx.Bucket(stageVulns)
	// Size the EPSS and KEV groups first.
	var epssBytes, kevBytes int64
	c := vb.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if _, src, _ := bytes.Cut(k, []byte{0}); string(src) == "epss" {
			epssBytes += int64(len(v))
		} else if string(src) == "kev" {
			kevBytes += int64(len(v))
		}
	}
	epss, err := b.w.newPartSet(KindEPSS, "", b.shards(KindEPSS, "", epssBytes/compressionRatio))
	if err != nil {
		return err
	}
	defer epss.abort()
	kev, err := b.w.newPartSet(KindKEV, "", b.shards(KindKEV, "", kevBytes/compressionRatio))
	if err != nil {
		return err
	}
	defer kev.abort()
	mw := &batchWriter{db: b.merged}
	var (
		cur   []byte
		rec   Vulnerability
		count int
	)
	flush := func() error {
		if count == 0 {
			return nil
		}
		id := string(cur)
		if rec.EPSS != nil {
			raw, err := json.Marshal(rec.EPSS)
			if err != nil {
				return err
			}
			if err := epss.put(bucketEPSS, id, raw); err != nil {
				return err
			}
		}
		if rec.KEV != nil {
			raw, err := json.Marshal(rec.KEV)
			if err != nil {
				return err
			}
			if err := kev.put(bucketKEV, id, raw); err != nil {
				return err
			}
		}
		rec.EPSS, rec.KEV = nil, nil
		raw, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		count = 0
		return mw.put(b.ctx, bucketVulns, cur, raw)
	}
	for k, v := c.First(); k != nil; k, v = c.Next() {
		id, _, ok := bytes.Cut(k, []byte{0})
		if !ok {
			return fmt.Errorf("malformed staging key %q", k)
		}
		if count == 0 || !bytes.Equal(id, cur) {
			if err := flush(); err != nil {
				mw.abort()
				return err
			}
			cur = bytes.Clone(id)
			rec = Vulnerability{}
		}
		var one Vulnerability
		if err := json.Unmarshal(v, &one); err != nil {
			mw.abort()
			return fmt.Errorf("staged record %q: %w", k, err)
		}
		if count == 0 {
			rec = one
		} else {
			rec = mergeVulnerability(rec, one)
		}
		count++
	}
	if err := flush(); err != nil {
		mw.abort()
		return err
	}
	if err := mw.commit(); err != nil {
		return err
	}
	for _, ps := range []*partSet{epss, kev} {
		es, err := ps.finish()
		if err != nil {
			return err
		}
		b.entries = append(b.entries, es...)
	}
	return nil
}

// forward returns the aliases id's record names.
func (b *builder) forward(id string) []string {
	var out []string
	prefix := append([]byte(id), 0)
	c := b.stx.Bucket(stageForward).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		out = append(out, string(k[len(prefix):]))
	}
	return out
}

// ecosystems writes the parts of each ecosystem.
func (b *builder) ecosystems() error {
	c := b.stx.Bucket(stageAffected).Cursor()
	k, _ := c.First()
	for k != nil {
		eco, _, ok := bytes.Cut(k, []byte{0})
		if !ok {
			return fmt.Errorf("malformed staging key %q", k)
		}
		if err := b.ctx.Err(); err != nil {
			return err
		}
		if err := b.ecosystem(string(eco)); err != nil {
			return fmt.Errorf("ecosystem %s: %w", eco, err)
		}
		// Next ecosystem: the first key past "eco\x01".
		k, _ = c.Seek(append(bytes.Clone(eco), 1))
	}
	return nil
}

// ecosystem writes the parts of one ecosystem: its affected records by
// package, and the closure of its ids — each id, the aliases its record
// names, and theirs (two hops: what the matcher reads to describe a
// finding) — with their alias and package indexes.
func (b *builder) ecosystem(eco string) error {
	prefix := append([]byte(eco), 0)
	ab := b.stx.Bucket(stageAffected)
	var (
		affBytes int64
		pkgsOf   = map[string][]string{} // id → "eco\0pkg" keys
		lastPkg  = map[string]string{}
	)
	c := ab.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		parts := bytes.SplitN(k[len(prefix):], []byte{0}, 3)
		if len(parts) != 3 {
			return fmt.Errorf("malformed staging key %q", k)
		}
		pkg, id := string(parts[0]), string(parts[1])
		affBytes += int64(len(v))
		if lastPkg[id] != pkg {
			pkgsOf[id] = append(pkgsOf[id], eco+"\x00"+pkg)
			lastPkg[id] = pkg
		}
	}
	closure := map[string]bool{}
	frontier := slices.Collect(maps.Keys(pkgsOf))
	for hop := 0; hop <= 2; hop++ {
		var next []string
		for _, id := range frontier {
			if closure[id] {
				continue
			}
			closure[id] = true
			if hop < 2 {
				next = append(next, b.forward(id)...)
			}
		}
		frontier = next
	}
	ids := slices.Sorted(maps.Keys(closure))
	var vulnBytes int64
	mtx, err := b.merged.Begin(false)
	if err != nil {
		return err
	}
	defer mtx.Rollback()
	mb := mtx.Bucket(bucketVulns)
	for _, id := range ids {
		vulnBytes += int64(len(mb.Get([]byte(id))))
	}
	ps, err := b.w.newPartSet(KindEcosystem, eco, b.shards(KindEcosystem, eco, (affBytes+vulnBytes)/compressionRatio))
	if err != nil {
		return err
	}
	defer ps.abort()

	// Affected, grouped by package.
	var (
		curPkg string
		group  []json.RawMessage
	)
	flush := func() error {
		if len(group) == 0 {
			return nil
		}
		raw, err := json.Marshal(group)
		if err != nil {
			return err
		}
		group = group[:0]
		return ps.put(bucketAffected, curPkg, raw)
	}
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		pkg, _, _ := bytes.Cut(k[len(prefix):], []byte{0})
		if string(pkg) != curPkg {
			if err := flush(); err != nil {
				return err
			}
			curPkg = string(pkg)
		}
		group = append(group, json.RawMessage(bytes.Clone(v)))
	}
	if err := flush(); err != nil {
		return err
	}

	// Aliases named by the closure's records; package index; records.
	aliases := map[string][]string{}
	for _, id := range ids {
		if mb.Get([]byte(id)) == nil {
			continue
		}
		for _, a := range b.forward(id) {
			aliases[a] = append(aliases[a], id)
		}
	}
	if err := ps.putLists(bucketAliases, aliases); err != nil {
		return err
	}
	if err := ps.putLists(bucketVulnPkgs, pkgsOf); err != nil {
		return err
	}
	for _, id := range ids {
		v := mb.Get([]byte(id))
		if v == nil {
			continue
		}
		b.referenced[id] = true
		if err := ps.put(bucketVulns, id, v); err != nil {
			return err
		}
	}
	es, err := ps.finish()
	if err != nil {
		return err
	}
	b.entries = append(b.entries, es...)
	return nil
}

// extra writes the records no ecosystem part holds.
func (b *builder) extra() error {
	return b.merged.View(func(mtx *bolt.Tx) error {
		mb := mtx.Bucket(bucketVulns)
		var est int64
		if mb != nil {
			mb.ForEach(func(k, v []byte) error {
				if !b.referenced[string(k)] {
					est += int64(len(v))
				}
				return nil
			})
		}
		ps, err := b.w.newPartSet(KindExtra, "", b.shards(KindExtra, "", est/compressionRatio))
		if err != nil {
			return err
		}
		defer ps.abort()
		if mb != nil {
			aliases := map[string][]string{}
			err := mb.ForEach(func(k, v []byte) error {
				if b.referenced[string(k)] {
					return nil
				}
				for _, a := range b.forward(string(k)) {
					aliases[a] = append(aliases[a], string(k))
				}
				return ps.put(bucketVulns, string(k), v)
			})
			if err != nil {
				return err
			}
			if err := ps.putLists(bucketAliases, aliases); err != nil {
				return err
			}
		}
		es, err := ps.finish()
		if err != nil {
			return err
		}
		b.entries = append(b.entries, es...)
		return nil
	})
}

// batchWriter writes keys in ascending order into a bucket, committing
// every commitEvery puts.
type batchWriter struct {
	db  *bolt.DB
	tx  *bolt.Tx
	ops int
}

func (bw *batchWriter) put(ctx context.Context, bucket, k, v []byte) error {
	if err := ctx.Err(); err != nil {
		bw.abort()
		return err
	}
	if bw.tx == nil {
		tx, err := bw.db.Begin(true)
		if err != nil {
			return err
		}
		bw.tx = tx
	}
	b, err := bw.tx.CreateBucketIfNotExists(bucket)
	if err != nil {
		bw.abort()
		return err
	}
	b.FillPercent = 1
	if err := b.Put(k, v); err != nil {
		bw.abort()
		return err
	}
	bw.ops++
	if bw.ops%commitEvery == 0 {
		return bw.commit()
	}
	return nil
}

func (bw *batchWriter) commit() error {
	if bw.tx == nil {
		return nil
	}
	err := bw.tx.Commit()
	bw.tx = nil
	return err
}

func (bw *batchWriter) abort() {
	if bw.tx != nil {
		bw.tx.Rollback()
		bw.tx = nil
	}
}

func joinKey(parts ...string) []byte {
	var b []byte
	for i, p := range parts {
		if i > 0 {
			b = append(b, 0)
		}
		b = append(b, p...)
	}
	return b
}
