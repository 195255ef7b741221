package ruby

import (
	"bufio"
	"bytes"
	"regexp"
	"strings"
)

// devGroups are the Bundler groups vigil calls development ones: those
// `bundle config set --local without development test` leaves out of a
// production install.
var devGroups = map[string]bool{"development": true, "test": true}

// gemfile is what a Gemfile says of its gems, read statically (it is
// Ruby code, never run): each gem's groups, and whether a `gemspec`
// directive adds the gemspec's development dependencies (to the
// development group, unless development_group says otherwise).
type gemfile struct {
	groups  map[string][]string // gem → groups ("default" when none)
	gemspec bool                // `gemspec` is used
	specDev string              // its development group
}

var (
	gemLine     = regexp.MustCompile(`^gem\s*\(?\s*["']([^"']+)["']`)
	groupBlock  = regexp.MustCompile(`^group\s*\(?\s*(.*?)\)?\s+do\b`)
	symbolRe    = regexp.MustCompile(`:"?([A-Za-z0-9_]+)"?|["']([A-Za-z0-9_]+)["']`)
	inlineGroup = regexp.MustCompile(`(?:\bgroups?:|:groups?\s*=>)\s*(\[[^\]]*\]|:[A-Za-z0-9_]+|"[^"]*"|'[^']*')`)
	devGroupOpt = regexp.MustCompile(`development_group:\s*:?["']?([A-Za-z0-9_]+)`)
	opener      = regexp.MustCompile(`(\bdo\s*(\|[^|]*\|)?\s*$)|^(if|unless|case|begin|while|until|def)\b`)
)

// maxDepth bounds the nesting of blocks followed.
const maxDepth = 64

// parseGemfile reads the gem declarations of a Gemfile.
func parseGemfile(b []byte) *gemfile {
	g := &gemfile{groups: map[string][]string{}, specDev: "development"}
	var stack [][]string // groups of each open block (nil: not a group block)
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.Index(line, " #"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" || line[0] == '#' {
			continue
		}
		if line == "end" || strings.HasPrefix(line, "end ") || strings.HasPrefix(line, "end.") {
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			continue
		}
		var current []string
		for _, s := range stack {
			current = append(current, s...)
		}
		switch {
		case gemLine.MatchString(line):
			name := gemLine.FindStringSubmatch(line)[1]
			groups := append([]string(nil), current...)
			if m := inlineGroup.FindStringSubmatch(line); m != nil {
				groups = append(groups, symbols(m[1])...)
			}
			if len(groups) == 0 {
				groups = []string{"default"}
			}
			g.groups[name] = append(g.groups[name], groups...)
		case line == "gemspec" || strings.HasPrefix(line, "gemspec ") || strings.HasPrefix(line, "gemspec("):
			g.gemspec = true
			if m := devGroupOpt.FindStringSubmatch(line); m != nil {
				g.specDev = m[1]
			}
		}
		if len(stack) >= maxDepth {
			continue
		}
		if m := groupBlock.FindStringSubmatch(line); m != nil {
			stack = append(stack, symbols(m[1]))
		} else if opener.MatchString(line) {
			stack = append(stack, nil)
		}
	}
	return g
}

// symbols returns the names in ":a, :b", "[:a, 'b']".
func symbols(s string) []string {
	var out []string
	for _, m := range symbolRe.FindAllStringSubmatch(s, -1) {
		if m[1] != "" {
			out = append(out, m[1])
		} else {
			out = append(out, m[2])
		}
	}
	return out
}

// dev reports whether every group of the gem is a development one; a gem
// the Gemfile does not name is dev when it comes from the gemspec's
// development dependencies (fromGemspec).
func (g *gemfile) dev(name string, fromGemspec bool) bool {
	groups, ok := g.groups[name]
	if !ok {
		return fromGemspec && g.gemspec && devGroups[g.specDev]
	}
	for _, gr := range groups {
		if !devGroups[gr] {
			return false
		}
	}
	return true
}
