package report

// Fix is one upgrade of a report's fix plan: what to upgrade, to which
// version, and which findings that removes.
type Fix struct {
	// Target is the result whose packages the upgrade concerns.
	Target string `json:"target"`
	// Class is the result's class (inventory.ClassOSPkgs or ClassLangPkgs).
	Class string `json:"class"`
	// Package is what to upgrade: for OS packages the source package
	// (upgrading it upgrades every binary it builds), for language
	// packages the direct dependency that brings the vulnerable ones when
	// the dependency graph says so, else the vulnerable package itself.
	Package string `json:"package"`
	// InstalledVersion is Package's version: for Debian and Ubuntu the
	// source version. Empty when unknown.
	InstalledVersion string `json:"installedVersion,omitempty"`
	// FixedVersion is the lowest version of Package that clears every
	// finding it can clear: the highest of the findings' lowest fixed
	// versions above the installed one. Empty when Package is a direct
	// dependency bumped for the sake of others: Vulnerable then says what
	// each must reach.
	FixedVersion string `json:"fixedVersion,omitempty"`
	// Vulnerable are the vulnerable packages the upgrade concerns, each
	// with the version it must reach: the binaries of a source package,
	// the package itself, or what a direct dependency brings.
	Vulnerable []FixedPackage `json:"vulnerable"`
	// Findings are the ids of the findings the upgrade removes, by
	// decreasing risk.
	Findings []string `json:"findings"`
	// RiskRemoved is the sum of their risk scores; Severities counts them
	// by severity.
	RiskRemoved float64        `json:"riskRemoved"`
	Severities  map[string]int `json:"severities"`
	// Unfixed counts findings of the same packages that no version fixes
	// yet: the upgrade leaves them.
	Unfixed int `json:"unfixed,omitempty"`
	// Base is set when every package concerned came with the base image.
	Base bool `json:"base,omitempty"`
}

// FixedPackage is one vulnerable package of a Fix.
type FixedPackage struct {
	Name             string `json:"name"`
	InstalledVersion string `json:"installedVersion"`
	// FixedVersion is the lowest version that clears the package's
	// fixable findings; empty when none is fixable.
	FixedVersion string `json:"fixedVersion,omitempty"`
	// Via lists the direct dependencies that bring the package, when it
	// is transitive and the graph is known.
	Via []string `json:"via,omitempty"`
}

// BaseUpdate is what moving the base image to another tag of its release
// line changes: the findings of the candidate image against those of the
// current base image.
type BaseUpdate struct {
	// From is the current base image's reference; To the candidate's, with
	// Digest its manifest digest.
	From   string `json:"from"`
	To     string `json:"to"`
	Digest string `json:"digest,omitempty"`
	// Findings is how many findings the candidate has; Removed how many of
	// the current base's it has not, Added how many it has that the
	// current base has not (a finding is a package name and vulnerability
	// id).
	Findings int `json:"findings"`
	Removed  int `json:"removed"`
	Added    int `json:"added"`
	// Severities is the change in findings per severity, candidate minus
	// current, for the severities that change.
	Severities map[string]int `json:"severities,omitempty"`
	// RiskRemoved is the current base's findings' total risk minus the
	// candidate's (negative when the candidate is riskier).
	RiskRemoved float64 `json:"riskRemoved"`
}
