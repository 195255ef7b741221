// Package rpm compares RPM versions ([epoch:]version[-release]) the way
// rpm does: rpmvercmp for each field (lib/rpmvercmp.c) and rpmverCmp for the
// EVR triple (lib/rpmver.c).
package rpm

import (
	"fmt"
	"strings"
)

// Version is a parsed RPM EVR. Its fields are substrings of the parsed
// text; parsing does not allocate.
type Version struct {
	// Epoch is the epoch digits as written; "" means 0.
	Epoch   string
	Version string
	// Release is "" when the text has no release; a missing release sorts
	// before any release (as rpm 4.18's rpm.vercmp does).
	Release string
}

// Parse parses [epoch:]version[-release]. The release is everything after
// the last hyphen and the epoch the leading digits before a colon, as in
// rpm's parseEVR. Empty fields, blanks and control characters are errors;
// anything else rpmvercmp can order is accepted.
func Parse(s string) (Version, error) {
	if s == "" {
		return Version{}, fmt.Errorf("rpm version %q: empty", s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == 0x7f {
			return Version{}, fmt.Errorf("rpm version %q: blank or control character", s)
		}
	}
	var v Version
	rest := s
	i := 0
	for i < len(rest) && isDigit(rest[i]) {
		i++
	}
	if i < len(rest) && rest[i] == ':' {
		v.Epoch = rest[:i]
		rest = rest[i+1:]
	}
	if j := strings.LastIndexByte(rest, '-'); j >= 0 {
		v.Release = rest[j+1:]
		rest = rest[:j]
		if v.Release == "" {
			return Version{}, fmt.Errorf("rpm version %q: empty release", s)
		}
	}
	v.Version = rest
	if v.Version == "" {
		return Version{}, fmt.Errorf("rpm version %q: empty version", s)
	}
	if strings.IndexByte(v.Version, ':') >= 0 {
		return Version{}, fmt.Errorf("rpm version %q: epoch is not a number", s)
	}
	return v, nil
}

// String returns the EVR as epoch:version-release, leaving out an absent
// epoch or release.
func (v Version) String() string {
	s := v.Version
	if v.Epoch != "" {
		s = v.Epoch + ":" + s
	}
	if v.Release != "" {
		s += "-" + v.Release
	}
	return s
}

// Compare returns -1, 0 or +1 as v sorts before, equal to or after w:
// epochs first (missing is 0), then versions, then releases (a missing
// release sorts before any release, as rpm.vercmp does; rpm's dependency
// matching would instead ignore it).
func (v Version) Compare(w Version) int {
	ea, eb := v.Epoch, w.Epoch
	if ea == "" {
		ea = "0"
	}
	if eb == "" {
		eb = "0"
	}
	if c := Vercmp(ea, eb); c != 0 {
		return c
	}
	if c := Vercmp(v.Version, w.Version); c != 0 {
		return c
	}
	switch {
	case v.Release == "" && w.Release == "":
		return 0
	case v.Release == "":
		return -1
	case w.Release == "":
		return 1
	}
	return Vercmp(v.Release, w.Release)
}

// Compare parses a and b and compares them.
func Compare(a, b string) (int, error) {
	va, err := Parse(a)
	if err != nil {
		return 0, err
	}
	vb, err := Parse(b)
	if err != nil {
		return 0, err
	}
	return va.Compare(vb), nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// Vercmp is rpmvercmp: it compares one version or release field. Runs of
// digits compare numerically (of any length), runs of letters by byte
// value, a digit run is newer than a letter run, separators only separate,
// '~' sorts before anything (even the end) and '^' sorts after the end but
// before anything else.
func Vercmp(a, b string) int {
	if a == b {
		return 0
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		for i < len(a) && !isDigit(a[i]) && !isAlpha(a[i]) && a[i] != '~' && a[i] != '^' {
			i++
		}
		for j < len(b) && !isDigit(b[j]) && !isAlpha(b[j]) && b[j] != '~' && b[j] != '^' {
			j++
		}
		ca, cb := at(a, i), at(b, j)
		if ca == '~' || cb == '~' {
			if ca != '~' {
				return 1
			}
			if cb != '~' {
				return -1
			}
			i++
			j++
			continue
		}
		if ca == '^' || cb == '^' {
			switch {
			case i == len(a):
				return -1
			case j == len(b):
				return 1
			case ca != '^':
				return 1
			case cb != '^':
				return -1
			}
			i++
			j++
			continue
		}
		if i == len(a) || j == len(b) {
			break
		}
		si, sj := i, j
		isNum := isDigit(ca)
		if isNum {
			for i < len(a) && isDigit(a[i]) {
				i++
			}
			for j < len(b) && isDigit(b[j]) {
				j++
			}
		} else {
			for i < len(a) && isAlpha(a[i]) {
				i++
			}
			for j < len(b) && isAlpha(b[j]) {
				j++
			}
		}
		// b's segment is of the other kind: a numeric segment is newer.
		if sj == j {
			if isNum {
				return 1
			}
			return -1
		}
		sa, sb := a[si:i], b[sj:j]
		if isNum {
			sa = strings.TrimLeft(sa, "0")
			sb = strings.TrimLeft(sb, "0")
			if len(sa) != len(sb) {
				if len(sa) > len(sb) {
					return 1
				}
				return -1
			}
		}
		if c := strings.Compare(sa, sb); c != 0 {
			return c
		}
	}
	switch {
	case i >= len(a) && j >= len(b):
		return 0
	case i >= len(a):
		return -1
	}
	return 1
}

func at(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}
