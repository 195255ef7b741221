package ruby

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/vigil-scanner/vigil/inventory"
)

// ParseGemspec reads the name, version and licenses of a gem
// specification as RubyGems writes it:
//
//	Gem::Specification.new do |s|
//	  s.name = "rake".freeze
//	  s.version = "13.0.6"
//	  s.licenses = ["MIT".freeze]
//
// Assignments to the block's variable are read; values that are not
// string literals (a computed version) are ignored, so a specification
// without a literal name and version is an error.
func ParseGemspec(b []byte) (inventory.Package, error) {
	var name, version string
	var licenses []string
	recv := "" // the block variable, once "Gem::Specification.new do |x|" is seen
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), maxGemspec)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "Gem::Specification.new"); ok {
			if _, v, ok := strings.Cut(rest, "|"); ok {
				recv, _, _ = strings.Cut(v, "|")
				recv = strings.TrimSpace(recv)
			}
			continue
		}
		obj, attr, value, ok := assignment(line)
		if !ok || (recv != "" && obj != recv) {
			continue
		}
		switch attr {
		case "name":
			if s := stringLiterals(value); len(s) > 0 && name == "" {
				name = s[0]
			}
		case "version":
			if s := stringLiterals(value); len(s) > 0 && version == "" {
				version = s[0]
			}
		case "license", "licenses":
			licenses = append(licenses, stringLiterals(value)...)
		}
	}
	if err := sc.Err(); err != nil {
		return inventory.Package{}, err
	}
	if name == "" || version == "" {
		return inventory.Package{}, errors.New("no literal name and version")
	}
	if strings.ContainsAny(name+version, " \t/\\") {
		return inventory.Package{}, fmt.Errorf("unlikely name %q or version %q", name, version)
	}
	p := newPackage(name, version)
	p.Licenses = licenses
	return p, nil
}

// assignment splits "s.name = value" (but not "==" comparisons).
func assignment(line string) (obj, attr, value string, ok bool) {
	lhs, value, ok := strings.Cut(line, "=")
	if !ok || strings.HasPrefix(value, "=") || strings.HasPrefix(value, "~") {
		return "", "", "", false
	}
	obj, attr, ok = strings.Cut(strings.TrimSpace(lhs), ".")
	if !ok || strings.ContainsAny(attr, " .([") {
		return "", "", "", false
	}
	return obj, attr, strings.TrimSpace(value), true
}

// stringLiterals returns the quoted strings of a Ruby expression
// ("x".freeze, ['a', "b"]), without interpreting escapes beyond \" and \'.
func stringLiterals(expr string) []string {
	var out []string
	for i := 0; i < len(expr); i++ {
		q := expr[i]
		if q != '"' && q != '\'' {
			continue
		}
		var b strings.Builder
		j := i + 1
		for ; j < len(expr) && expr[j] != q; j++ {
			if expr[j] == '\\' && j+1 < len(expr) {
				j++
			}
			b.WriteByte(expr[j])
		}
		if j >= len(expr) {
			break // unterminated
		}
		out = append(out, b.String())
		i = j
	}
	return out
}
