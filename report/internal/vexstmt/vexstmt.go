// Package vexstmt derives the VEX statements vigil can make about a
// report's findings by itself, for the OpenVEX and CycloneDX VEX writers:
//
//   - a Go finding whose vulnerable symbols are all absent from the binary
//     (match.Unreachable): not_affected, vulnerable_code_not_in_execute_path;
//   - a finding an ignore-file rule with a reason suppressed: not_affected,
//     the reason as the impact statement;
//   - any other finding shown: affected, with the upgrade as the action.
//
// Findings a VEX document suppressed are left out (the statement is that
// document's author's, not vigil's), and so are ignore-file suppressions
// without a reason (a not_affected statement must say why).
package vexstmt

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-scanner/vigil/match"
	"github.com/vigil-scanner/vigil/report"
)

// VEX statuses and the justification vigil gives.
const (
	StatusNotAffected    = "not_affected"
	StatusAffected       = "affected"
	NotInExecutePath     = "vulnerable_code_not_in_execute_path"
	unreachableStatement = "none of the functions the Go vulnerability database names as vulnerable is in the binary's symbol table (vigil symbol analysis)"
)

// Statement is one VEX statement: a vulnerability, a status and the
// packages (package URLs) it is about.
type Statement struct {
	Vulnerability string
	Aliases       []string
	Status        string
	// Justification is an OpenVEX justification label, or "".
	Justification string
	// Impact says why a not_affected statement holds; Action what to do
	// about an affected one; Notes how vigil came to the status.
	Impact, Action, Notes string
	// Purls are the packages, sorted.
	Purls []string
}

// Statements returns the statements for r's findings, one per
// vulnerability and status (and reason), by vulnerability id. Findings of
// packages without a package URL are left out: a statement must name what
// it is about.
func Statements(r *report.Report) []Statement {
	byKey := map[string]*Statement{}
	var keys []string
	for _, res := range r.Results {
		for i := range res.Vulnerabilities {
			f := &res.Vulnerabilities[i]
			st, ok := Of(f, res.Target)
			if !ok || f.PkgPurl == "" {
				continue
			}
			key := strings.Join([]string{st.Vulnerability, st.Status, st.Justification, st.Impact, st.Action, st.Notes}, "\x00")
			if prev, ok := byKey[key]; ok {
				prev.Purls = append(prev.Purls, f.PkgPurl)
				for _, a := range st.Aliases {
					if !slices.Contains(prev.Aliases, a) {
						prev.Aliases = append(prev.Aliases, a)
					}
				}
				continue
			}
			st.Purls = []string{f.PkgPurl}
			byKey[key] = &st
			keys = append(keys, key)
		}
	}
	out := make([]Statement, 0, len(keys))
	for _, k := range keys {
		st := *byKey[k]
		slices.Sort(st.Purls)
		st.Purls = slices.Compact(st.Purls)
		out = append(out, st)
	}
	slices.SortStableFunc(out, func(a, b Statement) int {
		return cmp.Or(cmp.Compare(a.Vulnerability, b.Vulnerability), cmp.Compare(a.Status, b.Status), cmp.Compare(a.Impact+a.Action, b.Impact+b.Action))
	})
	return out
}

// Of is what vigil can say about the finding f, found in target, with
// Purls left empty; false when it says nothing (f was suppressed by a VEX
// document, or by an ignore-file rule without a reason).
func Of(f *match.Finding, target string) (Statement, bool) {
	st := Statement{Vulnerability: f.ID, Aliases: slices.Clone(f.Aliases)}
	s := f.Suppressed
	switch {
	case s != nil && s.Kind == match.SuppressedByIgnoreFile && strings.TrimSpace(s.Reason) != "":
		st.Status = StatusNotAffected
		st.Impact = strings.TrimSpace(s.Reason)
		st.Notes = fmt.Sprintf("suppressed by %s (%s)", s.Source, s.Statement)
		if f.Reachability == match.Unreachable {
			st.Justification = NotInExecutePath
		}
	case s != nil:
		return Statement{}, false
	case f.Reachability == match.Unreachable:
		st.Status = StatusNotAffected
		st.Justification = NotInExecutePath
		st.Impact = unreachableStatement
		st.Notes = "in " + target
	default:
		st.Status = StatusAffected
		st.Action = action(f)
	}
	return st, true
}

// action is what to do about an affected finding. It does not name the
// package, so that the packages one upgrade fixes share a statement.
func action(f *match.Finding) string {
	if !match.HasFix(f) {
		return "No fixed version is known yet."
	}
	return fmt.Sprintf("Upgrade to a fixed version (%s).", cmp.Or(f.FixedVersion, strings.Join(f.FixedVersions, ", ")))
}
