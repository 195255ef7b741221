// Package composer orders Composer (Packagist) versions: each version is
// first normalised as composer/semver's VersionParser::normalize does
// ("v1.2" → "1.2.0.0", "1.0-b2" → "1.0.0.0-beta2", "1.x-dev" →
// "1.9999999.9999999.9999999-dev", "dev-main" stays a branch), then the
// normalised forms are ordered with PHP's version_compare.
//
// Composer never orders two branches ("dev-…") against each other; here
// every branch sorts before every numbered version and branches order by
// name, so that Compare is a total order.
package composer

import (
	"fmt"
	"regexp"
	"strings"
)

// The patterns of composer/semver's VersionParser, without PCRE's
// possessive quantifiers (which change nothing for these anchored forms).
const modifier = `[._-]?(?:(stable|beta|b|RC|alpha|a|patch|pl|p)((?:[.-]?\d+)*)?)?([.-]?dev)?`

var (
	aliasRe     = regexp.MustCompile(`^([^,\s]+) +as +([^,\s]+)$`)
	stabilityRe = regexp.MustCompile(`(?i)@(?:stable|RC|beta|alpha|dev)$`)
	buildRe     = regexp.MustCompile(`^([^,\s+]+)\+[^\s]+$`)
	classicalRe = regexp.MustCompile(`(?i)^v?(\d{1,5})(\.\d+)?(\.\d+)?(\.\d+)?` + modifier + `$`)
	dateRe      = regexp.MustCompile(`(?i)^v?(\d{4}(?:[.:-]?\d{2}){1,6}(?:[.:-]?\d{1,3}){0,2})` + modifier + `$`)
	devRe       = regexp.MustCompile(`(?i)^(.*?)[.-]?dev$`)
	branchRe    = regexp.MustCompile(`(?i)^v?(\d+)(\.(?:\d+|[xX*]))?(\.(?:\d+|[xX*]))?(\.(?:\d+|[xX*]))?$`)
	nonDigitRe  = regexp.MustCompile(`\D`)
)

// Normalize returns the normalised form of a Composer version, or an error
// for a string VersionParser::normalize rejects.
func Normalize(s string) (string, error) {
	v := strings.TrimSpace(s)
	if m := aliasRe.FindStringSubmatch(v); m != nil {
		v = m[1]
	}
	if m := stabilityRe.FindString(v); m != "" {
		v = v[:len(v)-len(m)]
	}
	switch v {
	case "master", "trunk", "default":
		v = "dev-" + v
	}
	if len(v) >= 4 && strings.EqualFold(v[:4], "dev-") {
		return "dev-" + v[4:], nil
	}
	if m := buildRe.FindStringSubmatch(v); m != nil {
		v = m[1]
	}
	var (
		m     []string
		index int
	)
	if m = classicalRe.FindStringSubmatch(v); m != nil {
		v = m[1]
		for _, part := range m[2:5] {
			if part == "" {
				part = ".0"
			}
			v += part
		}
		index = 5
	} else if m = dateRe.FindStringSubmatch(v); m != nil {
		v = nonDigitRe.ReplaceAllString(m[1], ".")
		index = 2
	}
	if m != nil {
		if m[index] != "" {
			if strings.EqualFold(m[index], "stable") {
				return v, nil
			}
			v += "-" + expandStability(m[index]) + strings.TrimLeft(m[index+1], ".-")
		}
		if m[index+2] != "" {
			v += "-dev"
		}
		return v, nil
	}
	if m := devRe.FindStringSubmatch(v); m != nil {
		if n := normalizeBranch(m[1]); !strings.HasPrefix(n, "dev-") {
			return n, nil
		}
	}
	return "", fmt.Errorf("composer version %q: invalid", s)
}

func expandStability(s string) string {
	switch s = strings.ToLower(s); s {
	case "a":
		return "alpha"
	case "b":
		return "beta"
	case "p", "pl":
		return "patch"
	case "rc":
		return "RC"
	}
	return s
}

// normalizeBranch is VersionParser::normalizeBranch.
func normalizeBranch(name string) string {
	name = strings.TrimSpace(name)
	m := branchRe.FindStringSubmatch(name)
	if m == nil {
		return "dev-" + name
	}
	v := m[1]
	for _, part := range m[2:5] {
		if part == "" {
			part = ".x"
		}
		v += strings.NewReplacer("*", "x", "X", "x").Replace(part)
	}
	return strings.ReplaceAll(v, "x", "9999999") + "-dev"
}

// Version is a normalised Composer version.
type Version struct {
	raw, norm string
}

// Parse normalises s.
func Parse(s string) (Version, error) {
	n, err := Normalize(s)
	if err != nil {
		return Version{}, err
	}
	return Version{raw: s, norm: n}, nil
}

// String returns the normalised version.
func (v Version) String() string { return v.norm }

// IsBranch reports whether v is a branch ("dev-…").
func (v Version) IsBranch() bool { return strings.HasPrefix(v.norm, "dev-") }

// Compare returns -1, 0 or +1 as v sorts before, equal to or after w.
func (v Version) Compare(w Version) int {
	switch vb, wb := v.IsBranch(), w.IsBranch(); {
	case vb && wb:
		return strings.Compare(v.norm, w.norm)
	case vb:
		return -1
	case wb:
		return 1
	}
	return VersionCompare(v.norm, w.norm)
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
