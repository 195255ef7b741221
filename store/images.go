package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/vigil-scanner/vigil/inventory"
)

// Image is a scanned (or failed) image digest.
type Image struct {
	Digest       string
	Registry     string
	Repository   string
	Platform     string
	ImageID      string
	InventoryKey string
	ScannedAt    time.Time
	DBDigest     string
	MatchedAt    time.Time
	Error        string
	ErrorAt      time.Time
	// Tags are the image's current "repository:tag"s.
	Tags []string
	// Counts are its open findings by severity.
	Counts map[string]int
}

// SaveInventory stores the inventory of an image digest, replacing any
// earlier one, with the index of its packages, and clears a recorded
// scan error.
func (s *Store) SaveInventory(ctx context.Context, now time.Time, img Image, inv *inventory.Inventory) error {
	blob, err := compress(inv)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.exec(ctx, tx, `INSERT INTO images (digest, registry, repository, platform, image_id, inventory, inventory_key, scanned_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (digest) DO UPDATE SET platform = excluded.platform, image_id = excluded.image_id, inventory = excluded.inventory,
				inventory_key = excluded.inventory_key, scanned_at = excluded.scanned_at, error = '', error_at = 0`,
			img.Digest, img.Registry, img.Repository, img.Platform, img.ImageID, blob, img.InventoryKey, ms(now), ms(now)); err != nil {
			return fmt.Errorf("store: save inventory %s: %w", img.Digest, err)
		}
		if _, err := s.exec(ctx, tx, `DELETE FROM packages WHERE digest = ?`, img.Digest); err != nil {
			return err
		}
		for _, r := range inv.Results {
			for _, p := range r.Packages {
				if _, err := s.exec(ctx, tx, `INSERT INTO packages (digest, name, version, type, purl, target) VALUES (?, ?, ?, ?, ?, ?)`,
					img.Digest, p.Name, p.Version, r.Type, p.Purl, r.Target); err != nil {
					return fmt.Errorf("store: package index %s: %w", img.Digest, err)
				}
			}
		}
		return nil
	})
}

// RecordScanError notes that an image could not be read.
func (s *Store) RecordScanError(ctx context.Context, now time.Time, img Image, cause error) error {
	_, err := s.exec(ctx, s.db, `INSERT INTO images (digest, registry, repository, platform, error, error_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (digest) DO UPDATE SET error = excluded.error, error_at = excluded.error_at`,
		img.Digest, img.Registry, img.Repository, img.Platform, truncate(cause.Error(), 2000), ms(now), ms(now))
	return err
}

// ErrNotFound is returned for an image or record the store does not have.
var ErrNotFound = errors.New("not found")

// Inventory returns the stored inventory of digest and the key of the
// vigil build and cataloger set that produced it.
func (s *Store) Inventory(ctx context.Context, digest string) (*inventory.Inventory, string, error) {
	var blob []byte
	var key string
	err := s.queryRow(ctx, s.db, `SELECT inventory, inventory_key FROM images WHERE digest = ? AND inventory IS NOT NULL`, digest).Scan(&blob, &key)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", fmt.Errorf("image %s: %w", digest, ErrNotFound)
	}
	if err != nil {
		return nil, "", fmt.Errorf("store: inventory %s: %w", digest, err)
	}
	inv, err := decompress(blob)
	if err != nil {
		return nil, "", fmt.Errorf("store: inventory %s: %w", digest, err)
	}
	return inv, key, nil
}

// Scanned returns which of digests have an inventory made with key.
func (s *Store) Scanned(ctx context.Context, key string, digests []string) (map[string]bool, error) {
	out := map[string]bool{}
	for start := 0; start < len(digests); start += 500 {
		chunk := digests[start:min(start+500, len(digests))]
		args := []any{key}
		for _, d := range chunk {
			args = append(args, d)
		}
		rows, err := s.query(ctx, s.db, `SELECT digest FROM images WHERE inventory_key = ? AND digest IN (`+placeholders(len(chunk))+`)`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var d string
			if err := rows.Scan(&d); err != nil {
				rows.Close()
				return nil, err
			}
			out[d] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Stale returns the digests whose inventory was made by another vigil
// build or cataloger set than key, to catalogue again.
func (s *Store) Stale(ctx context.Context, key string, limit int) ([]Image, error) {
	return s.images(ctx, `WHERE inventory IS NOT NULL AND inventory_key <> ? ORDER BY digest LIMIT ?`, key, limit)
}

// Unmatched returns the digests with an inventory not yet matched against
// the database dbDigest.
func (s *Store) Unmatched(ctx context.Context, dbDigest string, limit int) ([]string, error) {
	rows, err := s.query(ctx, s.db, `SELECT digest FROM images WHERE inventory IS NOT NULL AND db_digest <> ? ORDER BY digest LIMIT ?`, dbDigest, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Image returns one image with its current tags and open finding counts.
func (s *Store) Image(ctx context.Context, digest string) (*Image, error) {
	imgs, err := s.images(ctx, `WHERE digest = ?`, digest)
	if err != nil {
		return nil, err
	}
	if len(imgs) == 0 {
		return nil, fmt.Errorf("image %s: %w", digest, ErrNotFound)
	}
	img := &imgs[0]
	if err := s.decorate(ctx, imgs); err != nil {
		return nil, err
	}
	return img, nil
}

// ImageFilter selects images.
type ImageFilter struct {
	Registry   string
	Repository string
	After      string // digest to continue after (pagination)
	Limit      int
}

// Images lists images ordered by digest.
func (s *Store) Images(ctx context.Context, f ImageFilter) ([]Image, error) {
	where := []string{"digest > ?"}
	args := []any{f.After}
	if f.Registry != "" {
		where = append(where, "digest IN (SELECT digest FROM tags WHERE registry = ? AND removed_at = 0)")
		args = append(args, f.Registry)
	}
	if f.Repository != "" {
		where = append(where, "digest IN (SELECT digest FROM tags WHERE repository = ? AND removed_at = 0)")
		args = append(args, f.Repository)
	}
	args = append(args, cmpLimit(f.Limit))
	imgs, err := s.images(ctx, "WHERE "+strings.Join(where, " AND ")+" ORDER BY digest LIMIT ?", args...)
	if err != nil {
		return nil, err
	}
	return imgs, s.decorate(ctx, imgs)
}

func cmpLimit(n int) int {
	if n <= 0 || n > 1000 {
		return 100
	}
	return n
}

func (s *Store) images(ctx context.Context, where string, args ...any) ([]Image, error) {
	rows, err := s.query(ctx, s.db, `SELECT digest, registry, repository, platform, image_id, inventory_key, scanned_at, db_digest, matched_at, error, error_at FROM images `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("store: images: %w", err)
	}
	defer rows.Close()
	var out []Image
	for rows.Next() {
		var img Image
		var scanned, matched, errAt int64
		if err := rows.Scan(&img.Digest, &img.Registry, &img.Repository, &img.Platform, &img.ImageID, &img.InventoryKey, &scanned, &img.DBDigest, &matched, &img.Error, &errAt); err != nil {
			return nil, err
		}
		img.ScannedAt, img.MatchedAt, img.ErrorAt = fromMS(scanned), fromMS(matched), fromMS(errAt)
		out = append(out, img)
	}
	return out, rows.Err()
}

// decorate fills in the tags and finding counts of imgs.
func (s *Store) decorate(ctx context.Context, imgs []Image) error {
	for i := range imgs {
		img := &imgs[i]
		tags, err := s.currentTagsOf(ctx, img.Digest)
		if err != nil {
			return err
		}
		img.Tags = tags
		rows, err := s.query(ctx, s.db, `SELECT severity, COUNT(*) FROM findings WHERE digest = ? AND resolved_at = 0 GROUP BY severity`, img.Digest)
		if err != nil {
			return err
		}
		img.Counts = map[string]int{}
		for rows.Next() {
			var sev string
			var n int
			if err := rows.Scan(&sev, &n); err != nil {
				rows.Close()
				return err
			}
			img.Counts[sev] = n
		}
		rows.Close()
	}
	return nil
}

func (s *Store) currentTagsOf(ctx context.Context, digest string) ([]string, error) {
	rows, err := s.query(ctx, s.db, `SELECT DISTINCT repository, tag FROM tags WHERE digest = ? AND removed_at = 0 ORDER BY repository, tag`, digest)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var repo, tag string
		if err := rows.Scan(&repo, &tag); err != nil {
			return nil, err
		}
		out = append(out, repo+":"+tag)
	}
	return out, rows.Err()
}

// compress encodes inv as zstd-compressed JSON.
func compress(inv *inventory.Inventory) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := zstd.NewWriter(&buf, zstd.WithEncoderConcurrency(1))
	if err != nil {
		return nil, err
	}
	if err := json.NewEncoder(zw).Encode(inv); err != nil {
		zw.Close()
		return nil, fmt.Errorf("store: encode inventory: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// maxInventory bounds a decompressed inventory.
const maxInventory = 1 << 30

func decompress(blob []byte) (*inventory.Inventory, error) {
	zr, err := zstd.NewReader(bytes.NewReader(blob), zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxInventory))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	var inv inventory.Inventory
	if err := json.NewDecoder(io.LimitReader(zr, maxInventory)).Decode(&inv); err != nil {
		return nil, fmt.Errorf("decode inventory: %w", err)
	}
	return &inv, nil
}
