package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// dashboardSchema is migration 2: what the dashboard reads many times and
// the store would otherwise recount from every finding on every page.
//
// image_counts holds each image's open findings by severity, fixable and
// KEV. It is derived data, recounted by RefreshCounts for the images
// matched again since (images.matched_at differs) or with a finding
// resolved since (a finding's resolved_at passes resolved_mark).
//
// trend_days holds the open findings of the images some tag named, at the
// end of each day (UTC): recorded when counted that day, reconstructed from
// the findings' first-seen and resolved-at and the tags' history for days
// nobody counted.
//
// sessions are the dashboard's logins: the hash of the cookie's random
// session id, never the id or the token itself.
const dashboardSchema = `
CREATE TABLE image_counts (
	digest        TEXT PRIMARY KEY,
	matched_at    BIGINT NOT NULL, -- images.matched_at when counted
	resolved_mark BIGINT NOT NULL, -- the image's latest findings.resolved_at when counted
	critical      INTEGER NOT NULL DEFAULT 0,
	high          INTEGER NOT NULL DEFAULT 0,
	medium        INTEGER NOT NULL DEFAULT 0,
	low           INTEGER NOT NULL DEFAULT 0,
	unknown       INTEGER NOT NULL DEFAULT 0,
	fixable       INTEGER NOT NULL DEFAULT 0,
	kev           INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX image_counts_rank ON image_counts (critical DESC, high DESC, medium DESC, low DESC, digest);

CREATE TABLE trend_days (
	day      BIGINT PRIMARY KEY, -- days since 1970-01-01 (UTC)
	critical INTEGER NOT NULL DEFAULT 0,
	high     INTEGER NOT NULL DEFAULT 0,
	medium   INTEGER NOT NULL DEFAULT 0,
	low      INTEGER NOT NULL DEFAULT 0,
	unknown  INTEGER NOT NULL DEFAULT 0,
	fixable  INTEGER NOT NULL DEFAULT 0,
	kev      INTEGER NOT NULL DEFAULT 0,
	images   INTEGER NOT NULL DEFAULT 0,
	recorded INTEGER NOT NULL DEFAULT 0 -- 1: counted that day; 0: reconstructed later
);

CREATE TABLE sessions (
	id_hash    TEXT PRIMARY KEY, -- SHA-256 of the session id the cookie holds
	token      TEXT NOT NULL,    -- which configured token logged in (its public identity)
	name       TEXT NOT NULL,    -- the token's name, for display
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- Which images were matched since counted, without reading the images'
-- inventories.
CREATE INDEX images_matched ON images (digest, matched_at);
`

// Counts are open findings by severity, with how many of them have a fix
// and how many are known exploited (CISA KEV).
type Counts struct {
	Critical, High, Medium, Low, Unknown int
	Fixable, KEV                         int
}

// Total is the number of open findings.
func (c Counts) Total() int { return c.Critical + c.High + c.Medium + c.Low + c.Unknown }

// AddFinding counts one open finding.
func (c *Counts) AddFinding(f Finding) {
	c.addSeverity(f.Severity, 1)
	if f.FixedVersion != "" {
		c.Fixable++
	}
	if f.KEV {
		c.KEV++
	}
}

func (c *Counts) addSeverity(sev string, n int) {
	switch strings.ToUpper(sev) {
	case "CRITICAL":
		c.Critical += n
	case "HIGH":
		c.High += n
	case "MEDIUM":
		c.Medium += n
	case "LOW":
		c.Low += n
	default:
		c.Unknown += n
	}
}

// resolvedSlack bounds how late a transaction that resolved findings may
// commit after the time it stamped them with and still be noticed by
// RefreshCounts.
const resolvedSlack = time.Hour

// RefreshCounts recounts the open findings of every image matched or with
// a finding resolved since its last count, and returns how many it
// recounted. Each image is counted in one statement, so its counts and the
// matched_at they are stamped with agree; several servers refreshing at
// once write the same rows, the newest count winning.
func (s *Store) RefreshCounts(ctx context.Context) (int, error) {
	stale, err := s.staleCounts(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: refresh counts: %w", err)
	}
	for start := 0; start < len(stale); start += 500 {
		if err := s.recount(ctx, stale[start:min(start+500, len(stale))]); err != nil {
			return 0, fmt.Errorf("store: refresh counts: %w", err)
		}
	}
	return len(stale), nil
}

func (s *Store) staleCounts(ctx context.Context) ([]string, error) {
	var stale []string
	seen := map[string]bool{}
	collect := func(query string, args ...any) error {
		rows, err := s.query(ctx, s.db, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d string
			if err := rows.Scan(&d); err != nil {
				return err
			}
			if !seen[d] {
				seen[d] = true
				stale = append(stale, d)
			}
		}
		return rows.Err()
	}
	if err := collect(`SELECT i.digest FROM images i LEFT JOIN image_counts c ON c.digest = i.digest
		WHERE c.digest IS NULL OR c.matched_at <> i.matched_at`); err != nil {
		return nil, err
	}
	// Findings resolved without a new match (a rebuilt tag's old digest):
	// the recent resolutions, by the resolved_at index, against the marks.
	mark, err := s.Get(ctx, "dashboard.resolved")
	if err != nil {
		return nil, err
	}
	var since int64
	fmt.Sscan(mark, &since)
	// resolved_at > 0 lets the partial index findings_resolved serve it.
	rows, err := s.query(ctx, s.db, `SELECT digest, resolved_at FROM findings WHERE resolved_at > 0 AND resolved_at > ?`, max(since-resolvedSlack.Milliseconds(), 0))
	if err != nil {
		return nil, err
	}
	latest := map[string]int64{}
	top := since
	for rows.Next() {
		var d string
		var at int64
		if err := rows.Scan(&d, &at); err != nil {
			rows.Close()
			return nil, err
		}
		latest[d] = max(latest[d], at)
		top = max(top, at)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for d, at := range latest {
		if seen[d] {
			continue
		}
		var m int64
		err := s.queryRow(ctx, s.db, `SELECT resolved_mark FROM image_counts WHERE digest = ?`, d).Scan(&m)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		if at > m {
			seen[d] = true
			stale = append(stale, d)
		}
	}
	if top > since {
		// Safe before the recount: the slack reads the last hour again.
		if err := s.Set(ctx, "dashboard.resolved", fmt.Sprint(top)); err != nil {
			return nil, err
		}
	}
	return stale, nil
}

func (s *Store) recount(ctx context.Context, digests []string) error {
	args := make([]any, len(digests))
	for i, d := range digests {
		args[i] = d
	}
	rows, err := s.query(ctx, s.db, `SELECT i.digest, i.matched_at, COALESCE(f.severity, ''),
			CASE WHEN f.resolved_at = 0 THEN 1 ELSE 0 END,
			CASE WHEN f.fixed_version <> '' THEN 1 ELSE 0 END,
			COALESCE(f.kev, 0), COUNT(f.digest), COALESCE(MAX(f.resolved_at), 0)
		FROM images i LEFT JOIN findings f ON f.digest = i.digest
		WHERE i.digest IN (`+placeholders(len(digests))+`)
		GROUP BY i.digest, i.matched_at, f.severity, CASE WHEN f.resolved_at = 0 THEN 1 ELSE 0 END,
			CASE WHEN f.fixed_version <> '' THEN 1 ELSE 0 END, f.kev`, args...)
	if err != nil {
		return err
	}
	type row struct {
		matched, mark int64
		c             Counts
	}
	got := map[string]*row{}
	for rows.Next() {
		var d, sev string
		var matched, mark int64
		var open, fixable, kev, n int
		if err := rows.Scan(&d, &matched, &sev, &open, &fixable, &kev, &n, &mark); err != nil {
			rows.Close()
			return err
		}
		r := got[d]
		if r == nil {
			r = &row{matched: matched}
			got[d] = r
		}
		r.mark = max(r.mark, mark)
		if open == 0 || n == 0 {
			continue
		}
		r.c.addSeverity(sev, n)
		if fixable == 1 {
			r.c.Fixable += n
		}
		if kev != 0 {
			r.c.KEV += n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, d := range digests {
			r := got[d]
			if r == nil {
				continue
			}
			c := r.c
			if _, err := s.exec(ctx, tx, `INSERT INTO image_counts (digest, matched_at, resolved_mark, critical, high, medium, low, unknown, fixable, kev)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (digest) DO UPDATE SET matched_at = excluded.matched_at, resolved_mark = excluded.resolved_mark,
					critical = excluded.critical, high = excluded.high, medium = excluded.medium, low = excluded.low,
					unknown = excluded.unknown, fixable = excluded.fixable, kev = excluded.kev
				WHERE excluded.matched_at > image_counts.matched_at
					OR (excluded.matched_at = image_counts.matched_at AND excluded.resolved_mark >= image_counts.resolved_mark)`,
				d, r.matched, r.mark, c.Critical, c.High, c.Medium, c.Low, c.Unknown, c.Fixable, c.KEV); err != nil {
				return err
			}
		}
		return nil
	})
}

// RepositorySummary is a repository with its current tags and images and
// their open findings.
type RepositorySummary struct {
	Registry, Name string
	Tags, Images   int
	Counts         Counts
}

// RegistrySummary is a registry with its last listing, its repositories
// and the open findings of its current images (an image counted once per
// registry however many of its tags name it).
type RegistrySummary struct {
	Registry
	Counts Counts
}

// Summary is what the dashboard's overview shows.
type Summary struct {
	Registries   []RegistrySummary
	Repositories []RepositorySummary
	// Images is the number of distinct images some tag names; Counts are
	// their open findings.
	Images int
	Counts Counts
}

// SummaryStamp changes whenever what Summarize reads does: the counts
// RefreshCounts keeps, the tags, the registries' listings. It reads three
// small tables (no finding), so a caller may keep a summary until the
// stamp changes. Times only grow, so their sums change with any row.
func (s *Store) SummaryStamp(ctx context.Context) (string, error) {
	var c, cm, cr, t, tl, r, rl int64
	err := s.queryRow(ctx, s.db, `SELECT
		(SELECT COUNT(*) FROM image_counts), (SELECT CAST(COALESCE(SUM(matched_at), 0) AS BIGINT) FROM image_counts), (SELECT CAST(COALESCE(SUM(resolved_mark), 0) AS BIGINT) FROM image_counts),
		(SELECT COUNT(*) FROM tags), (SELECT CAST(COALESCE(SUM(last_seen), 0) AS BIGINT) FROM tags),
		(SELECT COUNT(*) FROM registries), (SELECT CAST(COALESCE(SUM(listed_at), 0) AS BIGINT) FROM registries)`).Scan(&c, &cm, &cr, &t, &tl, &r, &rl)
	if err != nil {
		return "", fmt.Errorf("store: summary stamp: %w", err)
	}
	return fmt.Sprint(c, cm, cr, t, tl, r, rl), nil
}

// Summarize counts the open findings of the current images per registry
// and repository (of one registry when registry is not empty), from the
// counts RefreshCounts keeps. The sums are made by the database: only one
// row per repository and registry comes back.
func (s *Store) Summarize(ctx context.Context, registry string) (*Summary, error) {
	const sums = `COUNT(*), COALESCE(SUM(c.critical), 0), COALESCE(SUM(c.high), 0), COALESCE(SUM(c.medium), 0), COALESCE(SUM(c.low), 0),
		COALESCE(SUM(c.unknown), 0), COALESCE(SUM(c.fixable), 0), COALESCE(SUM(c.kev), 0)`
	const current = `FROM tags WHERE removed_at = 0 AND (CAST(? AS TEXT) = '' OR registry = ?)`
	out := &Summary{}
	scan := func(query string, row func(keys []string, images int, c Counts)) error {
		rows, err := s.query(ctx, s.db, query, registry, registry)
		if err != nil {
			return fmt.Errorf("store: summarize: %w", err)
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		nkeys := len(cols) - 8
		for rows.Next() {
			keys := make([]string, nkeys)
			var n int
			var c Counts
			dest := []any{}
			for i := range keys {
				dest = append(dest, &keys[i])
			}
			dest = append(dest, &n, &c.Critical, &c.High, &c.Medium, &c.Low, &c.Unknown, &c.Fixable, &c.KEV)
			if err := rows.Scan(dest...); err != nil {
				return err
			}
			row(keys, n, c)
		}
		return rows.Err()
	}
	repoIdx := map[[2]string]int{}
	if err := scan(`SELECT t.registry, t.repository, `+sums+` FROM (SELECT DISTINCT registry, repository, digest `+current+`) t
		LEFT JOIN image_counts c ON c.digest = t.digest GROUP BY t.registry, t.repository ORDER BY t.registry, t.repository`,
		func(k []string, n int, c Counts) {
			repoIdx[[2]string{k[0], k[1]}] = len(out.Repositories)
			out.Repositories = append(out.Repositories, RepositorySummary{Registry: k[0], Name: k[1], Images: n, Counts: c})
		}); err != nil {
		return nil, err
	}
	if err := s.fixTagCounts(ctx, registry, out.Repositories, repoIdx); err != nil {
		return nil, err
	}
	regs, err := s.Registries(ctx)
	if err != nil {
		return nil, err
	}
	regIdx := map[string]int{}
	for _, g := range regs {
		if registry == "" || g.URL == registry {
			regIdx[g.URL] = len(out.Registries)
			g.Images, g.Repositories = 0, 0 // as counted below
			out.Registries = append(out.Registries, RegistrySummary{Registry: g})
		}
	}
	if err := scan(`SELECT t.registry, `+sums+` FROM (SELECT DISTINCT registry, digest `+current+`) t
		LEFT JOIN image_counts c ON c.digest = t.digest GROUP BY t.registry`,
		func(k []string, n int, c Counts) {
			i, ok := regIdx[k[0]]
			if !ok { // tags of a registry no longer configured
				i = len(out.Registries)
				regIdx[k[0]] = i
				out.Registries = append(out.Registries, RegistrySummary{Registry: Registry{URL: k[0]}})
			}
			out.Registries[i].Images, out.Registries[i].Counts = n, c
		}); err != nil {
		return nil, err
	}
	for _, r := range out.Repositories {
		// The repositories with current tags, as listed.
		out.Registries[regIdx[r.Registry]].Repositories++
	}
	slices.SortFunc(out.Registries, func(a, b RegistrySummary) int { return strings.Compare(a.URL, b.URL) })
	if err := scan(`SELECT `+sums+` FROM (SELECT DISTINCT digest `+current+`) t LEFT JOIN image_counts c ON c.digest = t.digest`,
		func(_ []string, n int, c Counts) { out.Images, out.Counts = n, c }); err != nil {
		return nil, err
	}
	return out, nil
}

// fixTagCounts sets each repository's tag count to its distinct tags.
func (s *Store) fixTagCounts(ctx context.Context, registry string, repos []RepositorySummary, idx map[[2]string]int) error {
	rows, err := s.query(ctx, s.db, `SELECT registry, repository, COUNT(DISTINCT tag) FROM tags
		WHERE removed_at = 0 AND (CAST(? AS TEXT) = '' OR registry = ?) GROUP BY registry, repository`, registry, registry)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var reg, repo string
		var n int
		if err := rows.Scan(&reg, &repo, &n); err != nil {
			return err
		}
		if i, ok := idx[[2]string{reg, repo}]; ok {
			repos[i].Tags = n
		}
	}
	return rows.Err()
}

// RankedImage is an image with its current tags and open findings.
type RankedImage struct {
	Digest, Registry, Repository, Platform string
	ScannedAt                              time.Time
	Error                                  string
	Tags                                   []string // current "repository:tag"s
	Counts                                 Counts
}

// RankFilter selects the images RankImages lists.
type RankFilter struct {
	// Repository (full name) limits the list to the images its current
	// tags name; empty means every image some tag names.
	Repository   string
	Offset, Size int
}

// RankImages lists the images some tag names, most severe first (by
// critical, then high, medium and low findings), a page at a time, and
// returns how many there are in all. It lists the images RefreshCounts
// counted.
func (s *Store) RankImages(ctx context.Context, f RankFilter) ([]RankedImage, int, error) {
	scope := `SELECT digest FROM tags WHERE removed_at = 0`
	var args []any
	if f.Repository != "" {
		scope += ` AND repository = ?`
		args = append(args, f.Repository)
	}
	var total int
	if err := s.queryRow(ctx, s.db, `SELECT COUNT(DISTINCT digest) FROM (`+scope+`) x`, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: rank images: %w", err)
	}
	size := f.Size
	if size <= 0 || size > 500 {
		size = 50
	}
	// Every image has a row of counts once RefreshCounts ran; the rank
	// index gives them in order (SQLite's planner would rather sort
	// them all).
	rankIndex := ""
	if s.d.name == "sqlite" {
		rankIndex = "INDEXED BY image_counts_rank"
	}
	rows, err := s.query(ctx, s.db, `SELECT i.digest, i.registry, i.repository, i.platform, i.scanned_at, i.error,
			c.critical, c.high, c.medium, c.low, c.unknown, c.fixable, c.kev
		FROM image_counts c `+rankIndex+` JOIN images i ON i.digest = c.digest
		WHERE c.digest IN (`+scope+`)
		ORDER BY c.critical DESC, c.high DESC, c.medium DESC, c.low DESC, c.digest
		LIMIT ? OFFSET ?`, append(args, size, max(f.Offset, 0))...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: rank images: %w", err)
	}
	var out []RankedImage
	for rows.Next() {
		var img RankedImage
		var scanned int64
		c := &img.Counts
		if err := rows.Scan(&img.Digest, &img.Registry, &img.Repository, &img.Platform, &scanned, &img.Error,
			&c.Critical, &c.High, &c.Medium, &c.Low, &c.Unknown, &c.Fixable, &c.KEV); err != nil {
			rows.Close()
			return nil, 0, err
		}
		img.ScannedAt = fromMS(scanned)
		out = append(out, img)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	tags, err := s.currentTags(ctx, out)
	if err != nil {
		return nil, 0, err
	}
	for i := range out {
		out[i].Tags = tags[out[i].Digest]
	}
	return out, total, nil
}

// currentTags returns the current "repository:tag"s of imgs, in one query.
func (s *Store) currentTags(ctx context.Context, imgs []RankedImage) (map[string][]string, error) {
	out := map[string][]string{}
	if len(imgs) == 0 {
		return out, nil
	}
	args := make([]any, len(imgs))
	for i, img := range imgs {
		args[i] = img.Digest
	}
	rows, err := s.query(ctx, s.db, `SELECT DISTINCT digest, repository, tag FROM tags WHERE removed_at = 0 AND digest IN (`+placeholders(len(args))+`)
		ORDER BY digest, repository, tag`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var d, repo, tag string
		if err := rows.Scan(&d, &repo, &tag); err != nil {
			return nil, err
		}
		out[d] = append(out[d], repo+":"+tag)
	}
	return out, rows.Err()
}

// ImageCounts returns the open findings of one image, as last counted.
func (s *Store) ImageCounts(ctx context.Context, digest string) (Counts, error) {
	var c Counts
	err := s.queryRow(ctx, s.db, `SELECT critical, high, medium, low, unknown, fixable, kev FROM image_counts WHERE digest = ?`, digest).
		Scan(&c.Critical, &c.High, &c.Medium, &c.Low, &c.Unknown, &c.Fixable, &c.KEV)
	if errors.Is(err, sql.ErrNoRows) {
		return Counts{}, nil
	}
	return c, err
}

// FindingsOf returns every finding of an image, open ones first, each
// group most severe first.
func (s *Store) FindingsOf(ctx context.Context, digest string) ([]Finding, error) {
	fs, err := s.findings(ctx, s.db, `WHERE digest = ?`, digest)
	if err != nil {
		return nil, err
	}
	rank := func(sev string) int {
		switch sev {
		case "CRITICAL":
			return 0
		case "HIGH":
			return 1
		case "MEDIUM":
			return 2
		case "LOW":
			return 3
		}
		return 4
	}
	slices.SortFunc(fs, func(a, b Finding) int {
		if ao, bo := a.ResolvedAt.IsZero(), b.ResolvedAt.IsZero(); ao != bo {
			if ao {
				return -1
			}
			return 1
		}
		if d := rank(a.Severity) - rank(b.Severity); d != 0 {
			return d
		}
		return strings.Compare(a.Key(), b.Key())
	})
	return fs, nil
}

// Day is a day's open findings in the trend.
type Day struct {
	Day      time.Time // midnight UTC
	Counts   Counts
	Images   int
	Recorded bool // counted that day, not reconstructed
}

const dayMS = int64(24 * time.Hour / time.Millisecond)

// RecordDay stores today's (now's UTC day) open findings and images.
func (s *Store) RecordDay(ctx context.Context, now time.Time, images int, c Counts) error {
	_, err := s.exec(ctx, s.db, `INSERT INTO trend_days (day, critical, high, medium, low, unknown, fixable, kev, images, recorded)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
		ON CONFLICT (day) DO UPDATE SET critical = excluded.critical, high = excluded.high, medium = excluded.medium, low = excluded.low,
			unknown = excluded.unknown, fixable = excluded.fixable, kev = excluded.kev, images = excluded.images, recorded = 1`,
		ms(now)/dayMS, c.Critical, c.High, c.Medium, c.Low, c.Unknown, c.Fixable, c.KEV, images)
	if err != nil {
		return fmt.Errorf("store: record day: %w", err)
	}
	return nil
}

// Trend returns the open findings at the end of each of the days days
// before now's day (from the day the first tag was seen), and now's day as
// last recorded, oldest first. Days
// that nobody recorded are reconstructed, once, from the findings'
// first-seen and resolved-at and the times the tags named each image:
// a finding counts on a day when it was open at the day's end in an image
// that a tag named then.
func (s *Store) Trend(ctx context.Context, now time.Time, days int) ([]Day, error) {
	today := ms(now) / dayMS
	from := today - int64(days)
	// Nothing to show before the first tag was seen.
	var first sql.NullInt64
	if err := s.queryRow(ctx, s.db, `SELECT MIN(first_seen) FROM tags`).Scan(&first); err != nil {
		return nil, fmt.Errorf("store: trend: %w", err)
	}
	if first.Valid {
		from = max(from, first.Int64/dayMS)
	} else {
		from = today
	}
	have, err := s.trendDays(ctx, from, today)
	if err != nil {
		return nil, err
	}
	var missing []int64
	for d := from; d < today; d++ {
		if _, ok := have[d]; !ok {
			missing = append(missing, d)
		}
	}
	if len(missing) > 0 {
		if err := s.reconstruct(ctx, missing); err != nil {
			return nil, err
		}
		if have, err = s.trendDays(ctx, from, today); err != nil {
			return nil, err
		}
	}
	var out []Day
	for d := from; d <= today; d++ {
		if x, ok := have[d]; ok {
			out = append(out, x)
		}
	}
	return out, nil
}

func (s *Store) trendDays(ctx context.Context, from, to int64) (map[int64]Day, error) {
	rows, err := s.query(ctx, s.db, `SELECT day, critical, high, medium, low, unknown, fixable, kev, images, recorded FROM trend_days WHERE day >= ? AND day <= ?`, from, to)
	if err != nil {
		return nil, fmt.Errorf("store: trend: %w", err)
	}
	defer rows.Close()
	out := map[int64]Day{}
	for rows.Next() {
		var d int64
		var x Day
		var rec int
		c := &x.Counts
		if err := rows.Scan(&d, &c.Critical, &c.High, &c.Medium, &c.Low, &c.Unknown, &c.Fixable, &c.KEV, &x.Images, &rec); err != nil {
			return nil, err
		}
		x.Day, x.Recorded = time.UnixMilli(d*dayMS).UTC(), rec == 1
		out[d] = x
	}
	return out, rows.Err()
}

// reconstruct computes and stores the given past days.
func (s *Store) reconstruct(ctx context.Context, days []int64) error {
	first, last := days[0], days[len(days)-1]
	startMS, endMS := first*dayMS, (last+1)*dayMS
	// The span each image was named by some tag: from its first tag to
	// its last tag's removal (open while one is current).
	const forever = int64(1) << 62
	spans := map[string][2]int64{}
	rows, err := s.query(ctx, s.db, `SELECT digest, MIN(first_seen), MAX(CASE WHEN removed_at = 0 THEN ? ELSE removed_at END) FROM tags GROUP BY digest`, forever)
	if err != nil {
		return fmt.Errorf("store: trend: %w", err)
	}
	for rows.Next() {
		var d string
		var a, b int64
		if err := rows.Scan(&d, &a, &b); err != nil {
			rows.Close()
			return err
		}
		spans[d] = [2]int64{a, b}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	n := len(days)
	idx := make(map[int64]int, n)
	for i, d := range days {
		idx[d] = i
	}
	type acc struct {
		c      Counts
		images int
	}
	out := make([]acc, n)
	// open reports for each reconstructed day whether [start, end)
	// holds the day's last millisecond.
	each := func(start, end int64, fn func(i int)) {
		if end <= startMS || start >= endMS {
			return
		}
		for i, d := range days {
			at := (d+1)*dayMS - 1
			if start <= at && at < end {
				fn(i)
			}
		}
	}
	for _, sp := range spans {
		each(sp[0], sp[1], func(i int) { out[i].images++ })
	}
	frows, err := s.query(ctx, s.db, `SELECT digest, severity, CASE WHEN fixed_version <> '' THEN 1 ELSE 0 END, kev, first_seen, resolved_at FROM findings
		WHERE first_seen < ? AND (resolved_at = 0 OR resolved_at > ?)`, endMS, startMS)
	if err != nil {
		return fmt.Errorf("store: trend: %w", err)
	}
	for frows.Next() {
		var d, sev string
		var fixable, kev int
		var first, resolved int64
		if err := frows.Scan(&d, &sev, &fixable, &kev, &first, &resolved); err != nil {
			frows.Close()
			return err
		}
		sp, ok := spans[d]
		if !ok {
			continue // never tagged
		}
		if resolved == 0 {
			resolved = forever
		}
		each(max(first, sp[0]), min(resolved, sp[1]), func(i int) {
			out[i].c.addSeverity(sev, 1)
			if fixable == 1 {
				out[i].c.Fixable++
			}
			if kev != 0 {
				out[i].c.KEV++
			}
		})
	}
	frows.Close()
	if err := frows.Err(); err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		for i, d := range days {
			c := out[i].c
			// A day recorded meanwhile keeps its count.
			if _, err := s.exec(ctx, tx, `INSERT INTO trend_days (day, critical, high, medium, low, unknown, fixable, kev, images, recorded)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0) ON CONFLICT (day) DO NOTHING`,
				d, c.Critical, c.High, c.Medium, c.Low, c.Unknown, c.Fixable, c.KEV, out[i].images); err != nil {
				return fmt.Errorf("store: trend: %w", err)
			}
		}
		return nil
	})
}

// Session is a dashboard login.
type Session struct {
	// Token is the public identity of the token that logged in; Name is
	// its configured name.
	Token, Name string
	Created     time.Time
	Expires     time.Time
}

func sessionKey(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:])
}

// CreateSession records a login under the random session id id (only its
// hash is kept) and removes expired sessions.
func (s *Store) CreateSession(ctx context.Context, now time.Time, id string, sess Session) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.exec(ctx, tx, `DELETE FROM sessions WHERE expires_at < ?`, ms(now)); err != nil {
			return fmt.Errorf("store: sessions: %w", err)
		}
		if _, err := s.exec(ctx, tx, `INSERT INTO sessions (id_hash, token, name, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
			sessionKey(id), sess.Token, sess.Name, ms(now), ms(sess.Expires)); err != nil {
			return fmt.Errorf("store: sessions: %w", err)
		}
		return nil
	})
}

// LookupSession returns the unexpired session with id; ErrNotFound when
// there is none.
func (s *Store) LookupSession(ctx context.Context, now time.Time, id string) (Session, error) {
	var sess Session
	var created, expires int64
	err := s.queryRow(ctx, s.db, `SELECT token, name, created_at, expires_at FROM sessions WHERE id_hash = ? AND expires_at >= ?`,
		sessionKey(id), ms(now)).Scan(&sess.Token, &sess.Name, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, fmt.Errorf("session: %w", ErrNotFound)
	}
	if err != nil {
		return Session{}, fmt.Errorf("store: sessions: %w", err)
	}
	sess.Created, sess.Expires = fromMS(created), fromMS(expires)
	return sess, nil
}

// DeleteSession ends the session with id.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	if _, err := s.exec(ctx, s.db, `DELETE FROM sessions WHERE id_hash = ?`, sessionKey(id)); err != nil {
		return fmt.Errorf("store: sessions: %w", err)
	}
	return nil
}
