package store

import (
	"strconv"
	"strings"
)

// dialect is what differs between SQLite and PostgreSQL. Queries are
// written with ? placeholders and {{…}} macros, rewritten once per call.
type dialect struct {
	name   string
	dollar bool // $1, $2… placeholders (PostgreSQL)
	macros *strings.Replacer
}

var (
	sqlite = dialect{name: "sqlite", macros: strings.NewReplacer(
		"{{id}}", "INTEGER PRIMARY KEY AUTOINCREMENT",
		"{{blob}}", "BLOB",
		"{{skiplocked}}", "", // the write lock taken at BEGIN serialises claims
	)}
	postgres = dialect{name: "postgres", dollar: true, macros: strings.NewReplacer(
		"{{id}}", "BIGSERIAL PRIMARY KEY",
		"{{blob}}", "BYTEA",
		"{{skiplocked}}", "FOR UPDATE SKIP LOCKED",
	)}
)

// rebind expands the macros and, for PostgreSQL, numbers the placeholders.
// Queries hold no literal '?'.
func (d dialect) rebind(q string) string {
	if strings.Contains(q, "{{") {
		q = d.macros.Replace(q)
	}
	if !d.dollar || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
