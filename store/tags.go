package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Tag is where one repository:tag pointed for one platform.
type Tag struct {
	Registry    string
	Repository  string // full name, host/path
	Tag         string
	Platform    string
	Digest      string
	IndexDigest string // the multi-platform index the tag named, if any
	Previous    string // the digest the tag had before (set by the store)
	PushedAt    time.Time
	FirstSeen   time.Time
	RemovedAt   time.Time
}

// TagKey identifies a tag for one platform.
type TagKey struct{ Repository, Tag, Platform string }

// CurrentTags returns every current tag of a registry.
func (s *Store) CurrentTags(ctx context.Context, registry string) (map[TagKey]Tag, error) {
	rows, err := s.query(ctx, s.db, `SELECT repository, tag, platform, digest, index_digest, previous, pushed_at, first_seen FROM tags WHERE registry = ? AND removed_at = 0`, registry)
	if err != nil {
		return nil, fmt.Errorf("store: tags of %s: %w", registry, err)
	}
	defer rows.Close()
	out := map[TagKey]Tag{}
	for rows.Next() {
		t := Tag{Registry: registry}
		var pushed, first int64
		if err := rows.Scan(&t.Repository, &t.Tag, &t.Platform, &t.Digest, &t.IndexDigest, &t.Previous, &pushed, &first); err != nil {
			return nil, err
		}
		t.PushedAt, t.FirstSeen = fromMS(pushed), fromMS(first)
		out[TagKey{t.Repository, t.Tag, t.Platform}] = t
	}
	return out, rows.Err()
}

// SetTag records that t.Tag points at t.Digest. A tag that pointed
// elsewhere is moved: the old row is closed and the new one remembers the
// previous digest, which it returns. moved is false when the tag already
// pointed at t.Digest.
func (s *Store) SetTag(ctx context.Context, now time.Time, t Tag) (previous string, moved bool, err error) {
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var cur string
		err := s.queryRow(ctx, tx, `SELECT digest FROM tags WHERE repository = ? AND tag = ? AND platform = ? AND removed_at = 0`,
			t.Repository, t.Tag, t.Platform).Scan(&cur)
		switch {
		case err == sql.ErrNoRows:
		case err != nil:
			return err
		case cur == t.Digest:
			return nil
		default:
			previous = cur
			if _, err := s.exec(ctx, tx, `UPDATE tags SET removed_at = ?, last_seen = ? WHERE repository = ? AND tag = ? AND platform = ? AND removed_at = 0`,
				ms(now), ms(now), t.Repository, t.Tag, t.Platform); err != nil {
				return err
			}
		}
		moved = true
		_, err = s.exec(ctx, tx, `INSERT INTO tags (registry, repository, tag, platform, digest, previous, index_digest, pushed_at, first_seen, last_seen)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			t.Registry, t.Repository, t.Tag, t.Platform, t.Digest, previous, t.IndexDigest, ms(t.PushedAt), ms(now), ms(now))
		return err
	})
	if err != nil {
		return "", false, fmt.Errorf("store: tag %s:%s: %w", t.Repository, t.Tag, err)
	}
	return previous, moved, nil
}

// RemoveTag records that a tag no longer exists.
func (s *Store) RemoveTag(ctx context.Context, now time.Time, k TagKey) error {
	_, err := s.exec(ctx, s.db, `UPDATE tags SET removed_at = ?, last_seen = ? WHERE repository = ? AND tag = ? AND platform = ? AND removed_at = 0`,
		ms(now), ms(now), k.Repository, k.Tag, k.Platform)
	return err
}

// TagHistory returns every digest a repository's tags pointed at, newest
// first.
func (s *Store) TagHistory(ctx context.Context, repository string) ([]Tag, error) {
	rows, err := s.query(ctx, s.db, `SELECT registry, tag, platform, digest, index_digest, previous, pushed_at, first_seen, removed_at FROM tags WHERE repository = ? ORDER BY tag, first_seen DESC`, repository)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Tag
	for rows.Next() {
		t := Tag{Repository: repository}
		var pushed, first, removed int64
		if err := rows.Scan(&t.Registry, &t.Tag, &t.Platform, &t.Digest, &t.IndexDigest, &t.Previous, &pushed, &first, &removed); err != nil {
			return nil, err
		}
		t.PushedAt, t.FirstSeen, t.RemovedAt = fromMS(pushed), fromMS(first), fromMS(removed)
		out = append(out, t)
	}
	return out, rows.Err()
}

// IndexChild returns the image of platform in a multi-platform index read
// before; false when the index was not read.
func (s *Store) IndexChild(ctx context.Context, index, platform string) (string, bool, error) {
	var d string
	err := s.queryRow(ctx, s.db, `SELECT digest FROM manifests WHERE index_digest = ? AND platform = ?`, index, platform).Scan(&d)
	if err == sql.ErrNoRows {
		return "", false, nil
	}
	return d, err == nil, err
}

// SetIndexChild records the image of platform in an index.
func (s *Store) SetIndexChild(ctx context.Context, index, platform, digest string) error {
	_, err := s.exec(ctx, s.db, `INSERT INTO manifests (index_digest, platform, digest) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, index, platform, digest)
	return err
}

// Registry is what the store knows of one registry's last listing.
type Registry struct {
	URL          string
	ListedAt     time.Time
	Repositories int
	Tags         int
	LastError    string
	RateLimited  int64
	Images       int
}

// RecordListing records the outcome of a registry listing.
func (s *Store) RecordListing(ctx context.Context, now time.Time, r Registry) error {
	_, err := s.exec(ctx, s.db, `INSERT INTO registries (url, listed_at, repositories, tags, last_error, rate_limited) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (url) DO UPDATE SET listed_at = excluded.listed_at, repositories = excluded.repositories, tags = excluded.tags,
			last_error = excluded.last_error, rate_limited = registries.rate_limited + excluded.rate_limited`,
		r.URL, ms(now), r.Repositories, r.Tags, truncate(r.LastError, 2000), r.RateLimited)
	return err
}

// Registries lists the registries with their image counts.
func (s *Store) Registries(ctx context.Context) ([]Registry, error) {
	rows, err := s.query(ctx, s.db, `SELECT url, listed_at, repositories, tags, last_error, rate_limited,
		(SELECT COUNT(DISTINCT digest) FROM tags WHERE tags.registry = registries.url AND removed_at = 0) FROM registries ORDER BY url`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Registry
	for rows.Next() {
		var r Registry
		var listed int64
		if err := rows.Scan(&r.URL, &listed, &r.Repositories, &r.Tags, &r.LastError, &r.RateLimited, &r.Images); err != nil {
			return nil, err
		}
		r.ListedAt = fromMS(listed)
		out = append(out, r)
	}
	return out, rows.Err()
}

// Repository is a repository with its current tags and images.
type Repository struct {
	Registry, Name string
	Tags, Images   int
}

// Repositories lists repositories with current tags, optionally of one
// registry.
func (s *Store) Repositories(ctx context.Context, registry string) ([]Repository, error) {
	rows, err := s.query(ctx, s.db, `SELECT registry, repository, COUNT(DISTINCT tag), COUNT(DISTINCT digest) FROM tags
		WHERE removed_at = 0 AND (CAST(? AS TEXT) = '' OR registry = ?) GROUP BY registry, repository ORDER BY registry, repository`, registry, registry)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Repository
	for rows.Next() {
		var r Repository
		if err := rows.Scan(&r.Registry, &r.Name, &r.Tags, &r.Images); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Get returns a named value; "" when unset.
func (s *Store) Get(ctx context.Context, name string) (string, error) {
	var v string
	err := s.queryRow(ctx, s.db, `SELECT value FROM kv WHERE name = ?`, name).Scan(&v)
	if err == sql.ErrNoRows {
		return "", nil
	}
	return v, err
}

// Set sets a named value.
func (s *Store) Set(ctx context.Context, name, value string) error {
	_, err := s.exec(ctx, s.db, `INSERT INTO kv (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
	return err
}
