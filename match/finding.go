// Package match decides which vulnerabilities affect which packages of an
// inventory, and describes each such pairing as a Finding.
package match

import (
	"time"

	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/vulndb"
)

// Severities, from most to least severe. A Finding's Severity is always one
// of these.
const (
	SeverityCritical = "CRITICAL"
	SeverityHigh     = "HIGH"
	SeverityMedium   = "MEDIUM"
	SeverityLow      = "LOW"
	SeverityUnknown  = "UNKNOWN"
)

// Severities lists the severities from most to least severe.
func Severities() []string {
	return []string{SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow, SeverityUnknown}
}

// SeverityRank orders severities: CRITICAL is 4, HIGH 3, MEDIUM 2, LOW 1 and
// UNKNOWN (or anything else) 0.
func SeverityRank(s string) int {
	switch s {
	case SeverityCritical:
		return 4
	case SeverityHigh:
		return 3
	case SeverityMedium:
		return 2
	case SeverityLow:
		return 1
	}
	return 0
}

// Reachability values.
const (
	// Unreachable means symbol analysis (Go binaries) found none of the
	// vulnerable symbols reachable from the program.
	Unreachable = "unreachable"
)

// Finding is one vulnerability affecting one package. It is what a report's
// results[].vulnerabilities holds.
type Finding struct {
	// ID is the vulnerability id the finding is reported under: the CVE
	// when there is one, else the source's own id (GHSA-…, GO-…).
	ID      string   `json:"id"`
	Aliases []string `json:"aliases,omitempty"`

	// PkgName, PkgID and PkgPurl identify the affected package: its Name,
	// ID and Purl in the same Result.
	PkgName          string `json:"pkgName"`
	PkgID            string `json:"pkgID,omitempty"`
	PkgPurl          string `json:"pkgPurl,omitempty"`
	InstalledVersion string `json:"installedVersion"`
	// FixedVersions lists every fixed version the source names, lowest
	// first. FixedVersion is the same list joined with ", " (the form
	// people and Trivy-compatible tools read). The matcher sets both.
	FixedVersions []string      `json:"fixedVersions,omitempty"`
	FixedVersion  string        `json:"fixedVersion,omitempty"`
	Status        vulndb.Status `json:"status"`

	// Severity is one of the Severity constants; SeveritySource names the
	// source whose rating was chosen ("nvd", "debian", "ghsa", …).
	Severity       string `json:"severity"`
	SeveritySource string `json:"severitySource,omitempty"`
	// CVSS holds each source's vectors and scores, keyed by source name.
	CVSS map[string]CVSS `json:"cvss,omitempty"`
	EPSS *vulndb.EPSS    `json:"epss,omitempty"`
	// KEV is the CISA Known Exploited Vulnerabilities entry, or nil (JSON
	// null) when the vulnerability is not in the catalog.
	KEV *vulndb.KEV `json:"kev"`

	Title       string   `json:"title,omitempty"`
	Description string   `json:"description,omitempty"`
	References  []string `json:"references,omitempty"`
	// PrimaryURL is the page a person should open first.
	PrimaryURL string      `json:"primaryURL,omitempty"`
	DataSource *DataSource `json:"dataSource,omitempty"`
	// Layer is the layer that introduced the package.
	Layer            inventory.LayerRef `json:"layer,omitzero"`
	PublishedDate    time.Time          `json:"publishedDate,omitzero"`
	LastModifiedDate time.Time          `json:"lastModifiedDate,omitzero"`
	CWEs             []string           `json:"cwes,omitempty"` // "CWE-79"

	// Suppressed is set when policy (an ignore file or a VEX statement)
	// suppressed the finding; writers that show findings to people leave
	// suppressed findings out.
	Suppressed *Suppression `json:"suppressed,omitempty"`
	// Reachability is Unreachable when analysis showed the vulnerable code
	// cannot be called; empty when unknown or reachable.
	Reachability string `json:"reachability,omitempty"`
	// Risk ranks the finding (RiskOf); the matcher sets it.
	Risk Risk `json:"risk,omitzero"`
}

// CVSS is one source's CVSS vectors and base scores; empty fields are
// versions the source does not give.
type CVSS struct {
	V2Vector  string  `json:"v2Vector,omitempty"`
	V2Score   float64 `json:"v2Score,omitempty"`
	V3Vector  string  `json:"v3Vector,omitempty"`
	V3Score   float64 `json:"v3Score,omitempty"`
	V40Vector string  `json:"v40Vector,omitempty"`
	V40Score  float64 `json:"v40Score,omitempty"`
}

// DataSource is the advisory feed the finding's affected range came from.
type DataSource struct {
	ID   string `json:"id"`             // feed name, as vulndb.Affected.Source
	Name string `json:"name,omitempty"` // "Alpine Secdb", "Debian Security Tracker", …
	URL  string `json:"url,omitempty"`
}

// Suppression kinds.
const (
	SuppressedByIgnoreFile = "ignorefile"
	SuppressedByVEX        = "vex"
)

// Suppression says which policy statement suppressed a finding.
type Suppression struct {
	// Kind is SuppressedByIgnoreFile or SuppressedByVEX.
	Kind string `json:"kind"`
	// Source is the ignore file or VEX document, as given on the command
	// line.
	Source string `json:"source"`
	// Statement identifies the rule or statement within Source (an
	// ignore-file entry's id or line, a VEX statement's @id or index).
	Statement string `json:"statement,omitempty"`
	// Status is the VEX status ("not_affected", "fixed") for VEX.
	Status string `json:"status,omitempty"`
	// Justification is the VEX justification
	// ("vulnerable_code_not_in_execute_path", …), when given.
	Justification string `json:"justification,omitempty"`
	// Reason is the free-text statement or ignore-file comment.
	Reason string `json:"reason,omitempty"`
}
