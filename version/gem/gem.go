// Package gem orders RubyGems versions as Gem::Version does: segments are
// runs of digits (compared numerically) or of letters (compared as
// strings, always before numbers), "-" stands for ".pre.", and trailing
// zero segments of the numeric and of the string part are ignored, so
// "1.0" == "1" and "1.0.a" == "1.a" < "1".
package gem

import (
	"fmt"
	"strings"
)

// Version is a parsed gem version.
type Version struct {
	raw string
	// segs are the canonical segments (Gem::Version#canonical_segments).
	segs []segment
}

type segment struct {
	text    string // digits without leading zeros ("" is 0), or letters
	numeric bool
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// valid is Gem::Version::ANCHORED_VERSION_PATTERN:
// \A\s*([0-9]+(?>\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?)?\s*\z
func valid(s string) bool {
	if s == "" {
		return true
	}
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i == 0 {
		return false
	}
	s = s[i:]
	for len(s) > 0 && s[0] == '.' {
		j := 1
		for j < len(s) && (isDigit(s[j]) || isAlpha(s[j])) {
			j++
		}
		if j == 1 {
			return false
		}
		s = s[j:]
	}
	if s == "" {
		return true
	}
	if s[0] != '-' {
		return false
	}
	for _, part := range strings.Split(s[1:], ".") {
		if part == "" {
			return false
		}
		for k := 0; k < len(part); k++ {
			if !isDigit(part[k]) && !isAlpha(part[k]) && part[k] != '-' {
				return false
			}
		}
	}
	return true
}

// Parse parses s as Gem::Version.new does; blank is version "0".
func Parse(s string) (Version, error) {
	t := strings.TrimSpace(s)
	if !valid(t) {
		return Version{}, fmt.Errorf("gem version %q: malformed", s)
	}
	t = strings.ReplaceAll(t, "-", ".pre.")
	var segs []segment
	for i := 0; i < len(t); {
		j := i
		switch {
		case isDigit(t[i]):
			for j < len(t) && isDigit(t[j]) {
				j++
			}
			segs = append(segs, segment{text: strings.TrimLeft(t[i:j], "0"), numeric: true})
		case isAlpha(t[i]):
			for j < len(t) && isAlpha(t[j]) {
				j++
			}
			segs = append(segs, segment{text: t[i:j]})
		default:
			j++
		}
		i = j
	}
	// Drop trailing zeros from the numeric part and from the string part.
	split := len(segs)
	for i, sg := range segs {
		if !sg.numeric {
			split = i
			break
		}
	}
	num, str := trimZeros(segs[:split]), trimZeros(segs[split:])
	return Version{raw: s, segs: append(num[:len(num):len(num)], str...)}, nil
}

func trimZeros(s []segment) []segment {
	for len(s) > 0 && s[len(s)-1].numeric && s[len(s)-1].text == "" {
		s = s[:len(s)-1]
	}
	return s
}

// String returns the version as written.
func (v Version) String() string { return v.raw }

// Compare returns -1, 0 or +1 as v sorts before, equal to or after w.
func (v Version) Compare(w Version) int {
	zero := segment{numeric: true}
	for i := 0; i < len(v.segs) || i < len(w.segs); i++ {
		a, b := zero, zero
		if i < len(v.segs) {
			a = v.segs[i]
		}
		if i < len(w.segs) {
			b = w.segs[i]
		}
		switch {
		case a == b:
			continue
		case !a.numeric && b.numeric:
			return -1
		case a.numeric && !b.numeric:
			return 1
		case a.numeric:
			if len(a.text) != len(b.text) {
				if len(a.text) < len(b.text) {
					return -1
				}
				return 1
			}
		}
		return strings.Compare(a.text, b.text)
	}
	return 0
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
