package osv

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vigil-scanner/vigil/vulndb"
	"github.com/vigil-scanner/vigil/vulndb/cvss"
)

// record is the subset of the OSV schema (https://ossf.github.io/osv-schema/)
// that vigil reads.
type record struct {
	ID         string      `json:"id"`
	Modified   time.Time   `json:"modified"`
	Published  time.Time   `json:"published"`
	Withdrawn  time.Time   `json:"withdrawn"`
	Aliases    []string    `json:"aliases"`
	Upstream   []string    `json:"upstream"`
	Related    []string    `json:"related"`
	Summary    string      `json:"summary"`
	Details    string      `json:"details"`
	Severity   []severity  `json:"severity"`
	Affected   []affected  `json:"affected"`
	References []reference `json:"references"`
	DBSpecific struct {
		Severity any      `json:"severity"` // GHSA: "HIGH"; others use other shapes
		CWEIDs   []string `json:"cwe_ids"`
	} `json:"database_specific"`
}

type severity struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

type reference struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

type affected struct {
	Package struct {
		Ecosystem string `json:"ecosystem"`
		Name      string `json:"name"`
	} `json:"package"`
	Ranges            []osvRange      `json:"ranges"`
	Versions          []string        `json:"versions"`
	Severity          []severity      `json:"severity"`
	EcosystemSpecific json.RawMessage `json:"ecosystem_specific"`
	DatabaseSpecific  struct {
		// LastKnownAffected is GitHub's upper bound ("< 2.1.3",
		// "<= 0.2") for ranges it leaves open-ended in the events.
		LastKnownAffected string `json:"last_known_affected_version_range"`
	} `json:"database_specific"`
}

type osvRange struct {
	Type   string         `json:"type"`
	Events []vulndb.Event `json:"events"`
}

// goSpecific is the Go vulndb's ecosystem_specific.
type goSpecific struct {
	Imports []struct {
		Path    string   `json:"path"`
		Symbols []string `json:"symbols"`
	} `json:"imports"`
}

// converted is one OSV record in vigil's model.
type converted struct {
	vuln     vulndb.Vulnerability
	affected []vulndb.Affected
	skipped  []string // ecosystems that could not be mapped
}

// convert maps one OSV record. source is the feed name ("osv:Go") used for
// Affected.Source and Vulnerability.Sources. Withdrawn records yield the
// Vulnerability (with Withdrawn set) and no Affected entries, so they are
// shown but never matched.
func convert(r *record, source string) (converted, error) {
	if r.ID == "" {
		return converted{}, errors.New("record has no id")
	}
	db := database(r.ID)
	v := vulndb.Vulnerability{
		ID:          r.ID,
		Title:       r.Summary,
		Description: r.Details,
		Published:   nonZero(r.Published),
		Modified:    nonZero(r.Modified),
		Withdrawn:   nonZero(r.Withdrawn),
		CWEs:        r.DBSpecific.CWEIDs,
		Sources:     []string{source},
	}
	distro := false
	for _, a := range r.Affected {
		_, lang := languages[a.Package.Ecosystem]
		if _, ok := mapEcosystem(a.Package.Ecosystem); ok && !lang {
			distro = true
		}
	}
	// aliases are the same vulnerability; upstream are the vulnerabilities
	// a downstream advisory bundles. Distributions (AlmaLinux, Rocky,
	// Ubuntu's USN links) list the CVEs they fix in related, so for
	// distribution records related ids are linked too; for language
	// records related ids are different vulnerabilities and are dropped.
	links := append(append([]string(nil), r.Aliases...), r.Upstream...)
	if distro {
		links = append(links, r.Related...)
	}
	for _, l := range links {
		if l != "" && l != r.ID && !contains(v.Aliases, l) {
			v.Aliases = append(v.Aliases, l)
		}
	}
	for _, ref := range r.References {
		if ref.URL != "" && !contains(v.References, ref.URL) {
			v.References = append(v.References, ref.URL)
		}
	}
	if s, ok := r.DBSpecific.Severity.(string); ok && s != "" {
		v.Severities = append(v.Severities, vulndb.Severity{Source: db, Severity: normaliseSeverity(s)})
	}
	addSeverities(&v, db, r.Severity)

	var out converted
	for i, a := range r.Affected {
		addSeverities(&v, db, a.Severity)
		if !v.Withdrawn.IsZero() {
			continue
		}
		t, ok := mapEcosystem(a.Package.Ecosystem)
		if !ok {
			out.skipped = append(out.skipped, a.Package.Ecosystem)
			continue
		}
		if a.Package.Name == "" {
			return converted{}, fmt.Errorf("affected[%d] has no package name", i)
		}
		rec := vulndb.Affected{
			VulnID:    r.ID,
			Source:    source + t.variant,
			Ecosystem: t.ecosystem,
			Package:   canonicalName(a.Package.Ecosystem, a.Package.Name),
			Versions:  a.Versions,
			Status:    vulndb.StatusFixed,
		}
		if sev := ubuntuPriority(a.Severity); sev != "" {
			rec.Severity = sev
		}
		for j, rg := range a.Ranges {
			if rg.Type != "SEMVER" && rg.Type != "ECOSYSTEM" {
				continue // GIT ranges need the commit graph
			}
			if err := checkEvents(rg.Events); err != nil {
				return converted{}, fmt.Errorf("affected[%d].ranges[%d]: %w", i, j, err)
			}
			events := rg.Events
			if bound, ok := lastKnownAffected(a.DatabaseSpecific.LastKnownAffected); ok && openEnded(events) {
				events = append(slices.Clone(events), bound)
			}
			rec.Ranges = append(rec.Ranges, vulndb.Range{Scheme: t.scheme, Events: events})
			for _, e := range rg.Events {
				if e.Fixed != "" && !contains(rec.Fixed, e.Fixed) {
					rec.Fixed = append(rec.Fixed, e.Fixed)
				}
			}
		}
		if len(rec.Ranges) == 0 && len(rec.Versions) == 0 {
			continue // only GIT ranges: nothing vigil can match
		}
		if len(rec.Fixed) == 0 { // open-ended or last_affected only
			rec.Status = vulndb.StatusAffected
		}
		if t.ecosystem == "Go" && len(a.EcosystemSpecific) > 0 {
			var gs goSpecific
			if err := json.Unmarshal(a.EcosystemSpecific, &gs); err == nil {
				rec.Symbols = goSymbols(gs)
			}
		}
		out.affected = append(out.affected, rec)
	}
	out.vuln = v
	return out, nil
}

// goSymbols lists the vulnerable symbols of a Go record as
// "pkg/path.Symbol". An import without symbols means every symbol of its
// package is vulnerable, which a symbol list cannot say: the record then
// lists none, so no finding is judged by symbols.
func goSymbols(gs goSpecific) []string {
	var syms []string
	for _, imp := range gs.Imports {
		if len(imp.Symbols) == 0 {
			return nil
		}
		for _, s := range imp.Symbols {
			syms = append(syms, imp.Path+"."+s)
		}
	}
	return syms
}

// checkEvents rejects ranges the OSV schema forbids: events with no or
// several fields set, or no introduced event.
func checkEvents(events []vulndb.Event) error {
	introduced := false
	for k, e := range events {
		n := 0
		for _, s := range []string{e.Introduced, e.Fixed, e.LastAffected, e.Limit} {
			if s != "" {
				n++
			}
		}
		if n != 1 {
			return fmt.Errorf("event %d sets %d fields, want 1", k, n)
		}
		introduced = introduced || e.Introduced != ""
	}
	if !introduced {
		return errors.New("range has no introduced event")
	}
	return nil
}

// addSeverities records CVSS vectors (with computed v2/v3 base scores)
// and Ubuntu priorities. One CVSS per version per source is kept.
func addSeverities(v *vulndb.Vulnerability, db string, sevs []severity) {
	for _, s := range sevs {
		switch s.Type {
		case "CVSS_V2", "CVSS_V3", "CVSS_V4":
			ver := cvss.Version(s.Score)
			if ver == "" {
				continue
			}
			score, _ := cvss.BaseScore(s.Score) // 0 for v4 and malformed vectors
			if !containsCVSS(v.CVSS, db, ver) {
				v.CVSS = append(v.CVSS, vulndb.CVSS{Source: db, Version: ver, Vector: s.Score, Score: score})
			}
		case "Ubuntu":
			if !containsSeverity(v.Severities, db) {
				v.Severities = append(v.Severities, vulndb.Severity{Source: db, Severity: normaliseSeverity(s.Score)})
			}
		}
	}
}

func ubuntuPriority(sevs []severity) string {
	for _, s := range sevs {
		if s.Type == "Ubuntu" {
			return normaliseSeverity(s.Score)
		}
	}
	return ""
}

// normaliseSeverity maps textual ratings to LOW, MEDIUM, HIGH, CRITICAL or
// UNKNOWN.
func normaliseSeverity(s string) string {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "NEGLIGIBLE", "LOW":
		return "LOW"
	case "MEDIUM", "MODERATE":
		return "MEDIUM"
	case "HIGH", "IMPORTANT":
		return "HIGH"
	case "CRITICAL":
		return "CRITICAL"
	}
	return "UNKNOWN"
}

// database names the database that issued id, from its prefix:
// "GHSA-…" → "ghsa", "UBUNTU-CVE-…" → "ubuntu", "RLSA-2021:3891" → "rlsa".
func database(id string) string {
	p, _, _ := strings.Cut(id, "-")
	return strings.ToLower(p)
}

func nonZero(t time.Time) time.Time {
	if t.Year() <= 1 {
		return time.Time{}
	}
	return t.UTC()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func containsCVSS(list []vulndb.CVSS, source, version string) bool {
	for _, c := range list {
		if c.Source == source && c.Version == version {
			return true
		}
	}
	return false
}

func containsSeverity(list []vulndb.Severity, source string) bool {
	for _, s := range list {
		if s.Source == source {
			return true
		}
	}
	return false
}

// lastKnownAffected turns GitHub's database_specific
// last_known_affected_version_range ("< 2.1.3", "<= 0.2") into the event
// that closes an open-ended range: a limit for "<", last_affected for "<=".
// GitHub writes it where no fixed version exists yet but the affected
// versions are known; without it every later version would be reported.
func lastKnownAffected(s string) (vulndb.Event, bool) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "<="):
		if v := strings.TrimSpace(s[2:]); v != "" && !strings.ContainsAny(v, " ,<>=") {
			return vulndb.Event{LastAffected: v}, true
		}
	case strings.HasPrefix(s, "<"):
		if v := strings.TrimSpace(s[1:]); v != "" && !strings.ContainsAny(v, " ,<>=") {
			return vulndb.Event{Limit: v}, true
		}
	}
	return vulndb.Event{}, false
}

// openEnded reports whether a range has no upper bound.
func openEnded(events []vulndb.Event) bool {
	for _, e := range events {
		if e.Fixed != "" || e.LastAffected != "" || (e.Limit != "" && e.Limit != "*") {
			return false
		}
	}
	return true
}
