// Package redhat reads Red Hat's CSAF VEX documents, one per CVE,
// https://security.access.redhat.com/data/csaf/v2/vex/.
//
// Why VEX and not OVAL: VEX is Red Hat's recommended data for scanners and
// is the only feed that states, per product and component, unfixed
// (known_affected) issues together with their remediation ("Will not
// fix", "Out of support scope", "Affected", "Fix deferred") and the
// components that are known_not_affected; OVAL v2 patch definitions list
// fixes only, and its "unpatched" streams lose the won't-fix distinction.
//
// Layout: <base>/<year>/cve-<year>-<n>.json, listed one path per line by
// <base>/index.txt (or, when absent, by the first column of changes.csv);
// deletions.csv names withdrawn documents, which are skipped. With
// Options.Archive, the full archive named by archive_latest.txt
// (csaf_vex_<date>.tar.zst) is read instead, and documents changes.csv
// lists as changed on or after the archive's date are fetched one by one.
// A file:// mirror laid out like upstream works either way.
//
// Records: one Vulnerability per CVE (summary as title, description,
// aggregate severity, CVSS from scores, CWE, references including the
// RHSA links, release and last-change dates) and one Affected per (RHEL
// major, package, module stream, status), source "redhat", ecosystem
// "redhat:<major>" from the platform's CPE (cpe:/o:redhat:enterprise_linux:9::baseos
// → "redhat:9"), scheme rpm. Packages are named as Red Hat lists them:
// binary RPMs and the .src RPM for fixes, source packages for unfixed
// components. Fixed versions are "epoch:version-release" when an epoch is
// given. Module streams come from the rpmmod purl qualifier, from
// rpm → module → platform relationship chains (pkg:rpmmod purls) or from
// legacy "nodejs:18/nodejs" component names, and fill Modularitylabel
// ("nodejs:18"). The per-product impact threat gives Affected.Severity.
//
// Status mapping: fixed → fixed; known_not_affected → not_affected;
// known_affected → affected, refined by its remediation: no_fix_planned
// "Will not fix" → will_not_fix, "Out of support scope" → end_of_life,
// none_available ("Affected", "Fix deferred") → affected (a deferred fix
// may still ship). under_investigation is not recorded. Documents that
// carry remediations without product_status get their statuses from the
// remediations.
//
// Limits: only main-stream RHEL products (CPE product enterprise_linux)
// are recorded; EUS/AUS/E4S/TUS streams and layered products are skipped.
// Affected.Arches is not set.
package redhat

import (
	"archive/tar"
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/vigil-scanner/vigil/vulndb"
	"github.com/vigil-scanner/vigil/vulndb/source/internal/feed"
)

// Options configure the source.
type Options struct {
	// Archive reads the full tar.zst archive plus later changes instead of
	// fetching every document listed by index.txt.
	Archive bool
	// Logger receives warnings; nil means slog.Default.
	Logger *slog.Logger
}

// Source is the Red Hat CSAF VEX feed.
type Source struct{ opts Options }

// New returns the source configured by opts.
func New(opts Options) *Source { return &Source{opts: opts} }

// Name returns "redhat".
func (*Source) Name() string { return "redhat" }

// DefaultBase returns https://security.access.redhat.com/data/csaf/v2/vex/.
func (*Source) DefaultBase() string { return "https://security.access.redhat.com/data/csaf/v2/vex/" }

// Load reads the documents.
func (s *Source) Load(ctx context.Context, f vulndb.Fetcher, sink vulndb.Sink) error {
	log := feed.Logger(s.opts.Logger)
	deleted, err := readCSV(ctx, f, "deletions.csv", true)
	if err != nil {
		return err
	}
	if s.opts.Archive {
		return s.loadArchive(ctx, f, sink, log, deleted)
	}
	paths, err := listing(ctx, f)
	if err != nil {
		return err
	}
	for _, p := range paths {
		if _, gone := deleted[p]; gone {
			continue
		}
		if err := loadFile(ctx, f, p, sink, log); err != nil {
			return err
		}
	}
	return nil
}

// listing returns the document paths of index.txt, else of changes.csv.
func listing(ctx context.Context, f vulndb.Fetcher) ([]string, error) {
	rc, err := f.Open(ctx, "index.txt")
	if err == nil {
		defer rc.Close()
		var out []string
		sc := bufio.NewScanner(rc)
		for sc.Scan() {
			if p := strings.TrimSpace(sc.Text()); strings.HasSuffix(p, ".json") {
				out = append(out, p)
			}
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("redhat: index.txt: %w", err)
		}
		return out, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("redhat: %w", err)
	}
	changes, err := readCSV(ctx, f, "changes.csv", false)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(changes))
	for _, c := range changes {
		out = append(out, c.path)
	}
	return out, nil
}

type change struct {
	path string
	time time.Time
}

// readCSV reads a "path","timestamp" list in file order, keyed by path.
// A missing optional file yields an empty map.
func readCSV(ctx context.Context, f vulndb.Fetcher, name string, optional bool) (map[string]change, error) {
	out := map[string]change{}
	rc, err := f.Open(ctx, name)
	if optional && errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("redhat: %w", err)
	}
	defer rc.Close()
	r := csv.NewReader(rc)
	r.FieldsPerRecord = -1
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("redhat: %s: %w", name, err)
		}
		if len(rec) == 0 || !strings.HasSuffix(rec[0], ".json") {
			continue
		}
		c := change{path: rec[0]}
		if len(rec) > 1 {
			c.time, _ = time.Parse(time.RFC3339, rec[1])
		}
		out[c.path] = c
	}
}

func loadFile(ctx context.Context, f vulndb.Fetcher, p string, sink vulndb.Sink, log *slog.Logger) error {
	rc, err := f.Open(ctx, p)
	if errors.Is(err, fs.ErrNotExist) {
		log.Warn("redhat: listed document is missing, skipped", "file", p)
		return nil
	}
	if err != nil {
		return fmt.Errorf("redhat: %w", err)
	}
	defer rc.Close()
	return put(ctx, rc, p, sink, log)
}

// put parses one document and puts its records. A document that is not
// valid JSON is one malformed record: it is logged and skipped.
func put(ctx context.Context, r io.Reader, name string, sink vulndb.Sink, log *slog.Logger) error {
	b, err := feed.ReadAll(r, feed.MaxDocument)
	if err != nil {
		return fmt.Errorf("redhat: %s: %w", name, err)
	}
	doc, err := parse(b, name, log)
	if err != nil {
		log.Warn("redhat: skipping malformed document", "file", name, "err", err)
		return nil
	}
	for _, v := range doc.Vulnerabilities {
		if err := sink.PutVulnerability(ctx, v); err != nil {
			return err
		}
	}
	for _, a := range doc.Affected {
		if err := sink.PutAffected(ctx, a); err != nil {
			return err
		}
	}
	return nil
}

var archiveDate = regexp.MustCompile(`([0-9]{4}-[0-9]{2}-[0-9]{2})\.tar\.zst$`)

func (s *Source) loadArchive(ctx context.Context, f vulndb.Fetcher, sink vulndb.Sink, log *slog.Logger, deleted map[string]change) error {
	rc, err := f.Open(ctx, "archive_latest.txt")
	if err != nil {
		return fmt.Errorf("redhat: %w", err)
	}
	b, err := feed.ReadAll(rc, 4096)
	rc.Close()
	if err != nil {
		return fmt.Errorf("redhat: archive_latest.txt: %w", err)
	}
	name := strings.TrimSpace(string(b))
	m := archiveDate.FindStringSubmatch(name)
	if m == nil || strings.Contains(name, "/") {
		return fmt.Errorf("redhat: archive_latest.txt: unexpected archive name %q", name)
	}
	since, _ := time.Parse(time.DateOnly, m[1])
	changes, err := readCSV(ctx, f, "changes.csv", true)
	if err != nil {
		return err
	}
	later := map[string]bool{}
	for p, c := range changes {
		if !c.time.Before(since) {
			later[p] = true
		}
	}
	skip := func(p string) bool {
		_, gone := deleted[p]
		return gone || later[p]
	}

	arc, err := f.Open(ctx, name)
	if err != nil {
		return fmt.Errorf("redhat: %w", err)
	}
	defer arc.Close()
	zr, err := zstd.NewReader(arc)
	if err != nil {
		return fmt.Errorf("redhat: %s: %w", name, err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("redhat: %s: %w", name, err)
		}
		p := strings.TrimPrefix(path.Clean(h.Name), "./")
		if h.Typeflag != tar.TypeReg || !strings.HasSuffix(p, ".json") || skip(p) {
			continue
		}
		if err := put(ctx, tr, name+":"+p, sink, log); err != nil {
			return err
		}
	}
	for _, p := range slices.Sorted(maps.Keys(later)) {
		if _, gone := deleted[p]; gone {
			continue
		}
		if err := loadFile(ctx, f, p, sink, log); err != nil {
			return err
		}
	}
	return nil
}
