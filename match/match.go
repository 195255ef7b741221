package match

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/package-url/packageurl-go"

	"github.com/vigil-scanner/vigil/distro"
	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/version"
	"github.com/vigil-scanner/vigil/vulndb"
)

// Store is what the matcher reads from the vulnerability database.
type Store interface {
	// Affected returns every record for a package in an ecosystem.
	Affected(ecosystem, pkg string) ([]vulndb.Affected, error)
	// Vulnerability returns what is known about one id.
	Vulnerability(id string) (*vulndb.Vulnerability, bool, error)
	// HasEcosystem reports whether the database holds any record for the
	// ecosystem, so a release without data can be reported as such.
	HasEcosystem(ecosystem string) (bool, error)
}

// ComparerFunc returns the comparer of a version scheme (version.For).
type ComparerFunc func(scheme string) (Comparer, error)

// Options configure a Matcher.
type Options struct {
	// Comparers returns the comparer of a version scheme; nil means
	// version.For.
	Comparers ComparerFunc
	Logger    *slog.Logger
}

// Matcher matches inventories against a vulnerability database. It is safe
// for concurrent use and caches what it reads, so matching many inventories
// with one Matcher (a registry watch re-matching stored images) reads each
// package's records once.
type Matcher struct {
	store  Store
	opts   Options
	logger *slog.Logger

	mu        sync.Mutex
	affected  map[string][]vulndb.Affected
	vulns     map[string]*vulndb.Vulnerability
	comparers map[string]Comparer
	hasEco    map[string]bool
}

// cacheLimit bounds each cache; a full cache is dropped and refilled.
const cacheLimit = 200_000

// New returns a Matcher reading from store.
func New(store Store, opts Options) *Matcher {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Matcher{
		store:     store,
		opts:      opts,
		logger:    logger,
		affected:  map[string][]vulndb.Affected{},
		vulns:     map[string]*vulndb.Vulnerability{},
		comparers: map[string]Comparer{},
		hasEco:    map[string]bool{},
	}
}

// Result is what matching one inventory found.
type Result struct {
	// Findings is aligned with the inventory's Results: Findings[i] are the
	// findings of inv.Results[i], sorted by package, version and id.
	Findings [][]Finding
	// Notes are things a person must know about the result's coverage:
	// packages of third-party repositories left out by design.
	Notes []string
	// Warnings name the packages that could not be matched: OS packages
	// of a release that is not detected, not supported or without any
	// data in the database, and packages whose installed version their
	// scheme cannot parse although the database has advisories for them.
	// A result with warnings is incomplete.
	Warnings []inventory.Warning
}

// Match finds the vulnerabilities affecting the packages of inv.
func (m *Matcher) Match(ctx context.Context, inv *inventory.Inventory) (*Result, error) {
	res := &Result{Findings: make([][]Finding, len(inv.Results))}
	osEco, osScheme, osOK := distroEcosystem(inv.Artifact.OS)
	osNoted := false
	for i := range inv.Results {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		r := &inv.Results[i]
		if r.Class == inventory.ClassOSPkgs {
			// Not matched is not clean: the scan is incomplete.
			if !osOK {
				if !osNoted && len(r.Packages) > 0 {
					res.Warnings = append(res.Warnings, inventory.Warning{Message: fmt.Sprintf(
						"match: %s: the OS release is not detected or not supported; its %d packages were not matched", r.Target, len(r.Packages))})
					osNoted = true
				}
				continue
			}
			ok, err := m.ecosystemKnown(osEco)
			if err != nil {
				return nil, err
			}
			if !ok {
				if !osNoted && len(r.Packages) > 0 {
					res.Warnings = append(res.Warnings, inventory.Warning{Message: fmt.Sprintf(
						"match: %s: the vulnerability database has no data for %s; its %d packages were not matched", r.Target, osEco, len(r.Packages))})
					osNoted = true
				}
				continue
			}
		}
		var out []Finding
		thirdParty := 0
		for j := range r.Packages {
			p := &r.Packages[j]
			var q query
			var err error
			if r.Class == inventory.ClassOSPkgs {
				if !distro.FromVendor(p) {
					thirdParty++
					continue
				}
				q = osQuery(p, osEco, osScheme)
			} else {
				q, err = langQuery(p, r.Type)
				if err != nil {
					m.logger.Debug("package not matched", "target", r.Target, "package", p.Name, "reason", err)
					continue
				}
			}
			fs, err := m.matchPackage(p, q, r.Class == inventory.ClassOSPkgs)
			var bad *badVersionError
			if errors.As(err, &bad) {
				res.Warnings = append(res.Warnings, inventory.Warning{
					Layer: p.Layer.DiffID,
					Path:  p.FilePath,
					Message: fmt.Sprintf("match: %s %s in %s: the installed version cannot be compared (%v): its %d advisory records were not checked",
						p.Name, p.Version, r.Target, bad.err, bad.records),
				})
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %s %s: %w", r.Target, p.Name, p.Version, err)
			}
			out = append(out, fs...)
		}
		if thirdParty > 0 {
			res.Notes = append(res.Notes, fmt.Sprintf("%s: %d packages from third-party repositories were not matched against %s advisories", r.Target, thirdParty, osEco))
		}
		sortFindings(out)
		res.Findings[i] = out
	}
	return res, nil
}

// query says how to look one package up.
type query struct {
	ecosystem string
	scheme    string
	names     []string // looked up in order; records are joined
	version   string   // compared against the records
}

// osQuery looks a distribution package up the way its distribution
// publishes advisories: Debian and Ubuntu by source package, comparing the
// source version (which the binary version equals but for binNMU suffixes,
// and which is right where a source builds binaries versioned apart, such
// as gcc-defaults); Alpine by origin; RPM distributions by binary name and
// by source RPM name (Red Hat writes both), comparing the binary EVR.
func osQuery(p *inventory.Package, eco, scheme string) query {
	q := query{ecosystem: eco, scheme: scheme, version: p.Version}
	src := p.SourceName
	if src == "" {
		src = p.Name
	}
	switch scheme {
	case vulndb.SchemeDeb:
		q.names = []string{src}
		if p.SourceVersion != "" {
			q.version = p.SourceVersion
		}
	case vulndb.SchemeAPK:
		q.names = []string{src}
	default:
		q.names = []string{p.Name}
		if src != p.Name {
			q.names = append(q.names, src)
		}
	}
	return q
}

// typeEcosystems maps Result.Type to a package URL type, for packages that
// carry no purl.
var typeEcosystems = map[string]string{
	"npm": packageurl.TypeNPM, "yarn": packageurl.TypeNPM, "pnpm": packageurl.TypeNPM, "node-pkg": packageurl.TypeNPM,
	"python-pkg": packageurl.TypePyPi, "pip": packageurl.TypePyPi, "pipenv": packageurl.TypePyPi, "poetry": packageurl.TypePyPi, "uv": packageurl.TypePyPi,
	"gobinary": packageurl.TypeGolang, "gomod": packageurl.TypeGolang,
	"jar": packageurl.TypeMaven, "pom": packageurl.TypeMaven, "gradle": packageurl.TypeMaven,
	"gemspec": packageurl.TypeGem, "bundler": packageurl.TypeGem,
	"cargo": packageurl.TypeCargo, "rust-binary": packageurl.TypeCargo,
	"composer": packageurl.TypeComposer, "composer-vendor": packageurl.TypeComposer,
	"dotnet-core": packageurl.TypeNuget, "nuget": packageurl.TypeNuget, "packages-props": packageurl.TypeNuget,
	"pub": packageurl.TypePub, "hex": packageurl.TypeHex,
}

func langQuery(p *inventory.Package, resultType string) (query, error) {
	switch {
	case p.Root:
		return query{}, errors.New("the scanned project itself")
	case p.Origin != "":
		return query{}, fmt.Errorf("not from the registry: %s", p.Origin)
	}
	var u packageurl.PackageURL
	if p.Purl != "" {
		var err error
		u, err = packageurl.FromString(p.Purl)
		if err != nil {
			return query{}, fmt.Errorf("purl %q: %w", p.Purl, err)
		}
	} else {
		t, ok := typeEcosystems[resultType]
		if !ok {
			return query{}, fmt.Errorf("no ecosystem for result type %q", resultType)
		}
		u = packageurl.PackageURL{Type: t, Name: p.Name}
		switch t {
		case packageurl.TypeMaven:
			if g, a, ok := strings.Cut(p.Name, ":"); ok {
				u.Namespace, u.Name = g, a
			}
		case packageurl.TypeNPM, packageurl.TypeGolang, packageurl.TypeComposer:
			if i := strings.LastIndexByte(p.Name, '/'); i > 0 {
				u.Namespace, u.Name = p.Name[:i], p.Name[i+1:]
			}
		}
	}
	eco, scheme, ok := langEcosystem(u.Type)
	if !ok {
		return query{}, fmt.Errorf("no advisories for package type %q", u.Type)
	}
	v := p.Version
	if v == "" {
		return query{}, errors.New("no version")
	}
	return query{ecosystem: eco, scheme: scheme, names: []string{langPackageName(u)}, version: v}, nil
}

func (m *Matcher) matchPackage(p *inventory.Package, q query, isOS bool) ([]Finding, error) {
	cmp, err := m.comparer(q.scheme)
	if err != nil {
		return nil, err
	}
	var recs []vulndb.Affected
	for _, n := range q.names {
		rs, err := m.lookup(q.ecosystem, n)
		if err != nil {
			return nil, err
		}
		recs = append(recs, rs...)
	}
	if len(recs) == 0 {
		return nil, nil
	}
	// Comparing a version with itself parses it: one the scheme cannot
	// parse could be compared with no record, and each would be blamed.
	if _, err := cmp.Compare(q.version, q.version); err != nil {
		return nil, &badVersionError{err: err, records: len(recs)}
	}
	// A distribution's not_affected statement for an id overrides any
	// other record of the same id for this package.
	notAffected := map[string]bool{}
	for i := range recs {
		if recs[i].Status == vulndb.StatusNotAffected {
			notAffected[recs[i].VulnID] = true
		}
	}
	byID := map[string]*Finding{}
	symbols := map[string][]string{} // vulnerable symbols, by finding id
	var order []string
	for i := range recs {
		a := &recs[i]
		if a.Status == vulndb.StatusNotAffected || notAffected[a.VulnID] {
			continue
		}
		if len(a.Arches) > 0 && p.Arch != "" && !slices.Contains(a.Arches, p.Arch) {
			continue
		}
		if !sameModule(a, p.Modularitylabel) {
			continue
		}
		hit, err := affects(cmp, q.version, a)
		if err != nil {
			m.logger.Warn("skipping malformed advisory", "id", a.VulnID, "source", a.Source, "package", a.Package, "err", err)
			continue
		}
		if !hit {
			continue
		}
		fs, err := m.findings(p, a, cmp, isOS)
		if err != nil {
			return nil, err
		}
		for _, f := range fs {
			for _, sym := range a.Symbols {
				symbols[f.ID] = appendUnique(symbols[f.ID], sym)
			}
			if prev, ok := byID[f.ID]; ok {
				mergeFinding(prev, f, cmp)
				continue
			}
			byID[f.ID] = f
			order = append(order, f.ID)
		}
	}
	out := make([]Finding, 0, len(order))
	for _, id := range order {
		f := byID[id]
		f.Reachability = reachability(p.Symbols, symbols[id])
		f.Risk = RiskOf(f)
		out = append(out, *f)
	}
	return out, nil
}

// badVersionError is an installed version its scheme cannot parse, for
// a package the database has records for.
type badVersionError struct {
	err     error
	records int
}

func (e *badVersionError) Error() string { return e.err.Error() }

// sameModule reports whether an advisory a fits a package built (or not)
// in a module stream (label "name:stream:version:context"):
//   - both name a stream: the streams ("nodejs:18") must be equal;
//   - only the advisory does: no (it is about another build of the name);
//   - only the package does: the advisory carries no module information
//     (AlmaLinux and Rocky OSV records never do), so it applies when its
//     fixes are module builds (".module" in the release) or it has none;
//     a fix built outside any module is for the non-modular package.
func sameModule(a *vulndb.Affected, pkg string) bool {
	switch {
	case a.Modularitylabel != "" && pkg != "":
		return moduleStream(a.Modularitylabel) == moduleStream(pkg)
	case a.Modularitylabel != "":
		return false
	case pkg == "":
		return true
	}
	if len(a.Fixed) == 0 {
		return true
	}
	return slices.ContainsFunc(a.Fixed, func(v string) bool { return strings.Contains(v, ".module") })
}

func moduleStream(label string) string {
	parts := strings.SplitN(label, ":", 3)
	if len(parts) < 2 {
		return label
	}
	return parts[0] + ":" + parts[1]
}

func (m *Matcher) comparer(scheme string) (Comparer, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.comparers[scheme]; ok {
		return c, nil
	}
	var c Comparer
	var err error
	if m.opts.Comparers != nil {
		c, err = m.opts.Comparers(scheme)
	} else {
		c, err = version.For(scheme)
	}
	if err != nil {
		return nil, err
	}
	m.comparers[scheme] = c
	return c, nil
}

func (m *Matcher) lookup(eco, name string) ([]vulndb.Affected, error) {
	key := eco + "\x00" + name
	m.mu.Lock()
	recs, ok := m.affected[key]
	m.mu.Unlock()
	if ok {
		return recs, nil
	}
	recs, err := m.store.Affected(eco, name)
	if err != nil {
		return nil, fmt.Errorf("look up %s %s: %w", eco, name, err)
	}
	m.mu.Lock()
	if len(m.affected) >= cacheLimit {
		clear(m.affected)
	}
	m.affected[key] = recs
	m.mu.Unlock()
	return recs, nil
}

func (m *Matcher) vulnerability(id string) (*vulndb.Vulnerability, error) {
	m.mu.Lock()
	v, ok := m.vulns[id]
	m.mu.Unlock()
	if ok {
		return v, nil
	}
	v, found, err := m.store.Vulnerability(id)
	if err != nil {
		return nil, fmt.Errorf("look up %s: %w", id, err)
	}
	if !found {
		v = nil
	}
	m.mu.Lock()
	if len(m.vulns) >= cacheLimit {
		clear(m.vulns)
	}
	m.vulns[id] = v
	m.mu.Unlock()
	return v, nil
}

func (m *Matcher) ecosystemKnown(eco string) (bool, error) {
	m.mu.Lock()
	ok, cached := m.hasEco[eco]
	m.mu.Unlock()
	if cached {
		return ok, nil
	}
	ok, err := m.store.HasEcosystem(eco)
	if err != nil {
		return false, err
	}
	m.mu.Lock()
	m.hasEco[eco] = ok
	m.mu.Unlock()
	return ok, nil
}
