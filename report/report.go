// Package report is vigil's scan report: the inventory of an artifact plus
// the findings for each of its results, and vigil's own JSON encoding of it
// (documented in docs/json-schema.md).
//
// Every other output format is its own package under report/ (table,
// cyclonedx, spdx, …). Each exports
//
//	func Write(w io.Writer, r *report.Report, opts report.Options) error
//
// and package report/format chooses one by name. A writer never changes
// the Report it is given and writes the same bytes for the same Report.
package report

import (
	"time"

	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/match"
)

// SchemaVersion is the version of the JSON report this package reads and
// writes.
const SchemaVersion = inventory.SchemaVersion

// Report is the result of one scan.
type Report struct {
	SchemaVersion int `json:"schemaVersion"`
	// CreatedAt is when the scan ran. Writers use it as the document
	// timestamp, never the clock, so output is reproducible.
	CreatedAt time.Time          `json:"createdAt"`
	Artifact  inventory.Artifact `json:"artifact"`
	Results   []Result           `json:"results"`
	// Warnings list what the scan could not read: a report with warnings
	// is incomplete, whatever its findings.
	Warnings []inventory.Warning `json:"warnings,omitempty"`
	// FixPlan groups the findings shown by the upgrade that removes them,
	// most risk removed first (package fixplan).
	FixPlan []Fix `json:"fixPlan,omitempty"`
	// BaseUpdates are the newer tags of the base image's release line and
	// what each changes, most risk removed first (package baseupdate;
	// only with --base-updates).
	BaseUpdates []BaseUpdate `json:"baseUpdates,omitempty"`
}

// Result is one inventory.Result with the findings for its packages.
type Result struct {
	Target          string              `json:"target"`
	Class           string              `json:"class"`
	Type            string              `json:"type"`
	Packages        []inventory.Package `json:"packages,omitempty"`
	Vulnerabilities []match.Finding     `json:"vulnerabilities,omitempty"`
}

// Options are the output settings. Each format reads the ones it knows.
type Options struct {
	// ListAllPkgs includes every package, not only findings (JSON, table).
	ListAllPkgs bool
	// Color enables ANSI colours (table). The CLI sets it for terminals.
	Color bool
	// Template is the Go template text for the template format.
	Template string
	// AppVersion is vigil's version, recorded as the producing tool in
	// SBOMs.
	AppVersion string
	// NoVulnScan says that no vulnerability scan ran (--scanners none),
	// so the report's lack of findings means nothing: the table prints no
	// vulnerability counts.
	NoVulnScan bool
	// Sort is the order of findings in the table: SortRisk (also when
	// empty), SortSeverity or SortPackage.
	Sort string
}

// Orders of findings, the values of Options.Sort.
const (
	// SortRisk: highest risk score first (match.CompareRisk).
	SortRisk = "risk"
	// SortSeverity: most severe first, then by risk.
	SortSeverity = "severity"
	// SortPackage: by package name and version, then most severe first.
	SortPackage = "package"
)

// Sorts lists the orders of findings, the default first.
func Sorts() []string { return []string{SortRisk, SortSeverity, SortPackage} }

// FromInventory returns a report of inv's artifact and results, without
// findings. CreatedAt is left zero for the caller to set. The report shares
// no slices with inv.
func FromInventory(inv *inventory.Inventory) *Report {
	r := &Report{
		SchemaVersion: SchemaVersion,
		Artifact:      inv.Artifact,
		Results:       make([]Result, 0, len(inv.Results)),
		Warnings:      append([]inventory.Warning(nil), inv.Warnings...),
	}
	for _, res := range inv.Results {
		r.Results = append(r.Results, Result{
			Target:   res.Target,
			Class:    res.Class,
			Type:     res.Type,
			Packages: append([]inventory.Package(nil), res.Packages...),
		})
	}
	return r
}

// Inventory returns the artifact and packages of r, dropping findings, so a
// saved report can be matched again. A report written without
// Options.ListAllPkgs carries no packages; its inventory has none either
// (see HasPackages).
func (r *Report) Inventory() *inventory.Inventory {
	inv := &inventory.Inventory{
		Artifact: r.Artifact,
		Results:  make([]inventory.Result, 0, len(r.Results)),
		Warnings: append([]inventory.Warning(nil), r.Warnings...),
	}
	for _, res := range r.Results {
		inv.Results = append(inv.Results, inventory.Result{
			Target:   res.Target,
			Class:    res.Class,
			Type:     res.Type,
			Packages: append([]inventory.Package(nil), res.Packages...),
		})
	}
	return inv
}

// HasPackages reports whether any result lists packages.
func (r *Report) HasPackages() bool {
	for _, res := range r.Results {
		if len(res.Packages) > 0 {
			return true
		}
	}
	return false
}
