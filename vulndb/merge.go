package vulndb

import (
	"slices"
	"time"
)

// mergeAffected folds b, a later record for the same (id, source,
// ecosystem, package), into a: ranges, versions, fixed versions, arches and
// symbols are unioned (first-seen order kept). The status is fixed when
// either record is fixed, otherwise the later non-empty status wins.
// Fixed versions stay in the order the sources gave them: ordering needs the
// scheme's comparer, which the matcher applies (package version depends on
// this package for the scheme names, so vulndb cannot use it).
func mergeAffected(a, b Affected) Affected {
	for _, r := range b.Ranges {
		if !slices.ContainsFunc(a.Ranges, func(x Range) bool { return equalRange(x, r) }) {
			a.Ranges = append(a.Ranges, r)
		}
	}
	a.Versions = union(a.Versions, b.Versions)
	a.Fixed = union(a.Fixed, b.Fixed)
	a.Arches = union(a.Arches, b.Arches)
	a.Symbols = union(a.Symbols, b.Symbols)
	switch {
	case a.Status == StatusFixed || b.Status == StatusFixed:
		a.Status = StatusFixed
	case b.Status != "":
		a.Status = b.Status
	}
	if a.Severity == "" {
		a.Severity = b.Severity
	}
	if a.Modularitylabel == "" {
		a.Modularitylabel = b.Modularitylabel
	}
	return a
}

func equalRange(a, b Range) bool {
	return a.Scheme == b.Scheme && slices.Equal(a.Events, b.Events)
}

// mergeVulnerability folds b, a later record for the same id, into a.
// Lists are unioned; severities are kept one per source and CVSS one per
// (source, version), the later record replacing an earlier one from the
// same source; empty text and dates are filled; EPSS and KEV are replaced
// when b carries them.
func mergeVulnerability(a, b Vulnerability) Vulnerability {
	a.Aliases = union(a.Aliases, b.Aliases)
	a.CWEs = union(a.CWEs, b.CWEs)
	a.References = union(a.References, b.References)
	a.Sources = union(a.Sources, b.Sources)
	for _, s := range b.Severities {
		if i := slices.IndexFunc(a.Severities, func(x Severity) bool { return x.Source == s.Source }); i >= 0 {
			a.Severities[i] = s
		} else {
			a.Severities = append(a.Severities, s)
		}
	}
	for _, c := range b.CVSS {
		if i := slices.IndexFunc(a.CVSS, func(x CVSS) bool { return x.Source == c.Source && x.Version == c.Version }); i >= 0 {
			a.CVSS[i] = c
		} else {
			a.CVSS = append(a.CVSS, c)
		}
	}
	if a.Title == "" {
		a.Title = b.Title
	}
	if a.Description == "" {
		a.Description = b.Description
	}
	a.Published = fillTime(a.Published, b.Published)
	a.Modified = fillTime(a.Modified, b.Modified)
	a.Withdrawn = fillTime(a.Withdrawn, b.Withdrawn)
	if b.EPSS != nil {
		a.EPSS = b.EPSS
	}
	if b.KEV != nil {
		a.KEV = b.KEV
	}
	return a
}

func fillTime(a, b time.Time) time.Time {
	if a.IsZero() {
		return b
	}
	return a
}

// union appends to a the elements of b it lacks.
func union(a, b []string) []string {
	for _, s := range b {
		if !slices.Contains(a, s) {
			a = append(a, s)
		}
	}
	return a
}
