// Package semver parses and orders Semantic Versioning 2.0.0 versions
// (https://semver.org/spec/v2.0.0.html) and the dialects built on it:
//
//   - [Parse]: strict SemVer 2.0.0, as used by OSV "SEMVER" ranges, Cargo
//     (crates.io) and Hex. A single leading "v" is tolerated because feeds
//     write one now and then; nothing else is relaxed.
//   - [ParseGo]: Go module versions with golang.org/x/mod/semver rules, the
//     "v" optional (the Go vulndb's OSV ranges drop it); "v1" and "v1.2"
//     are shorthands for v1.0.0 and v1.2.0.
//   - [ParseLoose]: node-semver's loose mode for npm: surrounding blanks,
//     leading "v"/"=" characters, leading zeros, and a pre-release without
//     its hyphen ("1.2.3beta").
//   - [ParsePub]: Dart's pub_semver, which allows leading zeros and orders
//     build metadata (see [Version.ComparePub]).
//
// [Version.Compare] orders by SemVer precedence: build metadata is ignored,
// so "+incompatible" Go versions and Go pseudo-versions (which are
// pre-releases) order the way the go command orders them.
package semver

import (
	"fmt"
	"strings"
)

// Version is a parsed semantic version. Its fields are substrings of the
// parsed text; parsing and comparing do not allocate.
type Version struct {
	// Major, Minor and Patch are decimal digits without leading zeros
	// ("0" for zero); they may exceed any integer type.
	Major, Minor, Patch string
	// Prerelease is the dot-separated pre-release without its "-"; "" for
	// a release.
	Prerelease string
	// Build is the build metadata without its "+".
	Build string
}

// Parse parses a strict SemVer 2.0.0 version, optionally preceded by "v".
func Parse(s string) (Version, error) {
	v, ok := parse(strings.TrimPrefix(s, "v"), dialect{})
	if !ok {
		return Version{}, fmt.Errorf("semver version %q: invalid", s)
	}
	return v, nil
}

// ParseGo parses a Go module version as golang.org/x/mod/semver does, with
// or without its "v".
func ParseGo(s string) (Version, error) {
	v, ok := parse(strings.TrimPrefix(s, "v"), dialect{short: true})
	if !ok {
		return Version{}, fmt.Errorf("go version %q: invalid", s)
	}
	return v, nil
}

// maxSafeInteger is JavaScript's Number.MAX_SAFE_INTEGER, beyond which
// node-semver rejects a version number.
const maxSafeInteger = "9007199254740991"

// ParseLoose parses a version the way node-semver's loose mode does
// (new SemVer(s, {loose: true})).
func ParseLoose(s string) (Version, error) {
	t := strings.TrimSpace(s)
	t = strings.TrimLeft(t, "v= \t\n\r\f\v")
	v, ok := parse(t, dialect{leadingZeros: true, hyphenless: true})
	if ok {
		for _, n := range [...]string{v.Major, v.Minor, v.Patch} {
			if compareNumber(n, maxSafeInteger) > 0 {
				ok = false
			}
		}
	}
	if !ok {
		return Version{}, fmt.Errorf("npm version %q: invalid", s)
	}
	return v, nil
}

// ParsePub parses a version as Dart's pub_semver does: major.minor.patch
// with optional pre-release and build, leading zeros allowed.
func ParsePub(s string) (Version, error) {
	v, ok := parse(s, dialect{leadingZeros: true})
	if !ok {
		return Version{}, fmt.Errorf("pub version %q: invalid", s)
	}
	return v, nil
}

// String returns the version in canonical form, without a "v".
func (v Version) String() string {
	s := v.Major + "." + v.Minor + "." + v.Patch
	if v.Prerelease != "" {
		s += "-" + v.Prerelease
	}
	if v.Build != "" {
		s += "+" + v.Build
	}
	return s
}

// Compare returns -1, 0 or +1 as v has lower, equal or higher precedence
// than w. Build metadata is ignored.
func (v Version) Compare(w Version) int {
	if c := compareNumber(v.Major, w.Major); c != 0 {
		return c
	}
	if c := compareNumber(v.Minor, w.Minor); c != 0 {
		return c
	}
	if c := compareNumber(v.Patch, w.Patch); c != 0 {
		return c
	}
	switch {
	case v.Prerelease == w.Prerelease:
		return 0
	case v.Prerelease == "":
		return 1
	case w.Prerelease == "":
		return -1
	}
	return compareIdentifiers(v.Prerelease, w.Prerelease)
}

// ComparePub orders like [Version.Compare] and then, as pub_semver does,
// puts a version without build metadata before one with it and compares
// build identifiers like pre-release ones.
func (v Version) ComparePub(w Version) int {
	if c := v.Compare(w); c != 0 {
		return c
	}
	switch {
	case v.Build == w.Build:
		return 0
	case v.Build == "":
		return -1
	case w.Build == "":
		return 1
	}
	return compareIdentifiers(v.Build, w.Build)
}

// compareIdentifiers compares dot-separated identifier lists: numeric
// identifiers numerically and before alphanumeric ones, alphanumeric ones
// in ASCII order, and a shorter list first when it is a prefix.
func compareIdentifiers(a, b string) int {
	for {
		var x, y string
		x, a, _ = strings.Cut(a, ".")
		y, b, _ = strings.Cut(b, ".")
		if x == "" || y == "" {
			// at least one list is exhausted (identifiers are non-empty)
			switch {
			case x == "" && y == "":
				return 0
			case x == "":
				return -1
			}
			return 1
		}
		xn, yn := isNumeric(x), isNumeric(y)
		var c int
		switch {
		case xn && yn:
			c = compareNumber(x, y)
		case xn:
			c = -1
		case yn:
			c = 1
		default:
			c = strings.Compare(x, y)
		}
		if c != 0 {
			return c
		}
	}
}

// compareNumber compares decimal digit strings of any length.
func compareNumber(a, b string) int {
	a = strings.TrimLeft(a, "0")
	b = strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

func isNumeric(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isIdentChar(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-'
}

// dialect says what parse relaxes.
type dialect struct {
	leadingZeros bool // in numbers and numeric identifiers
	hyphenless   bool // a pre-release may follow the patch without "-"
	short        bool // "1" and "1.2" stand for 1.0.0 and 1.2.0
}

// parse reads major.minor.patch[-pre][+build].
func parse(s string, d dialect) (v Version, ok bool) {
	var rest string
	if v.Major, rest, ok = number(s, d.leadingZeros); !ok {
		return Version{}, false
	}
	if d.short && rest == "" {
		v.Minor, v.Patch = "0", "0"
		return v, true
	}
	if rest, ok = strings.CutPrefix(rest, "."); !ok {
		return Version{}, false
	}
	if v.Minor, rest, ok = number(rest, d.leadingZeros); !ok {
		return Version{}, false
	}
	if d.short && rest == "" {
		v.Patch = "0"
		return v, true
	}
	if rest, ok = strings.CutPrefix(rest, "."); !ok {
		return Version{}, false
	}
	if v.Patch, rest, ok = number(rest, d.leadingZeros); !ok {
		return Version{}, false
	}
	if rest == "" {
		return v, true
	}
	if pre, cut := strings.CutPrefix(rest, "-"); cut || d.hyphenless && rest[0] != '+' {
		if !cut {
			pre = rest
		}
		i := strings.IndexByte(pre, '+')
		if i < 0 {
			i = len(pre)
		}
		v.Prerelease, rest = pre[:i], pre[i:]
		if !identifiers(v.Prerelease, !d.leadingZeros) {
			return Version{}, false
		}
	}
	if rest == "" {
		return v, true
	}
	build, cut := strings.CutPrefix(rest, "+")
	if !cut || !identifiers(build, false) {
		return Version{}, false
	}
	v.Build = build
	return v, true
}

// number reads a run of digits; unless loose, "0" or no leading zero.
func number(s string, loose bool) (n, rest string, ok bool) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i == 0 || !loose && i > 1 && s[0] == '0' {
		return "", s, false
	}
	n = strings.TrimLeft(s[:i], "0")
	if n == "" {
		n = "0"
	}
	return n, s[i:], true
}

// identifiers checks a non-empty dot-separated list of non-empty
// [0-9A-Za-z-] identifiers; noLeadingZero rejects numeric identifiers with
// a leading zero (pre-releases in strict SemVer).
func identifiers(s string, noLeadingZero bool) bool {
	if s == "" {
		return false
	}
	for {
		id, rest, more := strings.Cut(s, ".")
		if id == "" {
			return false
		}
		for i := 0; i < len(id); i++ {
			if !isIdentChar(id[i]) {
				return false
			}
		}
		if noLeadingZero && len(id) > 1 && id[0] == '0' && isNumeric(id) {
			return false
		}
		if !more {
			return true
		}
		s = rest
	}
}
