package python

import (
	"strings"
)

// truth is a three-valued truth: a marker whose value depends on the
// environment (python_version, sys_platform, …) is unknown.
type truth int8

const (
	unknown truth = iota
	yes
	no
)

func (a truth) and(b truth) truth {
	switch {
	case a == no || b == no:
		return no
	case a == yes && b == yes:
		return yes
	}
	return unknown
}

func (a truth) or(b truth) truth {
	switch {
	case a == yes || b == yes:
		return yes
	case a == no && b == no:
		return no
	}
	return unknown
}

// markerEnv is what a marker is evaluated against: the dependency groups
// and extras selected. Every other variable is unknown.
type markerEnv struct {
	groups, extras map[string]bool
}

// evalMarker evaluates a PEP 508 environment marker (PEP 751 adds the
// dependency_groups and extras set variables). A marker that does not
// parse is unknown.
func evalMarker(m string, env markerEnv) truth {
	toks, ok := tokenize(m)
	if !ok {
		return unknown
	}
	p := &markerParser{toks: toks}
	t, ok := p.or(env, 0)
	if !ok || p.i != len(p.toks) {
		return unknown
	}
	return t
}

// maxMarkerDepth bounds the nesting of parentheses.
const maxMarkerDepth = 64

type markerParser struct {
	toks []string
	i    int
}

func (p *markerParser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

func (p *markerParser) next() string {
	t := p.peek()
	if p.i < len(p.toks) {
		p.i++
	}
	return t
}

func (p *markerParser) or(env markerEnv, depth int) (truth, bool) {
	t, ok := p.and(env, depth)
	for ok && p.peek() == "or" {
		p.next()
		var u truth
		u, ok = p.and(env, depth)
		t = t.or(u)
	}
	return t, ok
}

func (p *markerParser) and(env markerEnv, depth int) (truth, bool) {
	t, ok := p.expr(env, depth)
	for ok && p.peek() == "and" {
		p.next()
		var u truth
		u, ok = p.expr(env, depth)
		t = t.and(u)
	}
	return t, ok
}

func (p *markerParser) expr(env markerEnv, depth int) (truth, bool) {
	if p.peek() == "(" {
		if depth >= maxMarkerDepth {
			return unknown, false
		}
		p.next()
		t, ok := p.or(env, depth+1)
		if !ok || p.next() != ")" {
			return unknown, false
		}
		return t, true
	}
	lhs := p.next()
	op := p.next()
	if op == "not" {
		if p.next() != "in" {
			return unknown, false
		}
		op = "not in"
	}
	rhs := p.next()
	if lhs == "" || rhs == "" || !isMarkerOp(op) {
		return unknown, false
	}
	return compare(lhs, op, rhs, env), true
}

func isMarkerOp(op string) bool {
	switch op {
	case "==", "!=", "<", "<=", ">", ">=", "~=", "===", "in", "not in":
		return true
	}
	return false
}

// compare decides the comparisons it can: a group or extra in the sets
// ("'dev' in dependency_groups", "'x' in extras") and the older
// "extra == 'x'".
func compare(lhs, op, rhs string, env markerEnv) truth {
	str, lq := unquoteMarker(lhs)
	v, rq := unquoteMarker(rhs)
	var in truth
	switch {
	case lq && !rq && (op == "in" || op == "not in") && (v == "dependency_groups" || v == "extras"):
		set := env.groups
		if v == "extras" {
			set = env.extras
		}
		in = no
		if set[normalize(str)] {
			in = yes
		}
		if op == "not in" {
			in = not(in)
		}
		return in
	case !lq && rq && str == "extra" && (op == "==" || op == "!="):
		in = no
		if env.extras[normalize(v)] {
			in = yes
		}
		if op == "!=" {
			in = not(in)
		}
		return in
	case lq && !rq && v == "extra" && (op == "==" || op == "!="):
		return compare(rhs, op, lhs, env)
	}
	return unknown
}

func not(t truth) truth {
	switch t {
	case yes:
		return no
	case no:
		return yes
	}
	return unknown
}

func unquoteMarker(s string) (string, bool) {
	if len(s) >= 2 && (s[0] == '\'' || s[0] == '"') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1], true
	}
	return s, false
}

// tokenize splits a marker into quoted strings, parentheses, operators
// and words; false for an unterminated string.
func tokenize(m string) ([]string, bool) {
	var toks []string
	for i := 0; i < len(m); {
		c := m[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '(' || c == ')':
			toks = append(toks, string(c))
			i++
		case c == '\'' || c == '"':
			j := strings.IndexByte(m[i+1:], c)
			if j < 0 {
				return nil, false
			}
			toks = append(toks, m[i:i+j+2])
			i += j + 2
		case strings.IndexByte("<>=!~", c) >= 0:
			j := i
			for j < len(m) && strings.IndexByte("<>=!~", m[j]) >= 0 {
				j++
			}
			toks = append(toks, m[i:j])
			i = j
		default:
			j := i
			for j < len(m) && strings.IndexByte(" \t()'\"<>=!~", m[j]) < 0 {
				j++
			}
			toks = append(toks, m[i:j])
			i = j
		}
	}
	return toks, true
}
