package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// migrations are the schema, one step per version; a step is never edited
// once released, only followed by another. Times are Unix milliseconds.
var migrations = []string{
	// 1: the initial schema.
	`
CREATE TABLE images (
	digest        TEXT PRIMARY KEY,  -- manifest digest of one platform's image
	registry      TEXT NOT NULL,     -- host[:port] it was first pulled from
	repository    TEXT NOT NULL,     -- full name (host/path) it was first pulled from
	platform      TEXT NOT NULL DEFAULT '',
	image_id      TEXT NOT NULL DEFAULT '',
	inventory     {{blob}},          -- zstd-compressed JSON inventory.Inventory
	inventory_key TEXT NOT NULL DEFAULT '', -- vigil build and cataloger set that produced it
	scanned_at    BIGINT NOT NULL DEFAULT 0,
	db_digest     TEXT NOT NULL DEFAULT '', -- vulnerability database last matched against
	matched_at    BIGINT NOT NULL DEFAULT 0,
	error         TEXT NOT NULL DEFAULT '', -- last scan failure, empty once scanned
	error_at      BIGINT NOT NULL DEFAULT 0,
	created_at    BIGINT NOT NULL
);

-- Every repository:tag that pointed at an image, and when. The row whose
-- removed_at is 0 is the tag's current digest for that platform.
CREATE TABLE tags (
	registry    TEXT NOT NULL,
	repository  TEXT NOT NULL,
	tag         TEXT NOT NULL,
	platform    TEXT NOT NULL,
	digest      TEXT NOT NULL,
	previous    TEXT NOT NULL DEFAULT '', -- the digest the tag had before this one
	index_digest TEXT NOT NULL DEFAULT '', -- the multi-platform index the tag named, if any
	pushed_at   BIGINT NOT NULL DEFAULT 0,
	first_seen  BIGINT NOT NULL,
	last_seen   BIGINT NOT NULL,
	removed_at  BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (repository, tag, platform, digest, first_seen)
);
CREATE INDEX tags_digest ON tags (digest);
CREATE INDEX tags_current ON tags (repository, tag, removed_at);

-- Multi-platform indexes already read: index digest → platform → image.
CREATE TABLE manifests (
	index_digest TEXT NOT NULL,
	platform     TEXT NOT NULL,
	digest       TEXT NOT NULL,
	PRIMARY KEY (index_digest, platform)
);

-- The packages of each image, for "which images contain P".
CREATE TABLE packages (
	digest    TEXT NOT NULL,
	name      TEXT NOT NULL,
	version   TEXT NOT NULL,
	type      TEXT NOT NULL, -- the result type: apk, dpkg, npm, …
	purl      TEXT NOT NULL DEFAULT '',
	target    TEXT NOT NULL
);
CREATE INDEX packages_name ON packages (name);
CREATE INDEX packages_digest ON packages (digest);

-- Each finding of each image: open while resolved_at is 0.
CREATE TABLE findings (
	digest        TEXT NOT NULL,
	vuln_id       TEXT NOT NULL,
	pkg_name      TEXT NOT NULL,
	pkg_version   TEXT NOT NULL,
	target        TEXT NOT NULL,
	severity      TEXT NOT NULL,
	fixed_version TEXT NOT NULL DEFAULT '',
	status        TEXT NOT NULL DEFAULT '',
	kev           INTEGER NOT NULL DEFAULT 0,
	epss          DOUBLE PRECISION NOT NULL DEFAULT 0,
	epss_pct      DOUBLE PRECISION NOT NULL DEFAULT 0,
	aliases       TEXT NOT NULL DEFAULT '', -- space-separated
	title         TEXT NOT NULL DEFAULT '',
	url           TEXT NOT NULL DEFAULT '',
	first_seen    BIGINT NOT NULL,
	last_seen     BIGINT NOT NULL,
	resolved_at   BIGINT NOT NULL DEFAULT 0,
	resolution    TEXT NOT NULL DEFAULT '', -- why: "fixed in sha256:…", "withdrawn from the database"
	PRIMARY KEY (digest, vuln_id, pkg_name, pkg_version, target)
);
CREATE INDEX findings_vuln ON findings (vuln_id);
CREATE INDEX findings_open ON findings (resolved_at, severity);

-- Aliases of the ids findings are reported under, for lookups by alias.
CREATE TABLE aliases (
	alias   TEXT NOT NULL,
	vuln_id TEXT NOT NULL,
	PRIMARY KEY (alias, vuln_id)
);

-- What appeared and disappeared at each database change.
CREATE TABLE db_changes (
	db_digest   TEXT PRIMARY KEY,
	built_at    BIGINT NOT NULL,
	noticed_at  BIGINT NOT NULL,
	appeared    BIGINT NOT NULL DEFAULT 0,
	disappeared BIGINT NOT NULL DEFAULT 0
);

-- Work: scans, re-matches, registry listings. key makes enqueueing
-- idempotent; a running job whose lease expired is claimed again.
CREATE TABLE jobs (
	id          {{id}},
	kind        TEXT NOT NULL,
	key         TEXT NOT NULL UNIQUE,
	payload     TEXT NOT NULL,
	priority    INTEGER NOT NULL DEFAULT 0,
	state       TEXT NOT NULL, -- queued, running, done, failed
	attempts    INTEGER NOT NULL DEFAULT 0,
	run_after   BIGINT NOT NULL,
	lease_owner TEXT NOT NULL DEFAULT '',
	lease_until BIGINT NOT NULL DEFAULT 0,
	last_error  TEXT NOT NULL DEFAULT '',
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL
);
CREATE INDEX jobs_ready ON jobs (state, run_after);

-- Alerts to deliver: one row per (route, image digest, finding), ever.
CREATE TABLE outbox (
	id          {{id}},
	route       TEXT NOT NULL,
	digest      TEXT NOT NULL,
	finding     TEXT NOT NULL, -- vuln_id, package, version, target
	event       TEXT NOT NULL, -- what raised it: a scan or a database change
	payload     TEXT NOT NULL, -- the alert, JSON
	state       TEXT NOT NULL, -- pending, sending, sent, parked
	attempts    INTEGER NOT NULL DEFAULT 0,
	next_try    BIGINT NOT NULL,
	lease_owner TEXT NOT NULL DEFAULT '',
	lease_until BIGINT NOT NULL DEFAULT 0,
	last_error  TEXT NOT NULL DEFAULT '',
	created_at  BIGINT NOT NULL,
	sent_at     BIGINT NOT NULL DEFAULT 0,
	UNIQUE (route, digest, finding)
);
CREATE INDEX outbox_ready ON outbox (state, route, next_try);

-- Per registry: the last listing and its outcome.
CREATE TABLE registries (
	url          TEXT PRIMARY KEY,
	listed_at    BIGINT NOT NULL DEFAULT 0,
	repositories INTEGER NOT NULL DEFAULT 0,
	tags         INTEGER NOT NULL DEFAULT 0,
	last_error   TEXT NOT NULL DEFAULT '',
	rate_limited BIGINT NOT NULL DEFAULT 0 -- 429 answers seen
);

-- Small named values: the database digest the store was matched with.
CREATE TABLE kv (
	name  TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
`,
	// 2: the dashboard's counts, trend and sessions (dashboard.go).
	dashboardSchema,
	// 3: findings_open led SQLite to scan every open finding for a
	// lookup by vulnerability id (findings_vuln is the one to use).
	`DROP INDEX IF EXISTS findings_open`,
	// 4: what re-matching needs without decoding the whole inventory
	// (matchinput.go); the hash of each image's findings as last applied,
	// so that a re-match that finds the same reads none of them, and a
	// revision counting their changes, so that a re-match may read them
	// before it takes the write lock (Store.ReadFindings); a hash
	// of each finding's details, so that a re-match compares one column
	// instead of reading all of them; a finding's reachability
	// ("unreachable": the vulnerable code is not in the Go executable);
	// and the resolved findings by time, for the dashboard's recount
	// (partial: a lookup of open findings cannot be misled into it, as
	// migration 3's index misled SQLite; queries name resolved_at > 0).
	`ALTER TABLE images ADD COLUMN match_input {{blob}};
ALTER TABLE images ADD COLUMN findings_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE images ADD COLUMN findings_rev BIGINT NOT NULL DEFAULT 0;
ALTER TABLE findings ADD COLUMN details TEXT NOT NULL DEFAULT '';
ALTER TABLE findings ADD COLUMN reachability TEXT NOT NULL DEFAULT '';
CREATE INDEX findings_resolved ON findings (resolved_at) WHERE resolved_at > 0`,
}

// SchemaVersion is the schema version this build writes.
var SchemaVersion = len(migrations)

// migrate applies the migrations the store lacks, each in a transaction,
// under a lock so that servers starting together migrate once.
func (s *Store) migrate(ctx context.Context) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if s.d.name == "postgres" {
			// Held until the transaction ends.
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(7460677)"); err != nil {
				return fmt.Errorf("store: migration lock: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"); err != nil {
			return fmt.Errorf("store: %w", err)
		}
		var v int
		err := tx.QueryRowContext(ctx, "SELECT version FROM schema_version").Scan(&v)
		switch {
		case err == sql.ErrNoRows:
			if _, err := tx.ExecContext(ctx, "INSERT INTO schema_version (version) VALUES (0)"); err != nil {
				return fmt.Errorf("store: %w", err)
			}
		case err != nil:
			return fmt.Errorf("store: schema version: %w", err)
		}
		if v > len(migrations) {
			return fmt.Errorf("store: schema version %d is newer than this vigil (%d): upgrade vigil", v, len(migrations))
		}
		for i := v; i < len(migrations); i++ {
			for _, stmt := range strings.Split(s.d.rebind(migrations[i]), ";\n") {
				if strings.TrimSpace(stmt) == "" {
					continue
				}
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("store: migration %d: %w", i+1, err)
				}
			}
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind("UPDATE schema_version SET version = ?"), len(migrations)); err != nil {
			return fmt.Errorf("store: %w", err)
		}
		return nil
	})
}
