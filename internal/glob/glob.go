// Package glob matches slash-separated names (file paths, repository names)
// against path.Match patterns extended with "**".
package glob

import (
	"fmt"
	"path"
	"strings"
)

// Match reports whether name matches pattern. Patterns are path.Match
// patterns, where "*" does not cross a "/", extended so that a "**" element
// matches any number (including zero) of path elements: "team/**" matches
// "team", "team/app" and "team/a/b". A malformed pattern matches nothing;
// Validate reports it.
func Match(pattern, name string) bool {
	if !strings.Contains(pattern, "**") {
		ok, _ := path.Match(pattern, name)
		return ok
	}
	return matchElems(strings.Split(pattern, "/"), strings.Split(name, "/"))
}

func matchElems(p, n []string) bool {
	for len(p) > 0 {
		if p[0] == "**" {
			for i := 0; i <= len(n); i++ {
				if matchElems(p[1:], n[i:]) {
					return true
				}
			}
			return false
		}
		if len(n) == 0 {
			return false
		}
		if ok, _ := path.Match(p[0], n[0]); !ok {
			return false
		}
		p, n = p[1:], n[1:]
	}
	return len(n) == 0
}

// Validate reports a pattern Match cannot use.
func Validate(pattern string) error {
	if _, err := path.Match(strings.ReplaceAll(pattern, "**", "*"), ""); err != nil {
		return fmt.Errorf("pattern %q: %w", pattern, err)
	}
	return nil
}
