// Package pep440 parses and orders Python package versions as PEP 440
// specifies (https://peps.python.org/pep-0440/), accepting every spelling
// the specification normalises: case, a leading "v", "alpha"/"beta"/"c"/
// "pre"/"preview" for a/b/rc, "rev"/"r" and "-N" for post releases,
// "-", "_" and "." separators and implicit numbers.
package pep440

import (
	"fmt"
	"github.com/vigil-scanner/vigil/version/internal/digitstr"
	"strings"
)

// Pre-release kinds in order.
const (
	preNone = iota
	preAlpha
	preBeta
	preRC
)

// Version is a parsed PEP 440 version. Its string fields are substrings of
// the parsed text; parsing and comparing do not allocate.
type Version struct {
	Epoch   string // digits; "" is 0
	Release string // dot-separated digits, as written
	PreKind int    // 0 none, 1 a, 2 b, 3 rc
	Pre     string // digits; "" is 0
	HasPost bool
	Post    string // digits; "" is 0
	HasDev  bool
	Dev     string // digits; "" is 0
	Local   string // after "+", as written (compare case-insensitively)
}

var preLabels = [...]struct {
	label string
	kind  int
}{
	{"preview", preRC}, {"pre", preRC}, {"alpha", preAlpha}, {"a", preAlpha},
	{"beta", preBeta}, {"b", preBeta}, {"rc", preRC}, {"c", preRC},
}

var postLabels = [...]string{"post", "rev", "r"}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isSep(c byte) bool   { return c == '.' || c == '-' || c == '_' }
func isAlnum(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func digits(s string) (string, string) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return s[:i], s[i:]
}

// hasPrefixFold reports whether s starts with the lower-case ASCII prefix.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// label reads an optional separator and one of labels, then an optional
// separator and an optional number, like PEP 440's regular expression: the
// separator before the label is taken only when a label follows, the one
// after it always (every later part may start without a separator).
func label(s string, labels func(string) (int, int)) (kind int, num string, rest string, ok bool) {
	t := s
	if t != "" && isSep(t[0]) {
		t = t[1:]
	}
	k, n := labels(t)
	if n == 0 {
		return 0, "", s, false
	}
	t = t[n:]
	if t != "" && isSep(t[0]) {
		t = t[1:]
	}
	num, t = digits(t)
	return k, num, t, true
}

func matchPre(s string) (int, int) {
	for _, l := range preLabels {
		if hasPrefixFold(s, l.label) {
			return l.kind, len(l.label)
		}
	}
	return 0, 0
}

func matchPost(s string) (int, int) {
	for _, l := range postLabels {
		if hasPrefixFold(s, l) {
			return 1, len(l)
		}
	}
	return 0, 0
}

func matchDev(s string) (int, int) {
	if hasPrefixFold(s, "dev") {
		return 1, 3
	}
	return 0, 0
}

// Parse parses a version in any spelling PEP 440 normalises. Surrounding
// whitespace is ignored.
func Parse(s string) (Version, error) {
	var v Version
	t := strings.TrimSpace(s)
	if t != "" && (t[0] == 'v' || t[0] == 'V') {
		t = t[1:]
	}
	var n string
	n, t = digits(t)
	if n == "" {
		return Version{}, fmt.Errorf("pep440 version %q: no release number", s)
	}
	if t != "" && t[0] == '!' {
		v.Epoch = strings.TrimLeft(n, "0")
		n, t = digits(t[1:])
		if n == "" {
			return Version{}, fmt.Errorf("pep440 version %q: no release number after epoch", s)
		}
	}
	end := len(n)
	rel := n + t // the release starts here
	for len(t) > 1 && t[0] == '.' && isDigit(t[1]) {
		n, t = digits(t[1:])
		end += 1 + len(n)
	}
	v.Release = rel[:end]

	if k, num, rest, ok := label(t, matchPre); ok {
		v.PreKind, v.Pre, t = k, num, rest
	}
	if len(t) > 1 && t[0] == '-' && isDigit(t[1]) {
		v.HasPost = true
		v.Post, t = digits(t[1:])
	} else if _, num, rest, ok := label(t, matchPost); ok {
		v.HasPost, v.Post, t = true, num, rest
	}
	if _, num, rest, ok := label(t, matchDev); ok {
		v.HasDev, v.Dev, t = true, num, rest
	}
	if t != "" && t[0] == '+' {
		v.Local = t[1:]
		if !validLocal(v.Local) {
			return Version{}, fmt.Errorf("pep440 version %q: invalid local version", s)
		}
		t = ""
	}
	if t != "" {
		return Version{}, fmt.Errorf("pep440 version %q: unexpected %q", s, t)
	}
	return v, nil
}

func validLocal(s string) bool {
	if s == "" {
		return false
	}
	for {
		i := 0
		for i < len(s) && isAlnum(s[i]) {
			i++
		}
		if i == 0 {
			return false
		}
		if i == len(s) {
			return true
		}
		if !isSep(s[i]) {
			return false
		}
		s = s[i+1:]
	}
}

// String returns the normalised form of the version.
func (v Version) String() string {
	var b strings.Builder
	if v.Epoch != "" {
		b.WriteString(v.Epoch + "!")
	}
	for i, seg := range strings.Split(v.Release, ".") {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(trimNumber(seg))
	}
	if v.PreKind != preNone {
		b.WriteString([...]string{"", "a", "b", "rc"}[v.PreKind] + trimNumber(v.Pre))
	}
	if v.HasPost {
		b.WriteString(".post" + trimNumber(v.Post))
	}
	if v.HasDev {
		b.WriteString(".dev" + trimNumber(v.Dev))
	}
	if v.Local != "" {
		b.WriteByte('+')
		b.WriteString(strings.ToLower(strings.NewReplacer("-", ".", "_", ".").Replace(v.Local)))
	}
	return b.String()
}

func trimNumber(s string) string {
	s = strings.TrimLeft(s, "0")
	if s == "" {
		return "0"
	}
	return s
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

// preClass places the pre-release part: a bare dev release before any
// pre-release, pre-releases in order, everything else after.
func (v *Version) preClass() int {
	switch {
	case v.PreKind != preNone:
		return 1
	case !v.HasPost && v.HasDev:
		return 0
	}
	return 2
}

// Compare returns -1, 0 or +1 as v sorts before, equal to or after w,
// following the ordering of PEP 440 (and of packaging.version).
func (v Version) Compare(w Version) int {
	if c := digitstr.Compare(v.Epoch, w.Epoch); c != 0 {
		return c
	}
	if c := compareRelease(v.Release, w.Release); c != 0 {
		return c
	}
	if c := sign(v.preClass() - w.preClass()); c != 0 {
		return c
	}
	if v.PreKind != preNone {
		if c := sign(v.PreKind - w.PreKind); c != 0 {
			return c
		}
		if c := digitstr.Compare(v.Pre, w.Pre); c != 0 {
			return c
		}
	}
	if v.HasPost != w.HasPost {
		if v.HasPost {
			return 1
		}
		return -1
	}
	if c := digitstr.Compare(v.Post, w.Post); c != 0 {
		return c
	}
	if v.HasDev != w.HasDev {
		if v.HasDev {
			return -1
		}
		return 1
	}
	if c := digitstr.Compare(v.Dev, w.Dev); c != 0 {
		return c
	}
	return compareLocal(v.Local, w.Local)
}

// compareRelease compares dot-separated numbers, missing ones being 0.
func compareRelease(a, b string) int {
	for a != "" || b != "" {
		var x, y string
		x, a, _ = strings.Cut(a, ".")
		y, b, _ = strings.Cut(b, ".")
		if c := digitstr.Compare(x, y); c != 0 {
			return c
		}
	}
	return 0
}

func cutLocal(s string) (part, rest string) {
	for i := 0; i < len(s); i++ {
		if isSep(s[i]) {
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

func isNumeric(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// compareLocal orders local labels: none first; then segment by segment,
// numbers after strings, numbers numerically, strings case-insensitively,
// a shorter label first when it is a prefix.
func compareLocal(a, b string) int {
	for {
		switch {
		case a == "" && b == "":
			return 0
		case a == "":
			return -1
		case b == "":
			return 1
		}
		var x, y string
		x, a = cutLocal(a)
		y, b = cutLocal(b)
		xn, yn := isNumeric(x), isNumeric(y)
		var c int
		switch {
		case xn && yn:
			c = digitstr.Compare(x, y)
		case xn:
			c = 1
		case yn:
			c = -1
		default:
			c = compareFold(x, y)
		}
		if c != 0 {
			return c
		}
	}
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func compareFold(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if x, y := lower(a[i]), lower(b[i]); x != y {
			return sign(int(x) - int(y))
		}
	}
	return sign(len(a) - len(b))
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
