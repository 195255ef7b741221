package engine

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/mod/semver"

	"github.com/vigil-scanner/vigil/internal/glob"
)

// TagFilter chooses a repository's tags.
type TagFilter struct {
	// Include are globs a tag must match (any); empty means all.
	Include []string
	// Exclude are globs of tags to leave out.
	Exclude []string
	// Regex, when set, must match the tag.
	Regex *regexp.Regexp
	// Newest keeps only the newest N tags after the filters above; zero
	// keeps all.
	Newest int
	// By orders tags for Newest: "semver" (tags that are not semantic
	// versions are dropped) or "pushed" (the image's creation time, read
	// from its config).
	By string
}

// Tag orderings for TagFilter.By.
const (
	BySemver = "semver"
	ByPushed = "pushed"
)

// keep reports whether tag passes the include, exclude and regex filters.
func (f *TagFilter) keep(tag string) bool {
	if len(f.Include) > 0 && !slices.ContainsFunc(f.Include, func(p string) bool { return glob.Match(p, tag) }) {
		return false
	}
	if slices.ContainsFunc(f.Exclude, func(p string) bool { return glob.Match(p, tag) }) {
		return false
	}
	return f.Regex == nil || f.Regex.MatchString(tag)
}

// choose applies the filters and, for By semver, Newest. Newest by push
// time needs the images and is applied by the caller.
func (f *TagFilter) choose(tags []string) []string {
	var out []string
	for _, t := range tags {
		if f.keep(t) {
			out = append(out, t)
		}
	}
	if f.Newest <= 0 || f.By != BySemver {
		return out
	}
	out = slices.DeleteFunc(out, func(t string) bool { return !semver.IsValid(canonSemver(t)) })
	slices.SortFunc(out, func(a, b string) int {
		return cmp.Or(-semver.Compare(canonSemver(a), canonSemver(b)), cmp.Compare(a, b))
	})
	return out[:min(f.Newest, len(out))]
}

// canonSemver accepts tags with or without the "v" prefix.
func canonSemver(t string) string {
	if strings.HasPrefix(t, "v") {
		return t
	}
	return "v" + t
}

// Validate checks the filter's globs.
func (f *TagFilter) Validate() error {
	for _, p := range slices.Concat(f.Include, f.Exclude) {
		if err := glob.Validate(p); err != nil {
			return err
		}
	}
	if f.Newest > 0 && f.By != BySemver && f.By != ByPushed {
		return fmt.Errorf("newest: order by %q: want %s or %s", f.By, BySemver, ByPushed)
	}
	return nil
}

// wantRepo reports whether a registry's repository is watched.
func (r *Registry) wantRepo(repo string) bool {
	match := func(p string) bool { return p == "*" || glob.Match(p, repo) }
	if len(r.Repositories) > 0 && len(r.List) == 0 && !slices.ContainsFunc(r.Repositories, match) {
		return false
	}
	return !slices.ContainsFunc(r.Exclude, match)
}
