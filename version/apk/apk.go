// Package apk compares Alpine (and Wolfi/Chainguard) package versions the
// way apk-tools does (src/version.c):
//
//	digit{.digit}...{letter}{_suffix{number}}...{~hash}{-r#}
//
// Suffixes _alpha < _beta < _pre < _rc sort before the release, _cvs <
// _svn < _git < _hg < _p after it.
package apk

import (
	"fmt"
	"github.com/vigil-scanner/vigil/version/internal/digitstr"
	"strings"
)

type tokenKind uint8

// Token kinds in the order apk-tools declares them: when two versions agree
// up to a point, the one whose next token has the higher kind is older
// (the end sorts before ".1" and before "-r1"), unless the other goes on
// with a pre-release suffix.
const (
	kindInitialDigit tokenKind = iota
	kindDigit
	kindLetter
	kindSuffix
	kindSuffixNo
	kindCommitHash
	kindRevision
	kindEnd
)

// Suffix ranks; suffixNone (0) is the release itself.
var suffixes = [...]struct {
	name string
	rank int8
}{
	{"alpha", -4}, {"beta", -3}, {"pre", -2}, {"rc", -1},
	{"cvs", 1}, {"svn", 2}, {"git", 3}, {"hg", 4}, {"p", 5},
}

type token struct {
	kind   tokenKind
	suffix int8   // for kindSuffix
	text   string // digits, letter or hash as written
}

// Version is a validated apk version. Comparing parsed versions does not
// allocate.
type Version struct {
	s string
}

// Parse validates s as apk_version_validate does.
func Parse(s string) (Version, error) {
	var t token
	rest, ok := first(s, &t)
	for ok && t.kind != kindEnd {
		rest, ok = next(rest, &t)
	}
	if !ok {
		return Version{}, fmt.Errorf("apk version %q: invalid", s)
	}
	return Version{s: s}, nil
}

// String returns the version as written.
func (v Version) String() string { return v.s }

// Compare returns -1, 0 or +1 as v sorts before, equal to or after w.
func (v Version) Compare(w Version) int {
	var ta, tb token
	a, _ := first(v.s, &ta)
	b, _ := first(w.s, &tb)
	for ta.kind == tb.kind && ta.kind != kindEnd {
		if c := compareToken(&ta, &tb); c != 0 {
			return c
		}
		a, _ = next(a, &ta)
		b, _ = next(b, &tb)
	}
	switch {
	case ta.kind == tb.kind:
		return 0
	case ta.kind == kindSuffix && ta.suffix < 0:
		return -1
	case tb.kind == kindSuffix && tb.suffix < 0:
		return 1
	case ta.kind > tb.kind:
		return -1
	}
	return 1
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

func compareToken(a, b *token) int {
	switch a.kind {
	case kindDigit:
		if a.text[0] == '0' || b.text[0] == '0' {
			// A leading zero makes apk compare the digits as strings.
			return strings.Compare(a.text, b.text)
		}
		return digitstr.Compare(a.text, b.text)
	case kindInitialDigit, kindSuffixNo, kindRevision:
		return digitstr.Compare(a.text, b.text)
	case kindSuffix:
		return cmp(int(a.suffix), int(b.suffix))
	}
	return strings.Compare(a.text, b.text)
}

func cmp(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isHex(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func digits(s string) (run, rest string) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return s[:i], s[i:]
}

func first(s string, t *token) (string, bool) {
	t.kind = kindInitialDigit
	t.text, s = digits(s)
	return s, t.text != ""
}

// next reads the token after t into t, checking that it may follow t.
func next(s string, t *token) (string, bool) {
	if s == "" {
		t.kind = kindEnd
		return s, true
	}
	switch c := s[0]; {
	case isLower(c):
		if t.kind > kindDigit {
			return s, false
		}
		t.kind, t.text = kindLetter, s[:1]
		return s[1:], true
	case c == '.' || isDigit(c):
		if c == '.' {
			if t.kind > kindDigit {
				return s, false
			}
			s = s[1:]
		}
		switch t.kind {
		case kindInitialDigit, kindDigit:
			t.kind = kindDigit
		case kindSuffix:
			t.kind = kindSuffixNo
		default:
			return s, false
		}
		t.text, s = digits(s)
		return s, t.text != ""
	case c == '_':
		if t.kind > kindSuffixNo {
			return s, false
		}
		i := 1
		for i < len(s) && isLower(s[i]) {
			i++
		}
		name := s[1:i]
		for _, suf := range suffixes {
			if suf.name == name {
				t.kind, t.suffix, t.text = kindSuffix, suf.rank, name
				return s[i:], true
			}
		}
		return s, false
	case c == '~':
		if t.kind >= kindCommitHash {
			return s, false
		}
		i := 1
		for i < len(s) && isHex(s[i]) {
			i++
		}
		if i == 1 {
			return s, false
		}
		t.kind, t.text = kindCommitHash, s[1:i]
		return s[i:], true
	case c == '-':
		if t.kind >= kindRevision || !strings.HasPrefix(s, "-r") {
			return s, false
		}
		t.kind = kindRevision
		t.text, s = digits(s[2:])
		return s, t.text != ""
	}
	return s, false
}
