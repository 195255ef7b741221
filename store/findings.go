package store

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strconv"
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
	// Reachability is "unreachable" when none of the vulnerable symbols
	// the advisory names is in the Go executable (docs/reachability.md);
	// empty when unknown.
	Reachability string
	FirstSeen    time.Time
	LastSeen     time.Time
	ResolvedAt   time.Time
	Resolution   string

	detailsHash string // details(), once computed
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
	// Resolved are the findings open before and absent now, each with its
	// key (VulnID, PkgName, PkgVersion, Target), FirstSeen, ResolvedAt and
	// Resolution.
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
	m := Matched{Digest: digest, DBDigest: dbDigest, Found: found, Resolution: resolution, AlertsFor: alertsFor}
	var ch Change
	err := s.tx(ctx, func(tx *sql.Tx) error {
		aliases := aliasSet{}
		var err error
		if ch, err = s.apply(ctx, tx, now, &m, aliases); err != nil {
			return err
		}
		return s.writeAliases(ctx, tx, aliases)
	})
	if err != nil {
		return Change{}, err
	}
	return ch, nil
}

// Matched is one image's findings from one match, to apply.
type Matched struct {
	Digest, DBDigest string
	Found            []Finding
	// Resolution is recorded on the findings the match no longer found.
	Resolution string
	// AlertsFor returns the outbox entries of the change; nil adds none.
	AlertsFor func(Change) ([]Alert, error)
	// KnownHash is the image's findings hash as read before the match
	// (StoredInput.FindingsHash): when the match found exactly what it
	// says, only the image's database digest and match time are written.
	KnownHash string

	hash string // FindingsHash(Found), once computed
	// open and rev are the image's open findings and their revision, when
	// read before the transaction (ReadFindings).
	open []storedFinding
	rev  int64
	read bool
}

// ReadFindings reads the open findings of m's image that applying m
// compares with, so that callers can do it in parallel, before the
// store's write lock is taken; m is then applied against them if they are
// still the image's findings (none changed since, as the image's findings
// revision says), else against the findings read again. Nothing is read
// when the match found what the image's findings hash says.
func (s *Store) ReadFindings(ctx context.Context, m *Matched) error {
	m.Prepare()
	if m.KnownHash != "" && m.KnownHash == m.hash {
		return nil
	}
	// One statement: the revision and the findings of one snapshot.
	rows, err := s.query(ctx, s.db, `SELECT i.findings_rev, f.vuln_id, f.pkg_name, f.pkg_version, f.target, f.details, f.first_seen
		FROM images i LEFT JOIN findings f ON f.digest = i.digest AND f.resolved_at = 0 WHERE i.digest = ?`, m.Digest)
	if err != nil {
		return fmt.Errorf("store: findings of %s: %w", m.Digest, err)
	}
	defer rows.Close()
	m.open, m.read = nil, false
	for rows.Next() {
		var vuln, pkg, version, target, details sql.NullString
		var first sql.NullInt64
		if err := rows.Scan(&m.rev, &vuln, &pkg, &version, &target, &details, &first); err != nil {
			return fmt.Errorf("store: findings of %s: %w", m.Digest, err)
		}
		if !vuln.Valid {
			continue // an image without open findings
		}
		m.open = append(m.open, storedFinding{Finding: Finding{Digest: m.Digest, VulnID: vuln.String, PkgName: pkg.String, PkgVersion: version.String,
			Target: target.String, FirstSeen: fromMS(first.Int64)}, detailsHash: details.String})
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: findings of %s: %w", m.Digest, err)
	}
	m.read = true
	return nil
}

// Prepare computes what applying m compares (its findings' hashes), so
// that callers can do it in parallel, outside the store's write lock.
// Applying calls it when the caller did not.
func (m *Matched) Prepare() {
	if m.hash == "" {
		m.hash = FindingsHash(m.Found)
	}
}

// JobsDone are claimed jobs to mark done with the findings of their match.
type JobsDone struct {
	Owner string
	IDs   []int64
}

// ApplyMatches applies many images' matches (as ApplyFindings does each)
// and marks done jobs that owner still holds, all in one transaction. It
// returns each match's change, in order.
func (s *Store) ApplyMatches(ctx context.Context, now time.Time, matches []Matched, done JobsDone) ([]Change, error) {
	out := make([]Change, len(matches))
	err := s.tx(ctx, func(tx *sql.Tx) error {
		aliases := aliasSet{}
		for i := range matches {
			ch, err := s.apply(ctx, tx, now, &matches[i], aliases)
			if err != nil {
				return err
			}
			out[i] = ch
		}
		for start := 0; start < len(done.IDs); start += 500 {
			chunk := done.IDs[start:min(start+500, len(done.IDs))]
			args := []any{ms(now), done.Owner}
			for _, id := range chunk {
				args = append(args, id)
			}
			if _, err := s.exec(ctx, tx, `UPDATE jobs SET state = 'done', last_error = '', lease_owner = '', updated_at = ?
				WHERE lease_owner = ? AND state = 'running' AND id IN (`+placeholders(len(chunk))+`)`, args...); err != nil {
				return fmt.Errorf("store: complete jobs: %w", err)
			}
		}
		return s.writeAliases(ctx, tx, aliases)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// FindingsHash identifies a set of findings with their details, whatever
// their order: what ApplyFindings records of an image's open findings.
func FindingsHash(found []Finding) string {
	lines := make([]string, 0, len(found))
	for i := range found {
		lines = append(lines, found[i].Key()+"\x00"+found[i].details()) // the details are kept for apply
	}
	slices.Sort(lines)
	lines = slices.Compact(lines)
	h := sha256.New()
	for _, l := range lines {
		h.Write([]byte(l))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// details returns a hash of what a finding says beyond its key, as
// stored: equal hashes, equal details.
func (f *Finding) details() string {
	if f.detailsHash != "" {
		return f.detailsHash
	}
	// FNV-1a, 64 bits: a change goes unnoticed with odds of 2⁻⁶⁴.
	h := fnv.New64a()
	var buf [64]byte
	field := func(b []byte) {
		h.Write(b)
		h.Write([]byte{0})
	}
	for _, v := range []string{f.Severity, f.FixedVersion, f.Status, truncate(f.Title, 500), f.URL, f.Reachability} {
		field([]byte(v))
	}
	for _, a := range f.Aliases {
		h.Write([]byte(a))
		h.Write([]byte{' '})
	}
	field(nil)
	field(strconv.AppendBool(buf[:0], f.KEV))
	field(strconv.AppendFloat(buf[:0], f.EPSS, 'g', -1, 64))
	field(strconv.AppendFloat(buf[:0], f.EPSSPercentile, 'g', -1, 64))
	f.detailsHash = strconv.FormatUint(h.Sum64(), 36)
	return f.detailsHash
}

// apply makes m.Found the open findings of m.Digest within tx. The
// aliases of the findings it writes are added to aliases, for the caller to
// write last (writeAliases).
func (s *Store) apply(ctx context.Context, tx *sql.Tx, now time.Time, m *Matched, aliases aliasSet) (Change, error) {
	m.Prepare()
	hash := m.hash
	if m.KnownHash != "" && m.KnownHash == hash {
		// The same findings as when last applied: nothing new, nothing
		// resolved, no alert; the image was matched again.
		res, err := s.exec(ctx, tx, `UPDATE images SET db_digest = ?, matched_at = ? WHERE digest = ? AND findings_hash = ?`, m.DBDigest, ms(now), m.Digest, hash)
		if err != nil {
			return Change{}, fmt.Errorf("store: image %s: %w", m.Digest, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return Change{}, nil
		}
		// Changed since it was read: the whole comparison below.
	}
	digest := m.Digest
	var ch Change
	// The findings compared with: those read before the transaction if
	// none changed since (the revision is the same), else read now. The
	// revision moves either way: the findings change below.
	prev := m.open
	current := false
	if m.read {
		res, err := s.exec(ctx, tx, `UPDATE images SET findings_rev = findings_rev + 1 WHERE digest = ? AND findings_rev = ?`, digest, m.rev)
		if err != nil {
			return Change{}, fmt.Errorf("store: image %s: %w", digest, err)
		}
		n, _ := res.RowsAffected()
		current = n == 1
	}
	if !current {
		if _, err := s.exec(ctx, tx, `UPDATE images SET findings_rev = findings_rev + 1 WHERE digest = ?`, digest); err != nil {
			return Change{}, fmt.Errorf("store: image %s: %w", digest, err)
		}
		var err error
		if prev, err = s.stored(ctx, tx, digest); err != nil {
			return Change{}, err
		}
	}
	old := make(map[string]*storedFinding, len(prev))
	for i := range prev {
		old[prev[i].Key()] = &prev[i]
	}
	found := m.Found
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
		if !ok {
			// New, or found again after it was resolved: written, with
			// its aliases, below.
			f.FirstSeen, f.LastSeen = now, now
			inserts = append(inserts, f)
			continue
		}
		f.FirstSeen, f.LastSeen = o.FirstSeen, now
		details := f.details()
		if o.detailsHash == details {
			// Unchanged: nothing is written. An open finding's last_seen
			// is its image's matched_at.
			continue
		}
		if _, err := s.exec(ctx, tx, `UPDATE findings SET severity = ?, fixed_version = ?, status = ?, kev = ?, epss = ?, epss_pct = ?, aliases = ?, title = ?, url = ?,
			reachability = ?, details = ?, last_seen = ? WHERE digest = ? AND vuln_id = ? AND pkg_name = ? AND pkg_version = ? AND target = ?`,
			f.Severity, f.FixedVersion, f.Status, b2i(f.KEV), f.EPSS, f.EPSSPercentile, strings.Join(f.Aliases, " "), truncate(f.Title, 500), f.URL,
			f.Reachability, details, ms(now), digest, f.VulnID, f.PkgName, f.PkgVersion, f.Target); err != nil {
			return Change{}, fmt.Errorf("store: finding %s: %w", k, err)
		}
		aliases.add(f)
	}
	for _, f := range inserts {
		aliases.add(f)
	}
	if err := s.insertFindings(ctx, tx, digest, now, inserts); err != nil {
		return Change{}, err
	}
	for _, f := range inserts {
		ch.New = append(ch.New, *f)
	}
	for i := range prev {
		o := &prev[i]
		if seen[o.Key()] {
			continue
		}
		if _, err := s.exec(ctx, tx, `UPDATE findings SET resolved_at = ?, resolution = ? WHERE digest = ? AND vuln_id = ? AND pkg_name = ? AND pkg_version = ? AND target = ?`,
			ms(now), m.Resolution, digest, o.VulnID, o.PkgName, o.PkgVersion, o.Target); err != nil {
			return Change{}, err
		}
		o.ResolvedAt, o.Resolution = now, m.Resolution
		ch.Resolved = append(ch.Resolved, o.Finding)
	}
	if _, err := s.exec(ctx, tx, `UPDATE images SET db_digest = ?, matched_at = ?, findings_hash = ? WHERE digest = ?`, m.DBDigest, ms(now), hash, digest); err != nil {
		return Change{}, err
	}
	if m.AlertsFor == nil {
		return ch, nil
	}
	alerts, err := m.AlertsFor(ch)
	if err != nil {
		return Change{}, err
	}
	return ch, s.addAlerts(ctx, tx, now, alerts)
}

// storedFinding is a stored finding as apply compares it: its key, first
// seen and resolved times, and the hash of its details.
type storedFinding struct {
	Finding
	detailsHash string
}

// stored reads the open findings of digest, with only what apply compares
// (resolved ones, which accumulate with time, are not read).
func (s *Store) stored(ctx context.Context, tx *sql.Tx, digest string) ([]storedFinding, error) {
	rows, err := s.query(ctx, tx, `SELECT vuln_id, pkg_name, pkg_version, target, details, first_seen, resolved_at FROM findings WHERE digest = ? AND resolved_at = 0`, digest)
	if err != nil {
		return nil, fmt.Errorf("store: findings of %s: %w", digest, err)
	}
	defer rows.Close()
	var out []storedFinding
	for rows.Next() {
		f := storedFinding{Finding: Finding{Digest: digest}}
		var first, resolved int64
		if err := rows.Scan(&f.VulnID, &f.PkgName, &f.PkgVersion, &f.Target, &f.detailsHash, &first, &resolved); err != nil {
			return nil, err
		}
		f.FirstSeen, f.ResolvedAt = fromMS(first), fromMS(resolved)
		out = append(out, f)
	}
	return out, rows.Err()
}

// insertBatch is the number of findings inserted by one statement.
const insertBatch = 100

// insertFindings writes findings of digest that are not open: new ones
// are inserted, resolved ones opened again with their details (keeping
// when they were first seen, which it sets in fs), many per statement.
func (s *Store) insertFindings(ctx context.Context, tx *sql.Tx, digest string, now time.Time, fs []*Finding) error {
	for start := 0; start < len(fs); start += insertBatch {
		chunk := fs[start:min(start+insertBatch, len(fs))]
		var b strings.Builder
		b.WriteString(`INSERT INTO findings (digest, vuln_id, pkg_name, pkg_version, target, severity, fixed_version, status, kev, epss, epss_pct, aliases, title, url, reachability, details, first_seen, last_seen) VALUES `)
		args := make([]any, 0, 18*len(chunk))
		byKey := make(map[string]*Finding, len(chunk))
		for i, f := range chunk {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
			args = append(args, digest, f.VulnID, f.PkgName, f.PkgVersion, f.Target, f.Severity, f.FixedVersion, f.Status, b2i(f.KEV), f.EPSS, f.EPSSPercentile,
				strings.Join(f.Aliases, " "), truncate(f.Title, 500), f.URL, f.Reachability, f.details(), ms(now), ms(now))
			byKey[f.Key()] = f
		}
		// A conflict is a resolved finding found again: opened, its
		// first_seen kept and returned.
		b.WriteString(` ON CONFLICT (digest, vuln_id, pkg_name, pkg_version, target) DO UPDATE SET severity = excluded.severity, fixed_version = excluded.fixed_version,
			status = excluded.status, kev = excluded.kev, epss = excluded.epss, epss_pct = excluded.epss_pct, aliases = excluded.aliases, title = excluded.title,
			url = excluded.url, reachability = excluded.reachability, details = excluded.details, last_seen = excluded.last_seen, resolved_at = 0, resolution = ''
			RETURNING vuln_id, pkg_name, pkg_version, target, first_seen`)
		rows, err := s.query(ctx, tx, b.String(), args...)
		if err != nil {
			return fmt.Errorf("store: findings of %s: %w", digest, err)
		}
		for rows.Next() {
			var f Finding
			var first int64
			if err := rows.Scan(&f.VulnID, &f.PkgName, &f.PkgVersion, &f.Target, &first); err != nil {
				rows.Close()
				return fmt.Errorf("store: findings of %s: %w", digest, err)
			}
			if in := byKey[f.Key()]; in != nil {
				in.FirstSeen = fromMS(first)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: findings of %s: %w", digest, err)
		}
	}
	return nil
}

// aliasSet collects the (alias, id) pairs of the findings a transaction
// writes.
type aliasSet map[[2]string]struct{}

func (a aliasSet) add(f *Finding) {
	for _, alias := range f.Aliases {
		a[[2]string{alias, f.VulnID}] = struct{}{}
	}
}

// writeAliases records the pairs of a, in one order every transaction
// shares, as a transaction's last writes. The aliases table is the one that
// transactions of different images (and servers) write to alike: on
// PostgreSQL two transactions inserting the same rows in different orders
// deadlock, and one that inserted them before its other writes would hold
// their locks while waiting on another's; sorted and last, one simply
// waits for the other.
func (s *Store) writeAliases(ctx context.Context, tx *sql.Tx, a aliasSet) error {
	if len(a) == 0 {
		return nil
	}
	pairs := slices.SortedFunc(maps.Keys(a), func(x, y [2]string) int {
		return cmp.Or(strings.Compare(x[0], y[0]), strings.Compare(x[1], y[1]))
	})
	for start := 0; start < len(pairs); start += insertBatch {
		part := pairs[start:min(start+insertBatch, len(pairs))]
		args := make([]any, 0, 2*len(part))
		for _, p := range part {
			args = append(args, p[0], p[1])
		}
		q := `INSERT INTO aliases (alias, vuln_id) VALUES ` + strings.Repeat("(?, ?),", len(part)-1) + `(?, ?) ON CONFLICT DO NOTHING`
		if _, err := s.exec(ctx, tx, q, args...); err != nil {
			return fmt.Errorf("store: aliases: %w", err)
		}
	}
	return nil
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
		// The open findings are no longer what the last match found.
		_, err = s.exec(ctx, tx, `UPDATE images SET findings_hash = '', findings_rev = findings_rev + 1 WHERE digest = ?`, digest)
		return err
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
	rows, err := s.query(ctx, q, `SELECT digest, vuln_id, pkg_name, pkg_version, target, severity, fixed_version, status, kev, epss, epss_pct, aliases, title, url, reachability, first_seen,
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
			&aliases, &f.Title, &f.URL, &f.Reachability, &first, &last, &resolved, &f.Resolution); err != nil {
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
