// Package deb compares Debian package versions ([epoch:]upstream[-revision])
// the way dpkg does (lib/dpkg/version.c, Debian Policy §5.6.12).
package deb

import (
	"fmt"
	"github.com/vigil-scanner/vigil/version/internal/digitstr"
	"strings"
)

// Version is a parsed Debian version. Its fields are substrings of the
// parsed text; parsing does not allocate.
type Version struct {
	// Epoch is the decimal epoch without leading zeros; "" means 0.
	Epoch    string
	Upstream string
	// Revision is the Debian revision after the last hyphen; "" when
	// absent, which sorts equal to "0".
	Revision string
}

// Parse parses a Debian version. It accepts what dpkg's parseversion
// accepts without warning, with two deliberate differences:
//   - leading and trailing blanks are trimmed (dpkg does the same), but
//     embedded blanks are an error;
//   - an upstream version that does not start with a digit is an error (dpkg
//     only warns), because such a string is almost always not a version.
//
// The epoch must be a decimal number (dpkg caps it at INT_MAX; here any
// length is accepted and compared numerically without overflow).
func Parse(s string) (Version, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Version{}, fmt.Errorf("deb version %q: empty", s)
	}
	if strings.ContainsAny(s, " \t\n\r") {
		return Version{}, fmt.Errorf("deb version %q: embedded blank", s)
	}
	var v Version
	rest := s
	if i := strings.IndexByte(rest, ':'); i >= 0 {
		ep := rest[:i]
		if ep == "" {
			return Version{}, fmt.Errorf("deb version %q: empty epoch", s)
		}
		for j := 0; j < len(ep); j++ {
			if !isDigit(ep[j]) {
				return Version{}, fmt.Errorf("deb version %q: epoch is not a number", s)
			}
		}
		v.Epoch = strings.TrimLeft(ep, "0")
		rest = rest[i+1:]
	}
	if i := strings.LastIndexByte(rest, '-'); i >= 0 {
		v.Revision = rest[i+1:]
		rest = rest[:i]
		if v.Revision == "" {
			return Version{}, fmt.Errorf("deb version %q: empty revision", s)
		}
	}
	v.Upstream = rest
	if v.Upstream == "" {
		return Version{}, fmt.Errorf("deb version %q: empty upstream version", s)
	}
	if !isDigit(v.Upstream[0]) {
		return Version{}, fmt.Errorf("deb version %q: upstream version does not start with a digit", s)
	}
	for i := 0; i < len(v.Upstream); i++ {
		c := v.Upstream[i]
		if !isDigit(c) && !isAlpha(c) && !strings.ContainsRune(".-+~:", rune(c)) {
			return Version{}, fmt.Errorf("deb version %q: invalid character %q in upstream version", s, c)
		}
	}
	for i := 0; i < len(v.Revision); i++ {
		c := v.Revision[i]
		if !isDigit(c) && !isAlpha(c) && !strings.ContainsRune(".+~", rune(c)) {
			return Version{}, fmt.Errorf("deb version %q: invalid character %q in revision", s, c)
		}
	}
	return v, nil
}

// String returns the version in dpkg's canonical form (epoch only when
// non-zero).
func (v Version) String() string {
	var b strings.Builder
	if v.Epoch != "" {
		b.WriteString(v.Epoch)
		b.WriteByte(':')
	}
	b.WriteString(v.Upstream)
	if v.Revision != "" {
		b.WriteByte('-')
		b.WriteString(v.Revision)
	}
	return b.String()
}

// Compare returns -1, 0 or +1 as v sorts before, equal to or after w.
func (v Version) Compare(w Version) int {
	if c := digitstr.Compare(v.Epoch, w.Epoch); c != 0 {
		return c
	}
	if c := compareString(v.Upstream, w.Upstream); c != 0 {
		return c
	}
	return compareString(v.Revision, w.Revision)
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

// order is dpkg's weight of one character in a non-digit run: '~' before
// the end of the run, the end before letters, letters before everything
// else (by byte value + 256).
func order(c byte) int {
	switch {
	case isDigit(c):
		return 0
	case isAlpha(c):
		return int(c)
	case c == '~':
		return -1
	case c != 0:
		return int(c) + 256
	}
	return 0
}

// compareString is dpkg's verrevcmp: alternate non-digit runs compared by
// order and digit runs compared numerically.
func compareString(a, b string) int {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		for (i < len(a) && !isDigit(a[i])) || (j < len(b) && !isDigit(b[j])) {
			var ca, cb int
			if i < len(a) {
				ca = order(a[i])
			}
			if j < len(b) {
				cb = order(b[j])
			}
			if ca != cb {
				return sign(ca - cb)
			}
			i++
			j++
		}
		si := i
		for i < len(a) && isDigit(a[i]) {
			i++
		}
		sj := j
		for j < len(b) && isDigit(b[j]) {
			j++
		}
		if c := digitstr.Compare(a[min(si, len(a)):min(i, len(a))], b[min(sj, len(b)):min(j, len(b))]); c != 0 {
			return c
		}
	}
	return 0
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}
