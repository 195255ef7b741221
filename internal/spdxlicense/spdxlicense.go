// Package spdxlicense recognises SPDX license identifiers and license
// expressions (SPDX specification 2.3, Annex D), using the license list
// embedded in ids.txt.
package spdxlicense

//go:generate go run gen.go

import (
	_ "embed"
	"strings"
	"sync"
)

//go:embed ids.txt
var idsText string

// canonical maps a lower-cased identifier to its canonical spelling. It is
// built once, on first use, from the embedded list and never changed.
var canonical = sync.OnceValue(func() map[string]string {
	m := make(map[string]string, 600)
	for line := range strings.Lines(idsText) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m[strings.ToLower(line)] = line
	}
	return m
})

// ID returns the canonical spelling of the SPDX license or exception
// identifier s (matched without regard to case), and whether s is one.
func ID(s string) (string, bool) {
	id, ok := canonical()[strings.ToLower(s)]
	return id, ok
}

// IsLicenseRef reports whether s is a valid "LicenseRef-idstring".
func IsLicenseRef(s string) bool {
	rest, ok := strings.CutPrefix(s, "LicenseRef-")
	return ok && rest != "" && isIDString(rest)
}

// isIDString reports whether s holds only letters, digits, "." and "-".
func isIDString(s string) bool {
	for _, c := range []byte(s) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '-':
		default:
			return false
		}
	}
	return true
}

// Expression parses s as an SPDX license expression and returns it in
// canonical form (identifiers in their listed case, single spaces), and
// whether s is a valid expression. Operators AND, OR and WITH must be upper
// case; identifiers must be on the SPDX list or be LicenseRef-s.
func Expression(s string) (string, bool) {
	p := parser{toks: tokenize(s)}
	if len(p.toks) == 0 {
		return "", false
	}
	out, ok := p.expr(0)
	if !ok || p.pos != len(p.toks) {
		return "", false
	}
	return out, true
}

// IsCompound reports whether the canonical expression e combines licenses
// (contains AND, OR or WITH).
func IsCompound(e string) bool {
	return strings.Contains(e, " ")
}

func tokenize(s string) []string {
	var toks []string
	start := -1
	flush := func(i int) {
		if start >= 0 {
			toks = append(toks, s[start:i])
			start = -1
		}
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\n', '\r':
			flush(i)
		case '(', ')':
			flush(i)
			toks = append(toks, string(c))
		default:
			if start < 0 {
				start = i
			}
		}
	}
	flush(len(s))
	return toks
}

// maxDepth bounds parenthesis nesting.
const maxDepth = 32

type parser struct {
	toks []string
	pos  int
}

func (p *parser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

// expr := term (("AND" | "OR") term)*
func (p *parser) expr(depth int) (string, bool) {
	out, ok := p.term(depth)
	if !ok {
		return "", false
	}
	for op := p.peek(); op == "AND" || op == "OR"; op = p.peek() {
		p.pos++
		rhs, ok := p.term(depth)
		if !ok {
			return "", false
		}
		out += " " + op + " " + rhs
	}
	return out, true
}

// term := "(" expr ")" | license ["WITH" exception]
func (p *parser) term(depth int) (string, bool) {
	tok := p.peek()
	if tok == "(" {
		if depth >= maxDepth {
			return "", false
		}
		p.pos++
		inner, ok := p.expr(depth + 1)
		if !ok || p.peek() != ")" {
			return "", false
		}
		p.pos++
		return "(" + inner + ")", true
	}
	lic, ok := license(tok)
	if !ok {
		return "", false
	}
	p.pos++
	if p.peek() == "WITH" {
		p.pos++
		exc, ok := ID(p.peek())
		if !ok {
			return "", false
		}
		p.pos++
		lic += " WITH " + exc
	}
	return lic, true
}

// license accepts a listed identifier (optionally followed by "+") or a
// LicenseRef.
func license(tok string) (string, bool) {
	switch tok {
	case "", "(", ")", "AND", "OR", "WITH":
		return "", false
	}
	if IsLicenseRef(tok) {
		return tok, true
	}
	if id, ok := ID(tok); ok {
		return id, true
	}
	if base, ok := strings.CutSuffix(tok, "+"); ok {
		if id, ok := ID(base); ok {
			return id + "+", true
		}
	}
	return "", false
}
