// Package feed holds the small helpers vigil's feed parsers share: walking
// large JSON documents one element at a time, bounded reads, and natural
// ordering of version strings for stable output.
package feed

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"unicode"
)

// MaxDocument bounds the size of a document that is decoded whole (one
// per-CVE file, one page). Streaming readers are not bounded.
const MaxDocument = 256 << 20

// ErrTooLarge is returned by ReadAll when a document exceeds its bound.
var ErrTooLarge = errors.New("document exceeds size limit")

// ReadAll reads r up to limit bytes, failing with ErrTooLarge beyond it.
func ReadAll(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w (%d bytes)", ErrTooLarge, limit)
	}
	return b, nil
}

// Object walks the JSON object that dec is positioned at, calling fn with
// each key; fn must consume exactly one value from dec (for example with
// dec.Decode, Object or Array).
func Object(dec *json.Decoder, fn func(key string) error) error {
	if err := expectDelim(dec, '{'); err != nil {
		return err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, ok := tok.(string)
		if !ok {
			return fmt.Errorf("object key: unexpected %v", tok)
		}
		if err := fn(key); err != nil {
			return err
		}
	}
	return closeDelim(dec)
}

// Array walks the JSON array that dec is positioned at, calling fn for each
// element; fn must consume exactly one value from dec.
func Array(dec *json.Decoder, fn func() error) error {
	if err := expectDelim(dec, '['); err != nil {
		return err
	}
	for dec.More() {
		if err := fn(); err != nil {
			return err
		}
	}
	return closeDelim(dec)
}

// Skip consumes one value from dec.
func Skip(dec *json.Decoder) error {
	var raw json.RawMessage
	return dec.Decode(&raw)
}

func closeDelim(dec *json.Decoder) error {
	if _, err := dec.Token(); err != nil {
		if err == io.EOF {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	return nil
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("expected %q, found %v", want, tok)
	}
	return nil
}

// Logger returns l, or slog.Default when l is nil.
func Logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.Default()
	}
	return l
}

// NaturalLess orders strings comparing runs of digits numerically and
// everything else byte-wise ("1.9" < "1.10"). It gives feed output a stable,
// mostly ascending order; it is not a distribution version comparer.
func NaturalLess(a, b string) bool {
	for a != "" && b != "" {
		ca, cb := chunk(a), chunk(b)
		a, b = a[len(ca):], b[len(cb):]
		if ca == cb {
			continue
		}
		da, db := isDigit(ca), isDigit(cb)
		switch {
		case da && db:
			na, nb := strings.TrimLeft(ca, "0"), strings.TrimLeft(cb, "0")
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
		default:
			return ca < cb
		}
	}
	return len(a) < len(b)
}

func chunk(s string) string {
	d := isDigit(s[:1])
	for i, r := range s {
		if unicode.IsDigit(r) != d {
			return s[:i]
		}
	}
	return s
}

func isDigit(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }

// cveLike matches what upstream feeds write for a CVE id, typos included:
// any case, "_" or a space for the first hyphen, and a suffix some
// maintainers append (a patch number "-1", ".patch", ".diff").
var cveLike = regexp.MustCompile(`^(?i:cve)[-_ ]?([0-9]{4})-([0-9]{4,7})((?:-[0-9]{1,2})|\.patch|\.diff)?$`)

// strictCVE is a CVE id as MITRE writes it.
var strictCVE = regexp.MustCompile(`^CVE-[0-9]{4}-[0-9]{4,}$`)

// IsCVE reports whether id is a CVE id exactly as MITRE writes it
// ("CVE-2024-3094"), for feeds (EPSS, KEV) whose every row is one.
func IsCVE(id string) bool { return strictCVE.MatchString(id) }

// NormalizeID returns the id an upstream feed meant: "CVE_2019-2426",
// "cve-2019-2426", "CVE‐2019‐2426" (Unicode hyphens), "CVE-2019-19451.patch"
// and "CVE-2017-17434-1" (the first of two patches) are CVE-2019-2426,
// CVE-2019-19451 and CVE-2017-17434. changed says the id was rewritten,
// which the caller reports as a warning naming the file. Anything that
// does not look like a CVE id is returned as it is.
func NormalizeID(raw string) (id string, changed bool) {
	s := strings.Map(func(r rune) rune {
		switch r {
		case '\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2015', '\u2212', '\uFE63', '\uFF0D':
			return '-'
		}
		return r
	}, raw)
	m := cveLike.FindStringSubmatch(s)
	if m == nil {
		return raw, false
	}
	id = "CVE-" + m[1] + "-" + m[2]
	return id, id != raw
}
