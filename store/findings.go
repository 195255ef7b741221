package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Finding is one vulnerability of one package of one image.
type Finding struct {
	Digest         string
	VulnID         string
	PkgName        string
	PkgVersion     string
	Target         string
	Severity       string
	FixedVersion   string
	Status         string
	KEV            bool
	EPSS           float64
	EPSSPercentile float64
	Aliases        []string
	Title          string
	URL            string
	FirstSeen      time.Time
	LastSeen       time.Time
	ResolvedAt     time.Time
	Resolution     string
}

// Key identifies the finding within its image.
func (f *Finding) Key() string {
	return f.VulnID + " " + f.PkgName + " " + f.PkgVersion + " " + f.Target
}

// Change is what ApplyFindings did to an image's findings.
type Change struct {
	// New are the findings that were not open before (first seen, or
	// seen again after being resolved).
	New []Finding
	// Resolved are the findings open before and absent now.
	Resolved []Finding
}

// Alert is an outbox entry: one finding of one image for one route.
type Alert struct {
	Route   string
	Digest  string
	Finding string // Finding.Key
	Event   string // what raised it, for batching and the log
	Payload string // the alert, JSON
}

// ApplyFindings makes found the open findings of digest, matched against
// the database dbDigest, in one transaction: new findings are inserted,
// those still present have last_seen moved, those absent are resolved with
// resolution, and the outbox entries alertsFor returns for the change are
// added (an entry a route already has for that finding is never added
// again). Running it twice with the same input changes nothing the second
// time.
func (s *Store) ApplyFindings(ctx context.Context, now time.Time, digest, dbDigest string, found []Finding, resolution string,
	alertsFor func(Change) ([]Alert, error)) (Change, error) {
	var ch Change
	err := s.tx(ctx, func(tx *sql.Tx) error {
		ch = Change{}
		prev, err := s.findings(ctx, tx, `WHERE digest = ?`, digest)
		if err != nil {
			return err
		}
		old := make(map[string]*Finding, len(prev))
		for i := range prev {
			old[prev[i].Key()] = &prev[i]
		}
		seen := make(map[string]bool, len(found))
		var inserts []*Finding
		for i := range found {
			f := &found[i]
			f.Digest = digest
			k := f.Key()
			if seen[k] {
				continue
			}
			seen[k] = true
			o, ok := old[k]
			switch {
			case !ok:
				f.FirstSeen, f.LastSeen = now, now
				inserts = append(inserts, f)
				ch.New = append(ch.New, *f)
				continue // inserted, with its aliases, below
			default:
				f.FirstSeen, f.LastSeen = o.FirstSeen, now
				if o.ResolvedAt.IsZero() && sameDetails(o, f) {
					// Unchanged: nothing is written. An open finding's
					// last_seen is its image's matched_at.
					continue
				}
				if _, err := s.exec(ctx, tx, `UPDATE findings SET severity = ?, fixed_version = ?, status = ?, kev = ?, epss = ?, epss_pct = ?, aliases = ?, title = ?, url = ?,
					last_seen = ?, resolved_at = 0, resolution = '' WHERE digest = ? AND vuln_id = ? AND pkg_name = ? AND pkg_version = ? AND target = ?`,
					f.Severity, f.FixedVersion, f.Status, b2i(f.KEV), f.EPSS, f.EPSSPercentile, strings.Join(f.Aliases, " "), truncate(f.Title, 500), f.URL,
					ms(now), digest, f.VulnID, f.PkgName, f.PkgVersion, f.Target); err != nil {
					return fmt.Errorf("store: finding %s: %w", k, err)
				}
				if !o.ResolvedAt.IsZero() {
					ch.New = append(ch.New, *f) // found again after it was resolved
				}
			}
			for _, a := range f.Aliases {
				if _, err := s.exec(ctx, tx, `INSERT INTO aliases (alias, vuln_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, a, f.VulnID); err != nil {
					return err
				}
			}
		}
		if err := s.insertFindings(ctx, tx, digest, now, inserts); err != nil {
			return err
		}
		for i := range prev {
			o := &prev[i]
			if seen[o.Key()] || !o.ResolvedAt.IsZero() {
				continue
			}
			if _, err := s.exec(ctx, tx, `UPDATE findings SET resolved_at = ?, resolution = ? WHERE digest = ? AND vuln_id = ? AND pkg_name = ? AND pkg_version = ? AND target = ?`,
				ms(now), resolution, digest, o.VulnID, o.PkgName, o.PkgVersion, o.Target); err != nil {
				return err
			}
			o.ResolvedAt, o.Resolution = now, resolution
			ch.Resolved = append(ch.Resolved, *o)
		}
		if _, err := s.exec(ctx, tx, `UPDATE images SET db_digest = ?, matched_at = ? WHERE digest = ?`, dbDigest, ms(now), digest); err != nil {
			return err
		}
		if alertsFor == nil {
			return nil
		}
		alerts, err := alertsFor(ch)
		if err != nil {
			return err
		}
		return s.addAlerts(ctx, tx, now, alerts)
	})
	if err != nil {
		return Change{}, err
	}
	return ch, nil
}

// insertBatch is the number of findings inserted by one statement.
const insertBatch = 100

// insertFindings inserts new findings of digest, many per statement, and
// records their aliases.
func (s *Store) insertFindings(ctx context.Context, tx *sql.Tx, digest string, now time.Time, fs []*Finding) error {
	for start := 0; start < len(fs); start += insertBatch {
		chunk := fs[start:min(start+insertBatch, len(fs))]
		var b strings.Builder
		b.WriteString(`INSERT INTO findings (digest, vuln_id, pkg_name, pkg_version, target, severity, fixed_version, status, kev, epss, epss_pct, aliases, title, url, first_seen, last_seen) VALUES `)
		args := make([]any, 0, 16*len(chunk))
		var aliasArgs []any
		for i, f := range chunk {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
			args = append(args, digest, f.VulnID, f.PkgName, f.PkgVersion, f.Target, f.Severity, f.FixedVersion, f.Status, b2i(f.KEV), f.EPSS, f.EPSSPercentile,
				strings.Join(f.Aliases, " "), truncate(f.Title, 500), f.URL, ms(now), ms(now))
			for _, a := range f.Aliases {
				aliasArgs = append(aliasArgs, a, f.VulnID)
			}
		}
		if _, err := s.exec(ctx, tx, b.String(), args...); err != nil {
			return fmt.Errorf("store: findings of %s: %w", digest, err)
		}
		for a := 0; a < len(aliasArgs); a += 2 * insertBatch {
			part := aliasArgs[a:min(a+2*insertBatch, len(aliasArgs))]
			q := `INSERT INTO aliases (alias, vuln_id) VALUES ` + strings.Repeat("(?, ?),", len(part)/2-1) + `(?, ?) ON CONFLICT DO NOTHING`
			if _, err := s.exec(ctx, tx, q, part...); err != nil {
				return fmt.Errorf("store: aliases: %w", err)
			}
		}
	}
	return nil
}

// sameDetails reports whether a stored finding says what a new match says.
func sameDetails(o, f *Finding) bool {
	return o.Severity == f.Severity && o.FixedVersion == f.FixedVersion && o.Status == f.Status && o.KEV == f.KEV &&
		o.EPSS == f.EPSS && o.EPSSPercentile == f.EPSSPercentile && o.Title == truncate(f.Title, 500) && o.URL == f.URL &&
		strings.Join(o.Aliases, " ") == strings.Join(f.Aliases, " ")
}

// ResolveFindings resolves the open findings of digest whose keys are in
// keys (a rebuilt tag no longer has them).
func (s *Store) ResolveFindings(ctx context.Context, now time.Time, digest string, keys []string, resolution string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		open, err := s.findings(ctx, tx, `WHERE digest = ? AND resolved_at = 0`, digest)
		if err != nil {
			return err
		}
		for _, f := range open {
			if !slices.Contains(keys, f.Key()) {
				continue
			}
			if _, err := s.exec(ctx, tx, `UPDATE findings SET resolved_at = ?, resolution = ? WHERE digest = ? AND vuln_id = ? AND pkg_name = ? AND pkg_version = ? AND target = ?`,
				ms(now), resolution, digest, f.VulnID, f.PkgName, f.PkgVersion, f.Target); err != nil {
				return err
			}
		}
		return nil
	})
}

// OpenFindings returns the open findings of digest.
func (s *Store) OpenFindings(ctx context.Context, digest string) ([]Finding, error) {
	return s.findings(ctx, s.db, `WHERE digest = ? AND resolved_at = 0 ORDER BY vuln_id, pkg_name, pkg_version, target`, digest)
}

// FindingFilter selects findings.
type FindingFilter struct {
	Digest      string
	VulnID      string // the id or one of its aliases
	Package     string
	MinSeverity string // CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN
	Fixable     bool
	KEV         bool
	Resolved    bool // resolved findings instead of open ones
	Offset      int
	Limit       int
}

// Findings lists findings.
func (s *Store) Findings(ctx context.Context, f FindingFilter) ([]Finding, error) {
	where := []string{"resolved_at = 0"}
	if f.Resolved {
		where[0] = "resolved_at <> 0"
	}
	var args []any
	if f.Digest != "" {
		where = append(where, "digest = ?")
		args = append(args, f.Digest)
	}
	if f.VulnID != "" {
		where = append(where, "vuln_id IN (SELECT CAST(? AS TEXT) UNION SELECT vuln_id FROM aliases WHERE alias = ?)")
		args = append(args, f.VulnID, f.VulnID)
	}
	if f.Package != "" {
		where = append(where, "pkg_name = ?")
		args = append(args, f.Package)
	}
	if sev := severitiesFrom(f.MinSeverity); sev != nil {
		where = append(where, "severity IN ("+placeholders(len(sev))+")")
		for _, s := range sev {
			args = append(args, s)
		}
	}
	if f.Fixable {
		where = append(where, "fixed_version <> ''")
	}
	if f.KEV {
		where = append(where, "kev = 1")
	}
	args = append(args, cmpLimit(f.Limit), max(f.Offset, 0))
	return s.findings(ctx, s.db, "WHERE "+strings.Join(where, " AND ")+" ORDER BY digest, vuln_id, pkg_name, pkg_version, target LIMIT ? OFFSET ?", args...)
}

// severitiesFrom returns the severities at least min; nil for no bound.
func severitiesFrom(min string) []string {
	all := []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"}
	i := slices.Index(all, strings.ToUpper(min))
	if i < 0 || i == len(all)-1 {
		return nil
	}
	return all[:i+1]
}

func (s *Store) findings(ctx context.Context, q querier, where string, args ...any) ([]Finding, error) {
	// An open finding was last seen when its image was last matched.
	rows, err := s.query(ctx, q, `SELECT digest, vuln_id, pkg_name, pkg_version, target, severity, fixed_version, status, kev, epss, epss_pct, aliases, title, url, first_seen,
		CASE WHEN resolved_at = 0 THEN COALESCE((SELECT matched_at FROM images WHERE images.digest = findings.digest), last_seen) ELSE last_seen END,
		resolved_at, resolution FROM findings `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("store: findings: %w", err)
	}
	defer rows.Close()
	var out []Finding
	for rows.Next() {
		var f Finding
		var kev int
		var aliases string
		var first, last, resolved int64
		if err := rows.Scan(&f.Digest, &f.VulnID, &f.PkgName, &f.PkgVersion, &f.Target, &f.Severity, &f.FixedVersion, &f.Status, &kev, &f.EPSS, &f.EPSSPercentile,
			&aliases, &f.Title, &f.URL, &first, &last, &resolved, &f.Resolution); err != nil {
			return nil, err
		}
		f.KEV = kev != 0
		if aliases != "" {
			f.Aliases = strings.Split(aliases, " ")
		}
		f.FirstSeen, f.LastSeen, f.ResolvedAt = fromMS(first), fromMS(last), fromMS(resolved)
		out = append(out, f)
	}
	return out, rows.Err()
}

// Affected is an image with open findings of one vulnerability.
type Affected struct {
	Digest     string
	Registry   string
	Repository string
	Tags       []string // current "tag"s in Repository; other repositories' in RepoTags
	RepoTags   []string // every current "repository:tag"
	Findings   []Finding
}

// AffectedBy returns every image with an open finding of id (or of a
// vulnerability that has id as an alias), with its current tags. Its cost
// is one indexed lookup per table.
func (s *Store) AffectedBy(ctx context.Context, id string) ([]Affected, error) {
	fs, err := s.findings(ctx, s.db, `WHERE vuln_id IN (SELECT CAST(? AS TEXT) UNION SELECT vuln_id FROM aliases WHERE alias = ?) AND resolved_at = 0 ORDER BY digest, pkg_name, pkg_version`, id, id)
	if err != nil {
		return nil, err
	}
	var out []Affected
	idx := map[string]int{}
	for _, f := range fs {
		i, ok := idx[f.Digest]
		if !ok {
			i = len(out)
			idx[f.Digest] = i
			out = append(out, Affected{Digest: f.Digest})
		}
		out[i].Findings = append(out[i].Findings, f)
	}
	if len(out) == 0 {
		return nil, nil
	}
	digests := make([]any, 0, len(out))
	for _, a := range out {
		digests = append(digests, a.Digest)
	}
	for start := 0; start < len(digests); start += 500 {
		chunk := digests[start:min(start+500, len(digests))]
		rows, err := s.query(ctx, s.db, `SELECT DISTINCT t.digest, t.registry, t.repository, t.tag FROM tags t WHERE t.removed_at = 0 AND t.digest IN (`+placeholders(len(chunk))+`)
			ORDER BY t.digest, t.repository, t.tag`, chunk...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var d, reg, repo, tag string
			if err := rows.Scan(&d, &reg, &repo, &tag); err != nil {
				rows.Close()
				return nil, err
			}
			a := &out[idx[d]]
			if a.Repository == "" {
				a.Registry, a.Repository = reg, repo
			}
			if repo == a.Repository {
				a.Tags = append(a.Tags, tag)
			}
			a.RepoTags = append(a.RepoTags, repo+":"+tag)
		}
		rows.Close()
	}
	// Images no tag names any more keep the repository they came from.
	for i := range out {
		if out[i].Repository == "" {
			var reg, repo string
			if err := s.queryRow(ctx, s.db, `SELECT registry, repository FROM images WHERE digest = ?`, out[i].Digest).Scan(&reg, &repo); err == nil {
				out[i].Registry, out[i].Repository = reg, repo
			}
		}
	}
	return out, nil
}

// PackageUse is an image holding a package.
type PackageUse struct {
	Digest, Name, Version, Type, Purl, Target string
}

// Packages returns every stored image package named name.
func (s *Store) Packages(ctx context.Context, name string) ([]PackageUse, error) {
	rows, err := s.query(ctx, s.db, `SELECT digest, name, version, type, purl, target FROM packages WHERE name = ? ORDER BY digest`, name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PackageUse
	for rows.Next() {
		var p PackageUse
		if err := rows.Scan(&p.Digest, &p.Name, &p.Version, &p.Type, &p.Purl, &p.Target); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// RecordDBChange records what a database change made appear and
// disappear; counts add up across the servers that re-matched.
func (s *Store) RecordDBChange(ctx context.Context, now time.Time, dbDigest string, builtAt time.Time, appeared, disappeared int) error {
	_, err := s.exec(ctx, s.db, `INSERT INTO db_changes (db_digest, built_at, noticed_at, appeared, disappeared) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (db_digest) DO UPDATE SET appeared = db_changes.appeared + excluded.appeared, disappeared = db_changes.disappeared + excluded.disappeared`,
		dbDigest, ms(builtAt), ms(now), appeared, disappeared)
	return err
}

// DBChange is one database change and what it did.
type DBChange struct {
	DBDigest              string
	BuiltAt, NoticedAt    time.Time
	Appeared, Disappeared int
}

// DBChanges lists the database changes, newest first.
func (s *Store) DBChanges(ctx context.Context, limit int) ([]DBChange, error) {
	rows, err := s.query(ctx, s.db, `SELECT db_digest, built_at, noticed_at, appeared, disappeared FROM db_changes ORDER BY noticed_at DESC LIMIT ?`, cmpLimit(limit))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []DBChange
	for rows.Next() {
		var c DBChange
		var built, noticed int64
		if err := rows.Scan(&c.DBDigest, &built, &noticed, &c.Appeared, &c.Disappeared); err != nil {
			return nil, err
		}
		c.BuiltAt, c.NoticedAt = fromMS(built), fromMS(noticed)
		out = append(out, c)
	}
	return out, rows.Err()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
