// Package vulndb is vigil's local vulnerability database: the record model,
// the on-disk store and the build that fills it from upstream feeds
// (vulndb/source/<feed>).
//
// The model has two halves:
//   - Affected: what one source says about one package in one ecosystem or
//     distribution release (ranges, fixed versions, status). Looked up by
//     (Ecosystem, Package) at match time.
//   - Vulnerability: what is known about one vulnerability id (aliases,
//     severity and CVSS per source, CWE, text, references, dates, EPSS, KEV),
//     merged from every source that describes it.
package vulndb

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Status of a package with respect to one vulnerability.
type Status string

const (
	StatusFixed       Status = "fixed"        // affected below a fixed version
	StatusAffected    Status = "affected"     // affected, no fix yet
	StatusWillNotFix  Status = "will_not_fix" // affected, the vendor will not fix
	StatusNotAffected Status = "not_affected"
	StatusEndOfLife   Status = "end_of_life" // affected, the release is out of support
)

// Version schemes, one per comparer in package version.
const (
	SchemeDeb      = "deb"
	SchemeRPM      = "rpm"
	SchemeAPK      = "apk"
	SchemeSemver   = "semver" // SemVer 2.0.0 (OSV SEMVER ranges, Go, crates, npm)
	SchemeGo       = "go"     // Go module versions (semver with v prefix rules, +incompatible)
	SchemeNpm      = "npm"
	SchemePEP440   = "pep440"
	SchemeMaven    = "maven"
	SchemeGem      = "gem"
	SchemeNuGet    = "nuget"
	SchemeComposer = "composer"
	SchemeCargo    = "cargo"
	SchemeHex      = "hex"
	SchemePub      = "pub"
)

// Language ecosystems use the OSV ecosystem names exactly:
// "Go", "npm", "PyPI", "Maven", "crates.io", "RubyGems", "NuGet", "Packagist",
// "Pub", "Hex", "SwiftURL".
//
// Distribution releases are "<family>:<release>", family as in
// inventory.OS.Family and release normalised the way the distribution
// publishes advisories: "alpine:3.19", "debian:12", "ubuntu:22.04",
// "redhat:9", "alma:9", "rocky:9", "oracle:9", "amazon:2023", "sles:15.5",
// "opensuse-leap:15.5", "photon:5.0", "azurelinux:3.0", "cbl-mariner:2.0";
// rolling distributions have no release: "wolfi", "chainguard".

// Event is one point of an affected range; exactly one field is set.
type Event struct {
	Introduced   string `json:"introduced,omitempty"`
	Fixed        string `json:"fixed,omitempty"`
	LastAffected string `json:"last_affected,omitempty"`
	Limit        string `json:"limit,omitempty"`
}

// Range is a timeline of events compared with Scheme, evaluated as the OSV
// schema defines.
type Range struct {
	Scheme string  `json:"scheme"`
	Events []Event `json:"events"`
}

// Affected is what one source says about one package.
type Affected struct {
	// VulnID is the advisory id as the source names it ("CVE-2024-1234",
	// "GHSA-…", "GO-2024-0001", "DSA-5000-1", "ALSA-2024:1234").
	VulnID string `json:"id"`
	// Source is the feed name ("alpine", "debian", "redhat", "osv:Go", …).
	Source    string `json:"source"`
	Ecosystem string `json:"ecosystem"`
	// Package is the name the source uses, canonicalised for the
	// ecosystem: the source package for Debian/Ubuntu and the origin for
	// Alpine; PEP 503 for PyPI; "group:artifact" for Maven.
	Package string  `json:"package"`
	Ranges  []Range `json:"ranges,omitempty"`
	// Versions lists explicitly affected versions.
	Versions []string `json:"versions,omitempty"`
	// Fixed lists every fixed version the source names, lowest first.
	Fixed  []string `json:"fixed,omitempty"`
	Status Status   `json:"status"`
	// Severity is the source's own rating for this package, when it gives
	// one (Debian urgency, Ubuntu priority, Red Hat impact), normalised to
	// LOW, MEDIUM, HIGH, CRITICAL or UNKNOWN.
	Severity string `json:"severity,omitempty"`
	// Arches restricts the record to these architectures, when set.
	Arches []string `json:"arches,omitempty"`
	// Modularitylabel restricts an rpm record to a module "name:stream".
	Modularitylabel string `json:"modularitylabel,omitempty"`
	// Symbols are the vulnerable symbols (Go: "pkg/path.Func",
	// "pkg/path.Type.Method"), when the source lists them.
	Symbols []string `json:"symbols,omitempty"`
}

// Severity is one source's rating of a vulnerability.
type Severity struct {
	Source   string `json:"source"`   // "nvd", "ghsa", "debian", "redhat", …
	Severity string `json:"severity"` // LOW, MEDIUM, HIGH, CRITICAL, UNKNOWN
}

// CVSS is one source's CVSS vector and base score.
type CVSS struct {
	Source  string  `json:"source"`
	Version string  `json:"version"` // "2.0", "3.0", "3.1", "4.0"
	Vector  string  `json:"vector"`
	Score   float64 `json:"score,omitempty"`
}

// EPSS is the FIRST Exploit Prediction Scoring System score.
type EPSS struct {
	Score      float64 `json:"score"`
	Percentile float64 `json:"percentile"`
	Date       string  `json:"date,omitempty"` // model date, YYYY-MM-DD
}

// KEV is membership of CISA's Known Exploited Vulnerabilities catalog.
type KEV struct {
	DateAdded                  string `json:"dateAdded"`
	DueDate                    string `json:"dueDate,omitempty"`
	RequiredAction             string `json:"requiredAction,omitempty"`
	KnownRansomwareCampaignUse string `json:"knownRansomwareCampaignUse,omitempty"`
}

// Vulnerability is what is known about one id, merged across sources.
type Vulnerability struct {
	ID          string     `json:"id"`
	Aliases     []string   `json:"aliases,omitempty"`
	Title       string     `json:"title,omitempty"`
	Description string     `json:"description,omitempty"`
	Severities  []Severity `json:"severities,omitempty"`
	CVSS        []CVSS     `json:"cvss,omitempty"`
	CWEs        []string   `json:"cwes,omitempty"`
	References  []string   `json:"references,omitempty"`
	Published   time.Time  `json:"published,omitzero"`
	Modified    time.Time  `json:"modified,omitzero"`
	Withdrawn   time.Time  `json:"withdrawn,omitzero"`
	EPSS        *EPSS      `json:"epss,omitempty"`
	KEV         *KEV       `json:"kev,omitempty"`
	// Sources lists the feeds that contributed to this record.
	Sources []string `json:"sources,omitempty"`
}

// Validate reports what makes a unstorable: an empty id, ecosystem or
// package, or a NUL byte in the fields that make its key. A source must
// not put such a record (the store refuses it, failing the build).
func (a *Affected) Validate() error {
	if a.VulnID == "" || a.Ecosystem == "" || a.Package == "" {
		return fmt.Errorf("vulndb: affected record needs id, ecosystem and package (got %q, %q, %q)", a.VulnID, a.Ecosystem, a.Package)
	}
	if strings.IndexByte(a.Ecosystem+a.Package+a.VulnID+a.Source, 0) >= 0 {
		return fmt.Errorf("vulndb: affected record %s/%s/%s contains a NUL byte", a.VulnID, a.Ecosystem, a.Package)
	}
	return nil
}

// Validate reports what makes v unstorable: an empty id or one with a NUL
// byte.
func (v *Vulnerability) Validate() error {
	if v.ID == "" {
		return errors.New("vulndb: vulnerability record without id")
	}
	if strings.IndexByte(v.ID, 0) >= 0 {
		return fmt.Errorf("vulndb: vulnerability id %q contains a NUL byte", v.ID)
	}
	return nil
}
