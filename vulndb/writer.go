package vulndb

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/klauspost/compress/zstd"
	bolt "go.etcd.io/bbolt"
)

// Staging buckets. While sources run, every record is stored on its own
// under a key that sorts it next to the records it will be grouped with, so
// merging is a read-modify-write of one small value and nothing is held in
// memory. Commit then walks the staging buckets in key order and writes the
// grouped, compressed layout of store.go.
var (
	stageAffected = []byte("a") // eco\0pkg\0id\0source → JSON Affected
	stageVulns    = []byte("v") // id → JSON Vulnerability
	stageVulnPkgs = []byte("p") // id\0eco\0pkg → nil
	stageAliases  = []byte("l") // alias\0id → nil
)

// commitEvery bounds the writes batched in one staging transaction.
const commitEvery = 5000

// Writer builds a database file. It implements Sink and is safe for
// concurrent use by several sources. Records go to a staging file beside
// the target; Commit writes the final database to a temporary file in the
// same directory and renames it over the target, so a failed or abandoned
// build leaves an existing database untouched.
type Writer struct {
	path        string
	stagingPath string

	mu      sync.Mutex
	staging *bolt.DB
	tx      *bolt.Tx
	ops     int
	err     error // first write error; later puts return it
}

// NewWriter starts a build of the database at path.
func NewWriter(path string) (*Writer, error) {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".staging-*")
	if err != nil {
		return nil, fmt.Errorf("vulndb: create staging file: %w", err)
	}
	f.Close()
	w := &Writer{path: path, stagingPath: f.Name()}
	w.staging, err = bolt.Open(w.stagingPath, 0o600, &bolt.Options{NoSync: true, NoFreelistSync: true, NoGrowSync: true})
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
		if err := b.Put(key, raw); err != nil {
			return err
		}
		return tx.Bucket(stageVulnPkgs).Put(joinKey(a.VulnID, a.Ecosystem, a.Package), nil)
	})
}

// PutVulnerability stores v, merging it with earlier records for v.ID.
func (w *Writer) PutVulnerability(ctx context.Context, v Vulnerability) error {
	if err := v.Validate(); err != nil {
		return err
	}
	return w.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(stageVulns)
		if old := b.Get([]byte(v.ID)); old != nil {
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
		if err := b.Put([]byte(v.ID), raw); err != nil {
			return err
		}
		al := tx.Bucket(stageAliases)
		for _, a := range v.Aliases {
			if a != v.ID {
				if err := al.Put(joinKey(a, v.ID), nil); err != nil {
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
		for _, name := range [][]byte{stageAffected, stageVulns, stageVulnPkgs, stageAliases} {
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

// Abort discards the build; the target file is not touched.
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

// Commit writes the database with meta (its SchemaVersion is set here) and
// atomically replaces the target file. The Writer cannot be used after.
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
	f, err := os.CreateTemp(filepath.Dir(w.path), filepath.Base(w.path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("vulndb: create %s: %w", w.path, err)
	}
	tmp := f.Name()
	f.Close()
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	meta.SchemaVersion = SchemaVersion
	if err := w.writeFinal(ctx, tmp, meta); err != nil {
		return fmt.Errorf("vulndb: write %s: %w", tmp, err)
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		return fmt.Errorf("vulndb: %w", err)
	}
	if err := os.Rename(tmp, w.path); err != nil {
		return fmt.Errorf("vulndb: replace %s: %w", w.path, err)
	}
	return nil
}

// writeFinal walks the staging buckets in key order and writes the grouped
// layout into a new bbolt file at path.
func (w *Writer) writeFinal(ctx context.Context, path string, meta Metadata) error {
	out, err := bolt.Open(path, 0o600, &bolt.Options{NoSync: true, NoFreelistSync: true, NoGrowSync: true})
	if err != nil {
		return err
	}
	defer out.Close()
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedBetterCompression))
	if err != nil {
		return err
	}
	defer enc.Close()
	bw := &batchWriter{db: out}
	err = w.staging.View(func(stx *bolt.Tx) error {
		if stx.Bucket(stageAffected) == nil { // nothing was put
			return nil
		}
		if err := writeAffected(ctx, stx, bw, enc); err != nil {
			return err
		}
		if err := writeGrouped(ctx, stx.Bucket(stageVulnPkgs), bw, bucketVulnPkgs, func(rest []byte) string {
			return string(rest) // "eco\0pkg"
		}); err != nil {
			return err
		}
		if err := writeGrouped(ctx, stx.Bucket(stageAliases), bw, bucketAliases, func(rest []byte) string {
			return string(rest) // id
		}); err != nil {
			return err
		}
		return stx.Bucket(stageVulns).ForEach(func(k, v []byte) error {
			var tmp bytes.Buffer
			if err := json.Compact(&tmp, v); err != nil {
				return err
			}
			return bw.put(ctx, [][]byte{bucketVulns}, k, enc.EncodeAll(tmp.Bytes(), nil))
		})
	})
	if err != nil {
		bw.abort()
		return err
	}
	rawMeta, err := json.Marshal(meta)
	if err != nil {
		bw.abort()
		return err
	}
	if err := bw.put(ctx, [][]byte{bucketMeta}, keyMetadata, rawMeta); err != nil {
		return err
	}
	for _, name := range [][]byte{bucketAffected, bucketVulns, bucketAliases, bucketVulnPkgs} {
		if err := bw.put(ctx, [][]byte{name}, nil, nil); err != nil { // ensure the bucket exists
			return err
		}
	}
	if err := bw.commit(); err != nil {
		return err
	}
	return out.Sync()
}

// writeAffected groups the staged records by (ecosystem, package).
func writeAffected(ctx context.Context, stx *bolt.Tx, bw *batchWriter, enc *zstd.Encoder) error {
	var (
		curEco, curPkg string
		group          []json.RawMessage
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
		return bw.put(ctx, [][]byte{bucketAffected, []byte(curEco)}, []byte(curPkg), enc.EncodeAll(raw, nil))
	}
	c := stx.Bucket(stageAffected).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		parts := bytes.SplitN(k, []byte{0}, 3)
		if len(parts) != 3 {
			return fmt.Errorf("malformed staging key %q", k)
		}
		if string(parts[0]) != curEco || string(parts[1]) != curPkg {
			if err := flush(); err != nil {
				return err
			}
			curEco, curPkg = string(parts[0]), string(parts[1])
		}
		group = append(group, json.RawMessage(bytes.Clone(v)))
	}
	return flush()
}

// writeGrouped turns staged "head\0rest" keys into head → JSON [rest…].
func writeGrouped(ctx context.Context, b *bolt.Bucket, bw *batchWriter, bucket []byte, elem func([]byte) string) error {
	var (
		cur   []byte
		group []string
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
		return bw.put(ctx, [][]byte{bucket}, cur, raw)
	}
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		head, rest, ok := bytes.Cut(k, []byte{0})
		if !ok {
			return fmt.Errorf("malformed staging key %q", k)
		}
		if !bytes.Equal(head, cur) {
			if err := flush(); err != nil {
				return err
			}
			cur = bytes.Clone(head)
		}
		group = append(group, elem(rest))
	}
	return flush()
}

// batchWriter writes keys in ascending order into nested buckets,
// committing every commitEvery puts. Buckets are filled completely since
// keys arrive sorted, which keeps the file compact.
type batchWriter struct {
	db  *bolt.DB
	tx  *bolt.Tx
	ops int
}

func (bw *batchWriter) put(ctx context.Context, path [][]byte, k, v []byte) error {
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
	b, err := bw.tx.CreateBucketIfNotExists(path[0])
	for _, name := range path[1:] {
		if err != nil {
			break
		}
		b.FillPercent = 1
		b, err = b.CreateBucketIfNotExists(name)
	}
	if err != nil {
		bw.abort()
		return err
	}
	if k == nil {
		return nil
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
