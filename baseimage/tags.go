package baseimage

import (
	"cmp"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// MaxCandidatesPerVariant bounds how many newer tags of each variant
// Candidates returns: the newest ones.
const MaxCandidatesPerVariant = 3

// variantTokens are the suffix words that name a variant of the same
// release line rather than another line: "12.8-slim" is a variant of
// "12.8", "3.12-slim-bookworm" of "3.12-bookworm".
var variantTokens = map[string]bool{"slim": true, "distroless": true, "minimal": true}

// tagForm is a tag split into a version and the words around it:
// "3.12.4-slim-bookworm" is prefix "", numbers 3 12 4, suffix
// "-slim-bookworm"; "bookworm-20240612-slim" is prefix "bookworm-", the
// date 20240612 as one number, suffix "-slim".
type tagForm struct {
	prefix string
	nums   []int
	suffix string
	date   bool
}

var (
	versionTag = regexp.MustCompile(`^(v?)(\d+(?:\.\d+)*)(.*)$`)
	dateTag    = regexp.MustCompile(`^([a-z][a-z0-9]*-)(\d{8})(.*)$`)
)

func parseTag(tag string) (tagForm, bool) {
	if m := dateTag.FindStringSubmatch(tag); m != nil {
		n, err := strconv.Atoi(m[2])
		return tagForm{prefix: m[1], nums: []int{n}, suffix: m[3], date: true}, err == nil
	}
	m := versionTag.FindStringSubmatch(tag)
	if m == nil {
		return tagForm{}, false
	}
	f := tagForm{prefix: m[1], suffix: m[3]}
	for p := range strings.SplitSeq(m[2], ".") {
		n, err := strconv.Atoi(p)
		if err != nil {
			return tagForm{}, false
		}
		f.nums = append(f.nums, n)
	}
	return f, true
}

// line is what a tag shares with the tags of its release line: the prefix,
// every number but the last (all of them for a one-number tag, which is
// its own line: "12" is not "13"), and the suffix without variant words.
func (f tagForm) line() string {
	keep := f.nums
	if f.date || len(keep) > 1 {
		keep = keep[:len(keep)-1]
	}
	var b strings.Builder
	b.WriteString(f.prefix)
	for _, n := range keep {
		b.WriteString(strconv.Itoa(n))
		b.WriteByte('.')
	}
	b.WriteString("|" + strconv.Itoa(len(f.nums)) + "|")
	for w := range strings.SplitSeq(f.suffix, "-") {
		if w != "" && !variantTokens[w] {
			b.WriteString("-" + w)
		}
	}
	return b.String()
}

// Candidates returns the tags among tags that are newer releases or other
// variants of current's release line: the same distribution release, a
// later patch version ("12.8" → "12.11", "3.19.1" → "3.19.4") or date
// ("bookworm-20240612" → "bookworm-20241016"), with or without the slim,
// distroless and minimal variant words. At most
// MaxCandidatesPerVariant of each variant are returned, the newest; for a
// tag of one number ("12", "bookworm"), only its other variants of the
// same number. current itself is not returned. The order is newest first,
// then by variant.
func Candidates(current string, tags []string) []string {
	cur, ok := parseTag(current)
	if !ok {
		return nil
	}
	line := cur.line()
	type cand struct {
		tag  string
		form tagForm
	}
	byVariant := map[string][]cand{}
	for _, t := range tags {
		if t == current {
			continue
		}
		f, ok := parseTag(t)
		if !ok || f.line() != line {
			continue
		}
		c := slices.Compare(f.nums, cur.nums)
		if c < 0 || (c == 0 && f.suffix == cur.suffix) {
			continue
		}
		if !f.date && len(f.nums) == 1 && c != 0 {
			continue
		}
		byVariant[f.suffix] = append(byVariant[f.suffix], cand{t, f})
	}
	var out []cand
	for _, cs := range byVariant {
		slices.SortFunc(cs, func(a, b cand) int { return slices.Compare(b.form.nums, a.form.nums) })
		out = append(out, cs[:min(len(cs), MaxCandidatesPerVariant)]...)
	}
	slices.SortFunc(out, func(a, b cand) int {
		return cmp.Or(slices.Compare(b.form.nums, a.form.nums), cmp.Compare(a.form.suffix, b.form.suffix))
	})
	tagsOut := make([]string, len(out))
	for i, c := range out {
		tagsOut[i] = c.tag
	}
	return tagsOut
}

// SplitTag splits a reference into its repository and tag
// ("docker.io/library/debian:12.8" → "docker.io/library/debian", "12.8");
// a digest is dropped. ok is false without a tag.
func SplitTag(ref string) (repo, tag string, ok bool) {
	ref, _, _ = strings.Cut(ref, "@")
	i := strings.LastIndexByte(ref, ':')
	if i < 0 || i < strings.LastIndexByte(ref, '/') {
		return ref, "", false
	}
	return ref[:i], ref[i+1:], true
}
