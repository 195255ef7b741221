// Package nuget orders NuGet package versions as NuGet.Versioning's
// NuGetVersion and VersionComparer.Default do: one to four numeric parts
// (missing ones are 0, so "1.0" == "1.0.0.0"), SemVer 2.0.0 pre-release
// labels compared case-insensitively, build metadata ignored.
package nuget

import (
	"fmt"
	"github.com/vigil-scanner/vigil/version/internal/digitstr"
	"strings"
)

// Version is a parsed NuGet version; its strings are substrings of the
// parsed text.
type Version struct {
	// Parts are Major, Minor, Patch and Revision as digits without
	// leading zeros ("" is 0).
	Parts      [4]string
	Release    string // pre-release labels without "-"
	Metadata   string // without "+"
	partsCount int
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// Parse parses a NuGet version (NuGetVersion.TryParse): one to four
// numbers, leading zeros allowed, each within int32; surrounding blanks are
// ignored.
func Parse(s string) (Version, error) {
	var v Version
	t := strings.TrimSpace(s)
	core, meta, hasMeta := strings.Cut(t, "+")
	if hasMeta {
		if !labels(meta) {
			return Version{}, fmt.Errorf("nuget version %q: invalid metadata", s)
		}
		v.Metadata = meta
	}
	nums, rel, hasRel := strings.Cut(core, "-")
	if hasRel {
		if !labels(rel) {
			return Version{}, fmt.Errorf("nuget version %q: invalid pre-release", s)
		}
		v.Release = rel
	}
	for _, p := range strings.Split(nums, ".") {
		if v.partsCount == 4 || p == "" || !numeric(p) || digitstr.Compare(p, "2147483647") > 0 {
			return Version{}, fmt.Errorf("nuget version %q: invalid version number", s)
		}
		v.Parts[v.partsCount] = strings.TrimLeft(p, "0")
		v.partsCount++
	}
	return v, nil
}

func numeric(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

func labels(s string) bool {
	for _, l := range strings.Split(s, ".") {
		if l == "" {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !isDigit(c) && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && c != '-' {
				return false
			}
		}
	}
	return true
}

// String returns the normalised version: at least three parts, the fourth
// only when it is not 0, metadata kept.
func (v Version) String() string {
	n := 3
	if v.Parts[3] != "" {
		n = 4
	}
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte('.')
		}
		if v.Parts[i] == "" {
			b.WriteByte('0')
		} else {
			b.WriteString(v.Parts[i])
		}
	}
	if v.Release != "" {
		b.WriteString("-" + v.Release)
	}
	if v.Metadata != "" {
		b.WriteString("+" + v.Metadata)
	}
	return b.String()
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

// labelNumber reports whether a label is a number the way .NET's
// int.TryParse reads it (optional sign, digits, within int32).
func labelNumber(l string) (neg bool, digits string, ok bool) {
	if l != "" && l[0] == '-' {
		neg, l = true, l[1:]
	}
	if !numeric(l) {
		return false, "", false
	}
	limit := "2147483647"
	if neg {
		limit = "2147483648"
	}
	if digitstr.Compare(l, limit) > 0 {
		return false, "", false
	}
	d := strings.TrimLeft(l, "0")
	return neg && d != "", d, true
}

func compareLabel(a, b string) int {
	an, ad, aok := labelNumber(a)
	bn, bd, bok := labelNumber(b)
	switch {
	case aok && bok:
		switch {
		case an != bn:
			if an {
				return -1
			}
			return 1
		case an:
			return -digitstr.Compare(ad, bd)
		}
		return digitstr.Compare(ad, bd)
	case aok:
		return -1
	case bok:
		return 1
	}
	return compareFold(a, b)
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// compareFold is StringComparer.OrdinalIgnoreCase for ASCII.
func compareFold(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if x, y := lower(a[i]), lower(b[i]); x != y {
			return sign(int(x) - int(y))
		}
	}
	return sign(len(a) - len(b))
}

// Compare returns -1, 0 or +1 as v sorts before, equal to or after w.
func (v Version) Compare(w Version) int {
	for i := range v.Parts {
		if c := digitstr.Compare(v.Parts[i], w.Parts[i]); c != 0 {
			return c
		}
	}
	switch {
	case v.Release == "" && w.Release == "":
		return 0
	case v.Release == "":
		return 1
	case w.Release == "":
		return -1
	}
	a, b := v.Release, w.Release
	for a != "" || b != "" {
		switch {
		case a == "":
			return -1
		case b == "":
			return 1
		}
		var x, y string
		x, a, _ = strings.Cut(a, ".")
		y, b, _ = strings.Cut(b, ".")
		if c := compareLabel(x, y); c != 0 {
			return c
		}
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
