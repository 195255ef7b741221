// Package amazon loads Amazon Linux security advisories (ALAS) from the
// Amazon Linux Security Center, https://alas.aws.amazon.com:
//
//	<base>/alas.rss, <base>/AL2/alas.rss, <base>/AL2023/alas.rss
//
// list the advisories of Amazon Linux 1, 2 and 2023 (RSS 2.0 items titled
// "ALAS-2018-939 (critical): kernel", linking to the advisory page), and
// each advisory page (<base>/AL2/ALAS-2018-939.html, …) lists the fixed
// builds under "New Packages", one NEVRA per line grouped by arch. No
// other public machine-readable form covers all three releases without
// walking the repositories' mirror lists (the yum updateinfo.xml Clair
// reads); the pages are what Grype reads too. They are parsed by a small
// extraction keyed on the stable element ids (new_packages, severity,
// references, issue_overview), not a general HTML parser.
//
// Each advisory becomes one Affected per binary package name (ecosystem
// "amazon:1", "amazon:2" or "amazon:2023", scheme rpm, status fixed,
// range {introduced 0, fixed EVR}, Arches = the arches the page lists for
// that name; src packages are left out) and a Vulnerability with the
// advisory id, its CVEs as aliases, the page's overview text, release and
// update dates and the Amazon severity: critical → CRITICAL,
// important → HIGH, medium → MEDIUM, low → LOW.
//
// The id is the page's heading (AL2023 pages say "ALAS2023-2023-126" where
// the RSS title says "ALAS-2023-126"; the other spelling is kept as an
// alias). Advisories of the AL2 Extras topics (ALAS2KERNEL-5.10-…,
// ALAS2DOCKER-…, ALAS2NITRO-ENCLAVES-…) are skipped: their packages
// replace core packages of the same name on other version lines, so their
// fixed versions would flag every core build.
//
// Limits: pages give no epoch for most packages; a fixed version without
// one is compared as epoch 0. Pages are fetched eight at a time. A page
// that is missing or lists no packages is logged and skipped; any other
// fetch error fails the load.
package amazon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/vigil-scanner/vigil/version/rpm"
	"github.com/vigil-scanner/vigil/vulndb"
)

// DefaultBase is the Amazon Linux Security Center.
const DefaultBase = "https://alas.aws.amazon.com"

const (
	name        = "amazon"
	maxRSS      = 64 << 20
	maxPage     = 4 << 20
	parallel    = 8
	chunk       = 64 // advisories fetched before their records are put
	maxOverview = 8 << 10
)

// release is one Amazon Linux release and its directory on the site.
type release struct{ version, dir string }

var releases = []release{{"1", ""}, {"2", "AL2"}, {"2023", "AL2023"}}

// coreID matches advisories of a release's core repositories.
var coreID = regexp.MustCompile(`^ALAS(2|2022|2023)?-\d{4}-\d+$`)

// Options configure the source.
type Options struct {
	// Logger receives warnings; nil means slog.Default.
	Logger *slog.Logger
}

// Source is the Amazon Linux ALAS feed.
type Source struct {
	logger *slog.Logger
}

// New returns the source "amazon" configured by opts.
func New(opts Options) *Source { return &Source{logger: opts.Logger} }

// Name implements vulndb.Source.
func (s *Source) Name() string { return name }

// DefaultBase implements vulndb.Source.
func (s *Source) DefaultBase() string { return DefaultBase }

func (s *Source) log() *slog.Logger {
	if s.logger == nil {
		return slog.Default()
	}
	return s.logger
}

// Load implements vulndb.Source.
func (s *Source) Load(ctx context.Context, f vulndb.Fetcher, sink vulndb.Sink) error {
	loaded := 0
	for _, rel := range releases {
		rss := path.Join(rel.dir, "alas.rss")
		items, err := s.readRSS(ctx, f, rss)
		if errors.Is(err, fs.ErrNotExist) {
			s.log().Warn("amazon: feed missing, skipped", "file", rss)
			continue
		}
		if err != nil {
			return fmt.Errorf("amazon: %w", err)
		}
		if err := s.loadRelease(ctx, f, sink, rel, items); err != nil {
			return fmt.Errorf("amazon: %w", err)
		}
		loaded++
	}
	if loaded == 0 {
		return fmt.Errorf("amazon: none of the release feeds exist: %w", fs.ErrNotExist)
	}
	return nil
}

func (s *Source) readRSS(ctx context.Context, f vulndb.Fetcher, rel string) ([]item, error) {
	r, err := f.Open(ctx, rel)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	items, err := parseRSS(io.LimitReader(r, maxRSS))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	return items, nil
}

// entry is one advisory to load: its RSS item and where its page is.
type entry struct {
	item
	id, severity, page string
}

func (s *Source) loadRelease(ctx context.Context, f vulndb.Fetcher, sink vulndb.Sink, rel release, items []item) error {
	var entries []entry
	extras := 0
	for _, it := range items {
		e, err := s.entry(it, rel)
		if err != nil {
			s.log().Warn("amazon: skipping malformed RSS item", "release", rel.version, "title", it.Title, "err", err)
			continue
		}
		if !coreID.MatchString(e.id) {
			extras++
			continue
		}
		entries = append(entries, e)
	}
	var kept, skipped int
	for start := 0; start < len(entries); start += chunk {
		batch := entries[start:min(start+chunk, len(entries))]
		pages := make([]*page, len(batch))
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(parallel)
		for i := range batch {
			g.Go(func() error {
				p, err := s.readPage(gctx, f, batch[i].page)
				if errors.Is(err, fs.ErrNotExist) {
					s.log().Warn("amazon: advisory page missing, skipped", "id", batch[i].id, "page", batch[i].page)
					return nil
				}
				pages[i] = p
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		for i, p := range pages {
			if p == nil {
				skipped++
				continue
			}
			v, affected, err := convert(&batch[i], p, rel)
			if err != nil {
				skipped++
				s.log().Warn("amazon: skipping advisory", "id", batch[i].id, "page", batch[i].page, "err", err)
				continue
			}
			if err := sink.PutVulnerability(ctx, v); err != nil {
				return fmt.Errorf("%s: %w", v.ID, err)
			}
			for _, a := range affected {
				if err := sink.PutAffected(ctx, a); err != nil {
					return fmt.Errorf("%s: %w", v.ID, err)
				}
			}
			kept++
		}
	}
	s.log().Debug("amazon: loaded", "release", rel.version, "advisories", kept, "skipped", skipped, "extras", extras)
	return nil
}

// entry checks an RSS item and works out its page's path below the base.
func (s *Source) entry(it item, rel release) (entry, error) {
	id, sev, _, err := parseTitle(it.Title)
	if err != nil {
		return entry{}, err
	}
	page, err := pagePath(it.link(), rel.dir)
	if err != nil {
		return entry{}, err
	}
	return entry{item: it, id: id, severity: sev, page: page}, nil
}

func (s *Source) readPage(ctx context.Context, f vulndb.Fetcher, rel string) (*page, error) {
	r, err := f.Open(ctx, rel)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, maxPage+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	if len(b) > maxPage {
		return nil, fmt.Errorf("%s: page is larger than %d bytes", rel, maxPage)
	}
	return parsePage(string(b)), nil
}

// convert builds the records of one advisory.
func convert(e *entry, p *page, rel release) (vulndb.Vulnerability, []vulndb.Affected, error) {
	if p.truncated {
		return vulndb.Vulnerability{}, nil, errors.New("page is truncated (no closing </html>)")
	}
	if len(p.packages) == 0 {
		return vulndb.Vulnerability{}, nil, errors.New("no \"New Packages\" on the page")
	}
	id := e.id
	if coreID.MatchString(p.id) {
		id = p.id
	}
	sev := severity(p.severity)
	if sev == "" {
		sev = severity(e.severity)
	}
	v := vulndb.Vulnerability{
		ID:          id,
		Title:       strings.Join(strings.Fields(e.Title), " "),
		Description: truncate(p.overview, maxOverview),
		Sources:     []string{name},
	}
	if e.id != id {
		v.Aliases = append(v.Aliases, e.id)
	}
	for _, c := range append(p.cves, cves(e.Description)...) {
		if !slices.Contains(v.Aliases, c) {
			v.Aliases = append(v.Aliases, c)
		}
	}
	if link := e.link(); link != "" {
		v.References = []string{link}
	}
	if sev != "" {
		v.Severities = []vulndb.Severity{{Source: name, Severity: sev}}
	}
	if t, err := time.Parse(time.RFC1123, strings.TrimSpace(e.PubDate)); err == nil {
		v.Published = t.UTC()
	}
	if t, err := time.Parse(time.RFC1123, strings.TrimSpace(e.LastBuildDate)); err == nil {
		v.Modified = t.UTC()
	}

	type group struct{ evrs, arches []string }
	groups := map[string]*group{}
	var order []string
	for _, pk := range p.packages {
		if pk.arch == "src" {
			continue
		}
		g := groups[pk.name]
		if g == nil {
			g = &group{}
			groups[pk.name] = g
			order = append(order, pk.name)
		}
		if !slices.Contains(g.evrs, pk.evr) {
			g.evrs = append(g.evrs, pk.evr)
		}
		if !slices.Contains(g.arches, pk.arch) {
			g.arches = append(g.arches, pk.arch)
		}
	}
	if len(order) == 0 {
		return vulndb.Vulnerability{}, nil, errors.New("only source packages listed")
	}
	var out []vulndb.Affected
	for _, n := range order {
		g := groups[n]
		slices.SortStableFunc(g.evrs, func(a, b string) int {
			c, _ := rpm.Compare(a, b)
			return c
		})
		slices.Sort(g.arches)
		a := vulndb.Affected{
			VulnID:    id,
			Source:    name,
			Ecosystem: "amazon:" + rel.version,
			Package:   n,
			Fixed:     g.evrs,
			Status:    vulndb.StatusFixed,
			Severity:  sev,
			Arches:    g.arches,
		}
		for _, evr := range g.evrs {
			a.Ranges = append(a.Ranges, vulndb.Range{
				Scheme: vulndb.SchemeRPM,
				Events: []vulndb.Event{{Introduced: "0"}, {Fixed: evr}},
			})
		}
		out = append(out, a)
	}
	return v, out, nil
}

// severity normalises an Amazon severity ("Critical", "important", …).
func severity(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "critical":
		return "CRITICAL"
	case "important", "high":
		return "HIGH"
	case "medium", "moderate":
		return "MEDIUM"
	case "low":
		return "LOW"
	case "":
		return ""
	}
	return "UNKNOWN"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
