package report

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-scanner/vigil/match"
)

// LikelyEPSS is the EPSS probability from which a summary counts a finding
// as likely to be exploited (10 %).
const LikelyEPSS = 0.1

// Summary counts a report's findings.
type Summary struct {
	// Findings counts the findings shown: those not suppressed.
	Findings int
	// Suppressed counts findings an ignore rule or VEX statement
	// suppressed.
	Suppressed int
	// KEV, LikelyExploited and Fixable count shown findings in CISA KEV,
	// with an EPSS probability of at least LikelyEPSS, and with a fixed
	// version.
	KEV, LikelyExploited, Fixable int
	// Base counts shown findings in packages the base image brought.
	Base int
}

// Summarize counts r's findings.
func Summarize(r *Report) Summary {
	var s Summary
	for _, res := range r.Results {
		for i := range res.Vulnerabilities {
			f := &res.Vulnerabilities[i]
			if f.Suppressed != nil {
				s.Suppressed++
				continue
			}
			s.Findings++
			if f.KEV != nil {
				s.KEV++
			}
			if f.EPSS != nil && f.EPSS.Score >= LikelyEPSS {
				s.LikelyExploited++
			}
			if match.HasFix(f) {
				s.Fixable++
			}
			if f.Layer.Base {
				s.Base++
			}
		}
	}
	return s
}

// String is the one-line summary: "87 findings: 3 known-exploited, 12 with
// EPSS ≥ 10 %, 41 fixable; 60 in the base image; 2 suppressed".
func (s Summary) String() string {
	var b strings.Builder
	if s.Findings == 0 {
		b.WriteString("no findings")
	} else {
		b.WriteString(plural(s.Findings, "finding", "findings"))
		fmt.Fprintf(&b, ": %d known-exploited, %d with EPSS ≥ %g %%, %d fixable", s.KEV, s.LikelyExploited, LikelyEPSS*100, s.Fixable)
	}
	if s.Base > 0 {
		fmt.Fprintf(&b, "; %d in the base image", s.Base)
	}
	if s.Suppressed > 0 {
		fmt.Fprintf(&b, "; %d suppressed", s.Suppressed)
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// SortFindings sorts fs in place in the named order (one of Sorts; empty
// is SortRisk).
func SortFindings(fs []match.Finding, order string) {
	switch order {
	case SortSeverity:
		slices.SortStableFunc(fs, func(a, b match.Finding) int {
			return cmp.Or(
				cmp.Compare(match.SeverityRank(b.Severity), match.SeverityRank(a.Severity)),
				match.CompareRisk(&a, &b),
			)
		})
	case SortPackage:
		slices.SortStableFunc(fs, func(a, b match.Finding) int {
			return cmp.Or(
				cmp.Compare(a.PkgName, b.PkgName),
				cmp.Compare(a.InstalledVersion, b.InstalledVersion),
				cmp.Compare(match.SeverityRank(b.Severity), match.SeverityRank(a.Severity)),
				cmp.Compare(a.ID, b.ID),
			)
		})
	default:
		slices.SortStableFunc(fs, func(a, b match.Finding) int { return match.CompareRisk(&a, &b) })
	}
}
