// Package maven orders Maven versions as
// org.apache.maven.artifact.versioning.ComparableVersion does (the
// maven-artifact release with CombinationItem and MNG-6964/MNG-7644
// behaviour; see https://maven.apache.org/pom.html#version-order-specification).
//
// Every non-empty string is a Maven version. Digits and letters are ASCII
// here; Java's Character.isDigit also accepts other Unicode digits.
package maven

import (
	"fmt"
	"strings"
)

type kind uint8

const (
	kindNumber kind = iota // IntItem, LongItem and BigIntegerItem alike
	kindString
	kindList
	kindCombination
)

// item is one node of the parsed version tree.
type item struct {
	kind kind
	// num holds digits without leading zeros ("" is zero) for kindNumber
	// and the number part of kindCombination.
	num string
	// rank and qual order a qualifier (kindString and the string part of
	// kindCombination): known qualifiers by rank, unknown ones after them
	// by text.
	rank int8
	qual string
	list []item
}

// Known qualifiers in order; release aliases share the rank of "".
var qualifiers = [...]string{"alpha", "beta", "milestone", "rc", "snapshot", "", "sp"}

const (
	rankRelease = 5
	rankUnknown = int8(len(qualifiers))
)

func newString(s string, followedByDigit bool) item {
	if followedByDigit && len(s) == 1 {
		switch s {
		case "a":
			s = "alpha"
		case "b":
			s = "beta"
		case "m":
			s = "milestone"
		}
	}
	if s == "cr" {
		s = "rc"
	}
	it := item{kind: kindString, qual: s, rank: rankUnknown}
	switch s {
	case "ga", "final", "release":
		it.rank = rankRelease
		return it
	}
	for i, q := range qualifiers {
		if q == s {
			it.rank = int8(i)
		}
	}
	return it
}

func (it *item) isNull() bool {
	switch it.kind {
	case kindNumber:
		return it.num == ""
	case kindString:
		return it.qual == ""
	case kindList:
		return len(it.list) == 0
	}
	return false
}

// Version is a parsed Maven version. Comparing parsed versions does not
// allocate.
type Version struct {
	raw   string
	items item
}

// Parse parses s the way ComparableVersion's constructor does. Only the
// empty string is rejected.
func Parse(s string) (Version, error) {
	if strings.TrimSpace(s) == "" {
		return Version{}, fmt.Errorf("maven version %q: empty", s)
	}
	return Version{raw: s, items: parse(strings.ToLower(s))}, nil
}

// String returns the version as written.
func (v Version) String() string { return v.raw }

// Compare returns -1, 0 or +1 as v sorts before, equal to or after w.
func (v Version) Compare(w Version) int { return compare(&v.items, &w.items) }

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

func parseItem(combination, digit bool, s string) item {
	switch {
	case combination:
		s = strings.ReplaceAll(s, "-", "")
		i := strings.IndexFunc(s, func(r rune) bool { return r >= '0' && r <= '9' })
		if i < 0 {
			i = 0
		}
		str := newString(s[:i], true)
		return item{kind: kindCombination, rank: str.rank, qual: str.qual, num: strings.TrimLeft(s[i:], "0")}
	case digit:
		return item{kind: kindNumber, num: strings.TrimLeft(s, "0")}
	}
	return newString(s, false)
}

// parse builds the item tree. Parsing only ever appends to the deepest
// list, so pointers to the lists on the stack stay valid.
func parse(v string) item {
	root := item{kind: kindList}
	list := &root
	stack := []*item{list}
	push := func() {
		list.list = append(list.list, item{kind: kindList})
		list = &list.list[len(list.list)-1]
		stack = append(stack, list)
	}
	add := func(it item) { list.list = append(list.list, it) }

	digit, combination := false, false
	start := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '.':
			if i == start {
				add(item{kind: kindNumber})
			} else {
				add(parseItem(combination, digit, v[start:i]))
			}
			combination = false
			start = i + 1
		case c == '-':
			if i == start {
				add(item{kind: kindNumber})
			} else {
				// "X-1" is read as "X1".
				if !digit && i != len(v)-1 && isDigit(v[i+1]) {
					combination = true
					continue
				}
				add(parseItem(combination, digit, v[start:i]))
			}
			start = i + 1
			if len(list.list) > 0 {
				push()
			}
			combination = false
		case isDigit(c):
			if !digit && i > start {
				combination = true
				if len(list.list) > 0 {
					push()
				}
			}
			digit = true
		default:
			if digit && i > start {
				add(parseItem(combination, true, v[start:i]))
				start = i
				push()
				combination = false
			}
			digit = false
		}
	}
	if len(v) > start {
		// "1.0.0.X1" < "1.0.0-X2": a trailing ".X" is read as "-X".
		if !digit && len(list.list) > 0 {
			push()
		}
		add(parseItem(combination, digit, v[start:]))
	}
	for i := len(stack) - 1; i >= 0; i-- {
		normalize(stack[i])
	}
	return root
}

// normalize drops null items (0, "", empty lists) that end the list or
// come before a qualifier.
func normalize(l *item) {
	for i := len(l.list) - 1; i >= 0; i-- {
		if !l.list[i].isNull() {
			continue
		}
		drop := i == len(l.list)-1 || l.list[i+1].kind == kindString
		if !drop && l.list[i+1].kind == kindList && len(l.list[i+1].list) > 0 {
			k := l.list[i+1].list[0].kind
			drop = k == kindCombination || k == kindString
		}
		if drop {
			l.list = append(l.list[:i], l.list[i+1:]...)
		}
	}
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

func compareNumber(a, b string) int {
	if len(a) != len(b) {
		return sign(len(a) - len(b))
	}
	return strings.Compare(a, b)
}

func compareQualifier(a, b *item) int {
	if a.rank != b.rank {
		return sign(int(a.rank) - int(b.rank))
	}
	if a.rank == rankUnknown {
		return strings.Compare(a.qual, b.qual)
	}
	return 0
}

var release = item{kind: kindString, rank: rankRelease}

// compare is Item.compareTo; b == nil is Java's null (a missing item).
func compare(a, b *item) int {
	switch a.kind {
	case kindNumber:
		if b == nil {
			if a.num == "" {
				return 0
			}
			return 1
		}
		if b.kind == kindNumber {
			return compareNumber(a.num, b.num)
		}
		return 1
	case kindString:
		if b == nil {
			return compareQualifier(a, &release)
		}
		switch b.kind {
		case kindString:
			return compareQualifier(a, b)
		case kindCombination:
			if c := compareQualifier(a, b); c != 0 {
				return c
			}
		}
		return -1
	case kindCombination:
		if b == nil {
			return compareQualifier(a, &release)
		}
		switch b.kind {
		case kindString:
			if c := compareQualifier(a, b); c != 0 {
				return c
			}
			return 1
		case kindCombination:
			if c := compareQualifier(a, b); c != 0 {
				return c
			}
			return compareNumber(a.num, b.num)
		}
		return -1
	}
	// kindList
	if b == nil {
		for i := range a.list {
			if c := compare(&a.list[i], nil); c != 0 {
				return c
			}
		}
		return 0
	}
	switch b.kind {
	case kindNumber:
		return -1
	case kindString, kindCombination:
		return 1
	}
	for i := 0; i < len(a.list) || i < len(b.list); i++ {
		var c int
		switch {
		case i >= len(a.list):
			c = -compare(&b.list[i], nil)
		case i >= len(b.list):
			c = compare(&a.list[i], nil)
		default:
			c = compare(&a.list[i], &b.list[i])
		}
		if c != 0 {
			return c
		}
	}
	return 0
}
