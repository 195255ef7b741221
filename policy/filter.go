package policy

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/vigil-scanner/vigil/match"
	"github.com/vigil-scanner/vigil/vulndb"
)

// Filter says which findings count: those a report keeps and the gate
// fails on. A finding is kept when it passes every criterion that is set;
// the zero Filter keeps every finding. It reads the finding only, so
// anything holding findings (a scan's policy, the server's alert routes)
// filters alike.
type Filter struct {
	// Severities keeps only findings of these severities; empty keeps all.
	Severities []string
	// IgnoreUnfixed drops findings with no fixed version.
	IgnoreUnfixed bool
	// IgnoreUnreachable drops findings whose vulnerable symbols are absent
	// from the binary (Finding.Reachability is match.Unreachable).
	IgnoreUnreachable bool
	// IgnoreStatuses drops findings with these statuses.
	IgnoreStatuses []vulndb.Status

	// KEV, MinEPSS and MinEPSSPercentile keep only findings with evidence
	// of exploitation: in CISA's KEV catalog, an EPSS probability of at
	// least MinEPSS, an EPSS percentile of at least MinEPSSPercentile.
	// They are alternatives: a finding meeting any of those set is kept
	// ("known-exploited or likely-exploited"). Zero leaves each unset.
	KEV               bool
	MinEPSS           float64
	MinEPSSPercentile float64

	// ExcludeBase drops findings in packages the base image brought
	// (Finding.Layer.Base).
	ExcludeBase bool
}

// statuses are the finding statuses IgnoreStatuses may name.
var statuses = []vulndb.Status{vulndb.StatusFixed, vulndb.StatusAffected, vulndb.StatusWillNotFix, vulndb.StatusEndOfLife}

// Validate checks that the severities and statuses are ones a finding can
// have (a misspelt one must not silently keep or drop everything; the
// error lists the valid ones) and that the EPSS thresholds are
// probabilities.
func (f Filter) Validate() error {
	for _, s := range f.Severities {
		if match.SeverityRank(s) == 0 && s != match.SeverityUnknown {
			return fmt.Errorf("unknown severity %q (want %s)", s, strings.Join(match.Severities(), ", "))
		}
	}
	for _, s := range f.IgnoreStatuses {
		if !slices.Contains(statuses, s) {
			names := make([]string, len(statuses))
			for i, st := range statuses {
				names[i] = string(st)
			}
			return fmt.Errorf("unknown status %q (want %s)", s, strings.Join(names, ", "))
		}
	}
	for _, x := range []struct {
		name string
		v    float64
	}{{"minimum EPSS", f.MinEPSS}, {"minimum EPSS percentile", f.MinEPSSPercentile}} {
		if math.IsNaN(x.v) || x.v < 0 || x.v > 1 {
			return fmt.Errorf("%s %v: want a number from 0 to 1 (0.1 is 10 %%)", x.name, x.v)
		}
	}
	return nil
}

// Exploitation reports whether any exploitation criterion (KEV, MinEPSS,
// MinEPSSPercentile) is set.
func (f Filter) Exploitation() bool {
	return f.KEV || f.MinEPSS > 0 || f.MinEPSSPercentile > 0
}

// Keep reports whether x passes the filter.
func (f Filter) Keep(x *match.Finding) bool {
	if len(f.Severities) > 0 && !slices.Contains(f.Severities, x.Severity) {
		return false
	}
	if f.IgnoreUnfixed && !match.HasFix(x) {
		return false
	}
	if f.IgnoreUnreachable && x.Reachability == match.Unreachable {
		return false
	}
	if slices.Contains(f.IgnoreStatuses, x.Status) {
		return false
	}
	if f.ExcludeBase && x.Layer.Base {
		return false
	}
	var epss, percentile float64
	if x.EPSS != nil {
		epss, percentile = x.EPSS.Score, x.EPSS.Percentile
	}
	return f.Exploited(x.KEV != nil, epss, percentile)
}

// Exploited applies the exploitation criteria alone to a vulnerability
// in KEV (kev) with an EPSS probability and percentile (zero when not
// scored): true when no criterion is set or any set one is met. Alert
// routes, which hold these values rather than findings, call it.
func (f Filter) Exploited(kev bool, epss, percentile float64) bool {
	if !f.Exploitation() {
		return true
	}
	return (f.KEV && kev) ||
		(f.MinEPSS > 0 && epss >= f.MinEPSS) ||
		(f.MinEPSSPercentile > 0 && percentile >= f.MinEPSSPercentile)
}
