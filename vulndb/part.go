package vulndb

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/fnv"
	"os"
	"runtime/debug"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// A database is a set of parts. Each part is one bbolt file holding the
// records of one kind, routed to it by a stable key:
//
//	KindEcosystem  one ecosystem ("alpine:3.19", "npm"): its affected
//	               records (by package), and every vulnerability record a
//	               finding in the ecosystem can name — the ids of its
//	               records and their aliases, two hops deep — with the
//	               alias and package indexes of those ids.
//	KindEPSS       EPSS scores, by CVE.
//	KindKEV        CISA KEV entries, by CVE.
//	KindExtra      vulnerability records no package record leads to (for
//	               `vigil db show`), with their aliases.
//
// Two hops is what package match reads to describe a finding (the
// record's own id, its aliases — a GHSA's CVE — and theirs — a USN's
// UBUNTU-CVE's CVE); EPSS and KEV, which it reads one hop further, are
// parts of their own. Were matching to follow more links, the closure must
// grow with it: internal/e2e scans every fixture image from its parts alone
// and from the whole database, and compares.
//
// A kind (and, for KindEcosystem, an ecosystem) with many records is split
// into Shards parts; a key lives in shard fnv1a64(key) mod Shards, so a
// lookup opens exactly one file. A scan needs the parts of the ecosystems
// its packages belong to plus EPSS and KEV; nothing else.
//
// Part file layout (top-level buckets):
//
//	part      "info"    → JSON PartInfo
//	affected  <package> → JSON []Affected              (ecosystem)
//	vulns     <id>      → JSON Vulnerability without EPSS and KEV
//	aliases   <alias>   → JSON []string: ids whose record names the alias
//	vulnpkgs  <id>      → JSON []string: "<ecosystem>\x00<package>"   (ecosystem)
//	epss      <cve>     → JSON EPSS                                    (epss)
//	kev       <cve>     → JSON KEV                                     (kev)
//
// A part's content digest is the sha256 of its records in bucket and key
// order (each as length-prefixed bucket, key and value; see CheckPart):
// two files with the same records have the same digest, however bbolt laid
// out their pages. Parts are stored, published and compared by it.

// Part kinds.
const (
	KindEcosystem = "ecosystem"
	KindEPSS      = "epss"
	KindKEV       = "kev"
	KindExtra     = "extra"
)

var (
	bucketPart     = []byte("part")
	bucketAffected = []byte("affected")
	bucketVulns    = []byte("vulns")
	bucketAliases  = []byte("aliases")
	bucketVulnPkgs = []byte("vulnpkgs")
	bucketEPSS     = []byte("epss")
	bucketKEV      = []byte("kev")
	keyPartInfo    = []byte("info")
)

// PartKey identifies a part within a database: the same key in two
// versions of a database is the same slice of the data.
type PartKey struct {
	Kind      string `json:"kind"`
	Ecosystem string `json:"ecosystem,omitempty"`
	Shard     int    `json:"shard"`
	Shards    int    `json:"shards"`
}

// String names the part for people: "alpine:3.19", "npm [2/4]", "epss".
func (k PartKey) String() string {
	name := k.Kind
	if k.Kind == KindEcosystem {
		name = k.Ecosystem
	}
	if k.Shards > 1 {
		name += fmt.Sprintf(" [%d/%d]", k.Shard+1, k.Shards)
	}
	return name
}

// group is the key of a part without its shard: all shards of a group
// together hold one kind (and ecosystem) of records.
func (k PartKey) group() string { return k.Kind + "\x00" + k.Ecosystem }

// validate checks the key's fields.
func (k PartKey) validate() error {
	switch k.Kind {
	case KindEcosystem:
		if k.Ecosystem == "" || strings.ContainsRune(k.Ecosystem, 0) {
			return fmt.Errorf("part of kind %s without a valid ecosystem", k.Kind)
		}
	case KindEPSS, KindKEV, KindExtra:
		if k.Ecosystem != "" {
			return fmt.Errorf("part of kind %s names ecosystem %q", k.Kind, k.Ecosystem)
		}
	default:
		return fmt.Errorf("unknown part kind %q", k.Kind)
	}
	if k.Shards < 1 || k.Shards > maxShards || k.Shard < 0 || k.Shard >= k.Shards {
		return fmt.Errorf("part %s: shard %d of %d", k, k.Shard, k.Shards)
	}
	return nil
}

// maxShards bounds the shards of one group.
const maxShards = 1024

// requiredBuckets are the buckets a part of each kind must have.
var requiredBuckets = map[string][][]byte{
	KindEcosystem: {bucketAffected, bucketVulns, bucketAliases, bucketVulnPkgs},
	KindEPSS:      {bucketEPSS},
	KindKEV:       {bucketKEV},
	KindExtra:     {bucketVulns, bucketAliases},
}

// PartInfo is stored in each part file.
type PartInfo struct {
	SchemaVersion int `json:"schemaVersion"`
	PartKey
}

// shardOf returns the shard of key among n: fnv1a64(key) mod n. The
// function is part of the format: changing it moves every record.
func shardOf(key string, n int) int {
	if n <= 1 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(key))
	return int(h.Sum64() % uint64(n))
}

// partWriter writes one part file. Keys must arrive in ascending order
// within each bucket; buckets may interleave.
type partWriter struct {
	path string
	key  PartKey
	db   *bolt.DB
	tx   *bolt.Tx
	ops  int
	err  error
}

// createPart creates a part file at path for key; with writeInfo it
// stores the part's PartInfo first (a copy of another part brings its
// own).
func createPart(path string, key PartKey, writeInfo bool) (*partWriter, error) {
	if err := key.validate(); err != nil {
		return nil, err
	}
	db, err := openWrite(path)
	if err != nil {
		return nil, fmt.Errorf("create part %s: %w", path, err)
	}
	w := &partWriter{path: path, key: key, db: db}
	if !writeInfo {
		return w, nil
	}
	info, err := json.Marshal(PartInfo{SchemaVersion: SchemaVersion, PartKey: key})
	if err != nil {
		db.Close()
		return nil, err
	}
	if err := w.put(bucketPart, keyPartInfo, info); err != nil {
		db.Close()
		return nil, err
	}
	return w, nil
}

func (w *partWriter) put(bucket, k, v []byte) error {
	if w.err != nil {
		return w.err
	}
	if w.tx == nil {
		if w.tx, w.err = w.db.Begin(true); w.err != nil {
			return w.err
		}
	}
	b, err := w.tx.CreateBucketIfNotExists(bucket)
	if err != nil {
		return w.fail(err)
	}
	b.FillPercent = 1
	if k == nil {
		return nil
	}
	if err := b.Put(k, v); err != nil {
		return w.fail(err)
	}
	w.ops++
	if w.ops%commitEvery == 0 {
		err := w.tx.Commit()
		w.tx = nil
		if err != nil {
			return w.fail(err)
		}
	}
	return nil
}

func (w *partWriter) fail(err error) error {
	if w.tx != nil {
		w.tx.Rollback()
		w.tx = nil
	}
	w.err = fmt.Errorf("part %s: %w", w.key, err)
	return w.err
}

// close creates the kind's empty buckets, commits, syncs and closes the
// file. The writer cannot be used after.
func (w *partWriter) close() error {
	if w.db == nil {
		return w.err
	}
	for _, b := range requiredBuckets[w.key.Kind] {
		w.put(b, nil, nil)
	}
	if w.err == nil && w.tx != nil {
		if err := w.tx.Commit(); err != nil {
			w.fail(err)
		}
		w.tx = nil
	}
	if w.err == nil {
		if err := w.db.Sync(); err != nil {
			w.fail(err)
		}
	}
	if w.tx != nil {
		w.tx.Rollback()
		w.tx = nil
	}
	if err := w.db.Close(); err != nil && w.err == nil {
		w.err = fmt.Errorf("part %s: %w", w.key, err)
	}
	w.db = nil
	return w.err
}

// abort closes and removes the file.
func (w *partWriter) abort() {
	if w.db != nil {
		if w.tx != nil {
			w.tx.Rollback()
			w.tx = nil
		}
		w.db.Close()
		w.db = nil
	}
	os.Remove(w.path)
}

// PartFile is what checking a part file found.
type PartFile struct {
	Key     PartKey
	Content string // "sha256:<hex>", the content digest
	Size    int64  // bytes of the file
	Records int    // records, not counting the part's own description
}

// CheckPart opens the part file at path, checks its structure (the part
// bucket, the schema version, the buckets of its kind, every page it
// references lies inside the file) and reads every record to compute its
// content digest. A file that is not a valid part yields an error naming
// the file and the problem; CheckPart never panics on bad input.
func CheckPart(path string) (PartFile, error) {
	p, err := openPart(path, nil)
	if err != nil {
		return PartFile{}, err
	}
	defer p.close()
	pf := PartFile{Key: p.info.PartKey, Size: p.size}
	err = p.view(func(tx *bolt.Tx) error {
		h := newContentHash()
		err := forEachRecord(tx, func(bucket, k, v []byte) error {
			h.add(bucket, k, v)
			if !bytes.Equal(bucket, bucketPart) {
				pf.Records++
			}
			return nil
		})
		pf.Content = h.sum()
		return err
	})
	if err != nil {
		return PartFile{}, fmt.Errorf("vulndb: part %s: %w", path, err)
	}
	return pf, nil
}

// part is an open part file.
type part struct {
	path string
	info PartInfo
	size int64
	db   *bolt.DB
}

// openPart opens the part file at path read-only and checks its
// structure; when want is set, the file must hold that part.
func openPart(path string, want *PartKey) (*part, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("vulndb: part %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("vulndb: part %s: not a regular file", path)
	}
	if fi.Size() < 4*int64(os.Getpagesize()) {
		return nil, fmt.Errorf("vulndb: part %s: %d bytes: truncated, or not a database part", path, fi.Size())
	}
	b, err := openBolt(path)
	if err != nil {
		return nil, fmt.Errorf("vulndb: part %s: %w", path, err)
	}
	p := &part{path: path, size: fi.Size(), db: b}
	err = p.view(func(tx *bolt.Tx) error {
		// bbolt maps pages up to the size its meta page records; a file
		// cut shorter would fault on the first read past its end.
		if tx.Size() > fi.Size() {
			return fmt.Errorf("truncated: the database needs %d bytes, the file has %d", tx.Size(), fi.Size())
		}
		pb := tx.Bucket(bucketPart)
		if pb == nil {
			return errors.New("no part bucket: not a vigil database part")
		}
		raw := pb.Get(keyPartInfo)
		if raw == nil {
			return errors.New("no part info: not a vigil database part")
		}
		if err := json.Unmarshal(raw, &p.info); err != nil {
			return fmt.Errorf("part info: %w", err)
		}
		if p.info.SchemaVersion != SchemaVersion {
			return fmt.Errorf("%w %d (this vigil reads %d)", ErrSchema, p.info.SchemaVersion, SchemaVersion)
		}
		if err := p.info.PartKey.validate(); err != nil {
			return err
		}
		if want != nil && p.info.PartKey != *want {
			return fmt.Errorf("holds part %s, expected %s", p.info.PartKey, *want)
		}
		for _, name := range requiredBuckets[p.info.Kind] {
			if tx.Bucket(name) == nil {
				return fmt.Errorf("no %s bucket", name)
			}
		}
		return nil
	})
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("vulndb: part %s: %w", path, err)
	}
	return p, nil
}

// openWrite opens a bbolt file this process writes whole and syncs (or
// throws away) at the end: no sync on each commit.
func openWrite(path string) (*bolt.DB, error) {
	return bolt.Open(path, 0o600, &bolt.Options{NoSync: true, NoFreelistSync: true, NoGrowSync: true, Timeout: time.Second})
}

func openBolt(path string) (*bolt.DB, error) {
	var b *bolt.DB
	err := recovered(func() error {
		var err error
		b, err = bolt.Open(path, 0o444, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
		return err
	})
	return b, err
}

func (p *part) close() error { return p.db.Close() }

// view runs fn in a read transaction, turning a panic inside bbolt (a
// corrupt page) into an error.
func (p *part) view(fn func(*bolt.Tx) error) error {
	return recovered(func() error { return p.db.View(fn) })
}

// recovered runs fn and returns a panic it raises as an error. bbolt
// panics on pages it cannot make sense of, and a page number past the end
// of a memory-mapped file faults (SIGBUS): with SetPanicOnFault that fault
// is a panic too. A corrupt file must be an error, not a crash.
func recovered(fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("corrupt database file: %v", r)
		}
	}()
	return fn()
}

// forEachRecord calls fn for every record of every top-level bucket, in
// bucket then key order. Nested buckets are not part of the format and are
// reported as an error.
func forEachRecord(tx *bolt.Tx, fn func(bucket, k, v []byte) error) error {
	return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if v == nil {
				return fmt.Errorf("bucket %s: unexpected nested bucket %q", name, k)
			}
			if err := fn(name, k, v); err != nil {
				return err
			}
		}
		return nil
	})
}

// contentHash computes a content digest incrementally.
type contentHash struct {
	h   hash.Hash
	buf []byte
}

const contentMagic = "vigil-part-content-v1\n"

func newContentHash() *contentHash {
	h := sha256.New()
	h.Write([]byte(contentMagic))
	return &contentHash{h: h}
}

func (c *contentHash) add(bucket, k, v []byte) {
	c.buf = c.buf[:0]
	c.buf = binary.AppendUvarint(c.buf, uint64(len(bucket)))
	c.buf = append(c.buf, bucket...)
	c.buf = binary.AppendUvarint(c.buf, uint64(len(k)))
	c.buf = append(c.buf, k...)
	c.buf = binary.AppendUvarint(c.buf, uint64(len(v)))
	c.h.Write(c.buf)
	c.h.Write(v)
}

func (c *contentHash) sum() string { return "sha256:" + hex.EncodeToString(c.h.Sum(nil)) }

// validDigest reports whether d is "sha256:" and 64 lower-case hex digits.
func validDigest(d string) bool {
	h, ok := strings.CutPrefix(d, "sha256:")
	if !ok || len(h) != 64 {
		return false
	}
	_, err := hex.DecodeString(h)
	return err == nil && strings.ToLower(h) == h
}

// record is one key/value of a part, with its bucket.
type record struct {
	bucket, key, value []byte
}

func compareRecord(a, b record) int {
	if c := bytes.Compare(a.bucket, b.bucket); c != 0 {
		return c
	}
	return bytes.Compare(a.key, b.key)
}

// statRegular returns the size of the regular file at path.
func statRegular(path string) (int64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	if !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("%s: not a regular file", path)
	}
	return fi.Size(), nil
}
