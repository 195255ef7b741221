package match

import (
	"fmt"
	"slices"

	"github.com/vigil-scanner/vigil/vulndb"
)

// Comparer orders two versions of one scheme; package version implements
// one per scheme.
type Comparer interface {
	Compare(a, b string) (int, error)
}

// affects reports whether version v lies in a, evaluated as the OSV schema
// defines: v is affected when it equals an entry of a.Versions, or when,
// walking the sorted events of any range, the last event at or below v is an
// introduction (v >= introduced sets it, v >= fixed clears it, v >
// last_affected clears it), and v is below every limit of that range.
//
// A record with neither ranges nor versions affects every version: that is
// how distributions state "affected, no fix yet" for a whole package.
func affects(cmp Comparer, v string, a *vulndb.Affected) (bool, error) {
	for _, x := range a.Versions {
		c, err := cmp.Compare(v, x)
		if err != nil {
			// One malformed version in an explicit list (real GHSA data
			// has "4.36.-1") must not hide the others.
			if v == x {
				return true, nil
			}
			continue
		}
		if c == 0 {
			return true, nil
		}
	}
	if len(a.Ranges) == 0 {
		return len(a.Versions) == 0, nil
	}
	for i := range a.Ranges {
		in, err := inRange(cmp, v, a.Ranges[i].Events)
		if err != nil {
			return false, err
		}
		if in {
			return true, nil
		}
	}
	return false, nil
}

type event struct {
	kind    byte // 'i'ntroduced, 'f'ixed, 'l'ast_affected, 'L'imit
	version string
	zero    bool // introduced "0": before every version
}

func inRange(cmp Comparer, v string, events []vulndb.Event) (bool, error) {
	evs := make([]event, 0, len(events))
	var limits []string
	for _, e := range events {
		switch {
		case e.Introduced != "":
			evs = append(evs, event{kind: 'i', version: e.Introduced, zero: e.Introduced == "0"})
		case e.Fixed != "":
			evs = append(evs, event{kind: 'f', version: e.Fixed})
		case e.LastAffected != "":
			evs = append(evs, event{kind: 'l', version: e.LastAffected})
		case e.Limit != "":
			if e.Limit != "*" {
				limits = append(limits, e.Limit)
			}
		}
	}
	var sortErr error
	slices.SortStableFunc(evs, func(a, b event) int {
		switch {
		case a.zero && b.zero:
			return 0
		case a.zero:
			return -1
		case b.zero:
			return 1
		}
		c, err := cmp.Compare(a.version, b.version)
		if err != nil && sortErr == nil {
			sortErr = err
		}
		return c
	})
	if sortErr != nil {
		return false, fmt.Errorf("range event: %w", sortErr)
	}
	for _, l := range limits {
		c, err := cmp.Compare(v, l)
		if err != nil {
			return false, fmt.Errorf("range limit: %w", err)
		}
		if c >= 0 {
			return false, nil
		}
	}
	affected := false
	for _, e := range evs {
		if e.zero {
			affected = true
			continue
		}
		c, err := cmp.Compare(v, e.version)
		if err != nil {
			return false, fmt.Errorf("range event: %w", err)
		}
		switch e.kind {
		case 'i':
			if c >= 0 {
				affected = true
			}
		case 'f':
			if c >= 0 {
				affected = false
			}
		case 'l':
			if c > 0 {
				affected = false
			}
		}
	}
	return affected, nil
}
