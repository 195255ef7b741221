package match

import (
	"cmp"
	"slices"
	"strings"

	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/vulndb"
)

// findings describes one matched record, once per vulnerability it is
// about. Findings are reported under CVE ids whenever the record names any,
// so ignore files, VEX and people speak of one id whatever the source: a
// GHSA or GO record naming one CVE becomes that CVE's finding, and a
// distribution advisory bundling several (DSA, USN, ALSA, RHSA, ELSA, ALAS)
// becomes one finding per CVE, each carrying the advisory id as an alias
// (the advisory stays the id only when it names no CVE).
func (m *Matcher) findings(p *inventory.Package, a *vulndb.Affected, cmp Comparer, isOS bool) ([]*Finding, error) {
	own, err := m.vulnerability(a.VulnID)
	if err != nil {
		return nil, err
	}
	ids := []string{a.VulnID}
	if own != nil {
		ids = append(ids, own.Aliases...)
	}
	cves := cveIDs(ids)
	if len(cves) == 0 {
		// A notice may name the CVE only through another record: a USN's
		// upstream is UBUNTU-CVE-…, whose upstream is the CVE. Follow one
		// more hop.
		var second []string
		for _, x := range ids[1:] {
			v, err := m.vulnerability(x)
			if err != nil {
				return nil, err
			}
			if v != nil {
				second = append(second, v.Aliases...)
			}
		}
		cves = cveIDs(second)
	}
	if len(cves) == 0 {
		f, err := m.describe(p, a, cmp, isOS, a.VulnID, []*vulndb.Vulnerability{own}, ids)
		if err != nil {
			return nil, err
		}
		return []*Finding{f}, nil
	}
	out := make([]*Finding, 0, len(cves))
	for _, id := range cves {
		cve := own
		if id != a.VulnID {
			if cve, err = m.vulnerability(id); err != nil {
				return nil, err
			}
		}
		// One CVE: the record is about it, and its own text (a GHSA
		// summary) reads better than NVD's. Several: the bundle's text is
		// about all of them, so each CVE's own comes first, and the other
		// CVEs are not aliases of this one.
		records, aliases := []*vulndb.Vulnerability{own, cve}, ids
		if len(cves) > 1 {
			records = []*vulndb.Vulnerability{cve, own}
			aliases = slices.DeleteFunc(slices.Clone(ids), func(x string) bool { return strings.HasPrefix(x, "CVE-") })
		}
		f, err := m.describe(p, a, cmp, isOS, id, records, aliases)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// cveIDs returns the distinct CVE ids among ids, in order.
func cveIDs(ids []string) []string {
	var out []string
	for _, x := range ids {
		if strings.HasPrefix(x, "CVE-") && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// describe builds the finding reported as id for record a, from the
// vulnerability records (nil entries skipped, earlier ones preferred for
// text) and the alias ids given.
func (m *Matcher) describe(p *inventory.Package, a *vulndb.Affected, cmp Comparer, isOS bool, id string, records []*vulndb.Vulnerability, aliases []string) (*Finding, error) {
	f := &Finding{
		ID:               id,
		PkgName:          p.Name,
		PkgID:            p.ID,
		PkgPurl:          p.Purl,
		InstalledVersion: p.Version,
		Status:           a.Status,
		Layer:            p.Layer,
		DataSource:       dataSource(a.Source),
	}
	for _, x := range aliases {
		if x != id {
			f.Aliases = appendUnique(f.Aliases, x)
		}
	}
	f.FixedVersions = sortVersions(cmp, slices.Clone(a.Fixed))
	for _, v := range records {
		if v == nil {
			continue
		}
		// The record of the id reported on lends its aliases (the GHSA of
		// a CVE); the others' are in aliases already, or are a bundle's
		// other CVEs, which are other vulnerabilities.
		if v.ID == id {
			for _, x := range v.Aliases {
				if x != id {
					f.Aliases = appendUnique(f.Aliases, x)
				}
			}
		}
		if f.Title == "" {
			f.Title = v.Title
		}
		if f.Description == "" {
			f.Description = v.Description
		}
		for _, c := range v.CVSS {
			addCVSS(f, c)
		}
		for _, c := range v.CWEs {
			f.CWEs = appendUnique(f.CWEs, c)
		}
		for _, r := range v.References {
			f.References = appendUnique(f.References, r)
		}
		if f.PublishedDate.IsZero() {
			f.PublishedDate = v.Published
		}
		if v.Modified.After(f.LastModifiedDate) {
			f.LastModifiedDate = v.Modified
		}
	}
	// EPSS and KEV are keyed by CVE: take them from every CVE the finding
	// names (an ALSA or DSA can bundle several), the most severe winning.
	for _, x := range append([]string{f.ID}, f.Aliases...) {
		if !strings.HasPrefix(x, "CVE-") {
			continue
		}
		v, err := m.vulnerability(x)
		if err != nil {
			return nil, err
		}
		if v == nil {
			continue
		}
		if v.EPSS != nil && (f.EPSS == nil || v.EPSS.Score > f.EPSS.Score) {
			e := *v.EPSS
			f.EPSS = &e
		}
		if v.KEV != nil && f.KEV == nil {
			k := *v.KEV
			f.KEV = &k
		}
	}
	f.Severity, f.SeveritySource = chooseSeverity(a, records, isOS)
	f.PrimaryURL = primaryURL(f.ID, f.References)
	f.FixedVersion = strings.Join(f.FixedVersions, ", ")
	return f, nil
}

// severityOrder is the preference among sources' own ratings: for OS
// packages the distribution's rating for the package comes first (already
// on the Affected record), then these; for language packages GitHub's
// reviewed rating leads.
var (
	osSeverityOrder   = []string{"nvd", "ghsa"}
	langSeverityOrder = []string{"ghsa", "nvd"}
)

func chooseSeverity(a *vulndb.Affected, records []*vulndb.Vulnerability, isOS bool) (sev, source string) {
	if isOS && validSeverity(a.Severity) {
		return a.Severity, a.Source
	}
	order := langSeverityOrder
	if isOS {
		order = osSeverityOrder
	}
	var all []vulndb.Severity
	for _, v := range records {
		if v != nil {
			all = append(all, v.Severities...)
		}
	}
	for _, src := range order {
		for _, s := range all {
			if s.Source == src && validSeverity(s.Severity) {
				return s.Severity, s.Source
			}
		}
	}
	for _, s := range all {
		if validSeverity(s.Severity) {
			return s.Severity, s.Source
		}
	}
	if validSeverity(a.Severity) {
		return a.Severity, a.Source
	}
	// Last resort: a rating from the highest CVSS v3/v4 base score given.
	best, bestSrc := 0.0, ""
	for _, v := range records {
		if v == nil {
			continue
		}
		for _, c := range v.CVSS {
			if (strings.HasPrefix(c.Version, "3") || strings.HasPrefix(c.Version, "4")) && c.Score > best {
				best, bestSrc = c.Score, c.Source
			}
		}
	}
	if best > 0 {
		return cvssRating(best), bestSrc
	}
	return SeverityUnknown, ""
}

func validSeverity(s string) bool {
	return s != "" && s != SeverityUnknown && SeverityRank(s) > 0
}

// cvssRating is the CVSS v3/v4 qualitative rating of a base score.
func cvssRating(score float64) string {
	switch {
	case score >= 9.0:
		return SeverityCritical
	case score >= 7.0:
		return SeverityHigh
	case score >= 4.0:
		return SeverityMedium
	case score > 0:
		return SeverityLow
	}
	return SeverityUnknown
}

func addCVSS(f *Finding, c vulndb.CVSS) {
	if f.CVSS == nil {
		f.CVSS = map[string]CVSS{}
	}
	e := f.CVSS[c.Source]
	switch {
	case strings.HasPrefix(c.Version, "2"):
		if e.V2Vector == "" {
			e.V2Vector, e.V2Score = c.Vector, c.Score
		}
	case strings.HasPrefix(c.Version, "3"):
		if e.V3Vector == "" || c.Version > "3.0" {
			e.V3Vector, e.V3Score = c.Vector, c.Score
		}
	case strings.HasPrefix(c.Version, "4"):
		if e.V40Vector == "" {
			e.V40Vector, e.V40Score = c.Vector, c.Score
		}
	}
	f.CVSS[c.Source] = e
}

func primaryURL(id string, refs []string) string {
	switch {
	case strings.HasPrefix(id, "CVE-"):
		return "https://nvd.nist.gov/vuln/detail/" + id
	case strings.HasPrefix(id, "GHSA-"):
		return "https://github.com/advisories/" + id
	case strings.HasPrefix(id, "GO-"):
		return "https://pkg.go.dev/vuln/" + id
	case strings.HasPrefix(id, "PYSEC-"):
		return "https://osv.dev/vulnerability/" + id
	case strings.HasPrefix(id, "RUSTSEC-"):
		return "https://rustsec.org/advisories/" + id
	}
	if len(refs) > 0 {
		return refs[0]
	}
	return "https://osv.dev/vulnerability/" + id
}

// dataSources names the feeds findings come from.
var dataSources = map[string]DataSource{
	"alpine":      {Name: "Alpine Secdb", URL: "https://secdb.alpinelinux.org/"},
	"wolfi":       {Name: "Wolfi Secdb", URL: "https://packages.wolfi.dev/os/security.json"},
	"chainguard":  {Name: "Chainguard Secdb", URL: "https://packages.cgr.dev/chainguard/security.json"},
	"debian":      {Name: "Debian Security Tracker", URL: "https://security-tracker.debian.org/tracker/"},
	"redhat":      {Name: "Red Hat CSAF VEX", URL: "https://security.access.redhat.com/data/csaf/v2/vex/"},
	"oracle":      {Name: "Oracle Linux OVAL", URL: "https://linux.oracle.com/security/oval/"},
	"amazon":      {Name: "Amazon Linux Security Center", URL: "https://alas.aws.amazon.com/"},
	"azurelinux":  {Name: "Azure Linux Vulnerability Data", URL: "https://github.com/microsoft/AzureLinuxVulnerabilityData"},
	"cbl-mariner": {Name: "CBL-Mariner Vulnerability Data", URL: "https://github.com/microsoft/AzureLinuxVulnerabilityData"},
}

func dataSource(src string) *DataSource {
	ds, ok := dataSources[src]
	if !ok {
		eco, isOSV := strings.CutPrefix(src, "osv:")
		if isOSV {
			ds = DataSource{Name: "OSV " + eco, URL: "https://osv.dev/list?ecosystem=" + eco}
		}
	}
	ds.ID = src
	return &ds
}

// mergeFinding folds g, another record of the same vulnerability for the same
// package (another source, or another affected entry), into f.
func mergeFinding(f, g *Finding, cmp Comparer) {
	for _, x := range g.Aliases {
		if x != f.ID {
			f.Aliases = appendUnique(f.Aliases, x)
		}
	}
	for _, v := range g.FixedVersions {
		f.FixedVersions = appendUnique(f.FixedVersions, v)
	}
	f.FixedVersions = sortVersions(cmp, f.FixedVersions)
	f.FixedVersion = strings.Join(f.FixedVersions, ", ")
	// A record with a fix outranks one saying there is none: the fix is
	// real for this package.
	if f.Status != vulndb.StatusFixed && g.Status == vulndb.StatusFixed {
		f.Status = g.Status
	}
	if SeverityRank(f.Severity) == 0 && SeverityRank(g.Severity) > 0 {
		f.Severity, f.SeveritySource = g.Severity, g.SeveritySource
	}
	for src, c := range g.CVSS {
		if f.CVSS == nil {
			f.CVSS = map[string]CVSS{}
		}
		if _, ok := f.CVSS[src]; !ok {
			f.CVSS[src] = c
		}
	}
	for _, c := range g.CWEs {
		f.CWEs = appendUnique(f.CWEs, c)
	}
	for _, r := range g.References {
		f.References = appendUnique(f.References, r)
	}
	if f.Title == "" {
		f.Title = g.Title
	}
	if f.Description == "" {
		f.Description = g.Description
	}
	if f.EPSS == nil {
		f.EPSS = g.EPSS
	}
	if f.KEV == nil {
		f.KEV = g.KEV
	}
}

// sortVersions sorts vs lowest first with cmp; versions cmp rejects keep
// their place after the valid ones.
func sortVersions(c Comparer, vs []string) []string {
	slices.SortStableFunc(vs, func(a, b string) int {
		r, err := c.Compare(a, b)
		if err != nil {
			return strings.Compare(a, b)
		}
		return r
	})
	return slices.Compact(vs)
}

func appendUnique(xs []string, x string) []string {
	if x == "" || slices.Contains(xs, x) {
		return xs
	}
	return append(xs, x)
}

func sortFindings(fs []Finding) {
	slices.SortFunc(fs, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(a.PkgName, b.PkgName),
			cmp.Compare(a.InstalledVersion, b.InstalledVersion),
			cmp.Compare(a.PkgPurl, b.PkgPurl),
			cmp.Compare(a.ID, b.ID),
		)
	})
}
