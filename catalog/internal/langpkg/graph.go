package langpkg

import (
	"strings"

	packageurl "github.com/package-url/packageurl-go"

	"github.com/vigil-scanner/vigil/inventory"
)

// Scope sets Dev and Indirect on the packages of one lockfile from its
// dependency graph, the same way for every ecosystem: runtime and dev are
// the IDs the roots (the project and its workspace members) name as
// runtime and as development dependencies. A package is direct when some
// root names it, and Dev when it is reachable from dev but not from
// runtime: whatever a runtime dependency of any root reaches ships. The
// walk follows DependsOn but never through a root, whose own edges are
// those given. Roots are neither Dev nor Indirect; a package reachable
// from neither set keeps the Dev the lockfile recorded and is Indirect.
func Scope(pkgs []inventory.Package, runtime, dev []string) {
	edges := make(map[string][]string, len(pkgs))
	roots := map[string]bool{}
	for _, p := range pkgs {
		if p.Root {
			roots[p.ID] = true
			continue
		}
		edges[p.ID] = append(edges[p.ID], p.DependsOn...)
	}
	walk := func(from []string) map[string]bool {
		seen := make(map[string]bool, len(edges))
		stack := append([]string(nil), from...)
		for len(stack) > 0 {
			id := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[id] || roots[id] {
				continue
			}
			seen[id] = true
			stack = append(stack, edges[id]...)
		}
		return seen
	}
	run, dv := walk(runtime), walk(dev)
	direct := make(map[string]bool, len(runtime)+len(dev))
	for _, id := range runtime {
		direct[id] = true
	}
	for _, id := range dev {
		direct[id] = true
	}
	for i := range pkgs {
		p := &pkgs[i]
		if p.Root {
			p.Dev, p.Indirect = false, false
			continue
		}
		p.Indirect = !direct[p.ID]
		if run[p.ID] || dv[p.ID] {
			p.Dev = dv[p.ID] && !run[p.ID]
		}
	}
}

// Project returns the root package of a lockfile's project: Root set, and
// DependsOn the direct dependencies given. name falls back to fallback (a
// directory name) when the manifest names none; purlType makes the purl
// when the project has a name of its own. The ID is "name@version", or
// the name alone for a project without a version.
func Project(purlType, name, version, fallback string, deps []string) inventory.Package {
	p := inventory.Package{Name: name, Version: version, Root: true, DependsOn: deps}
	if p.Name == "" {
		p.Name = fallback
	} else if purlType != "" {
		if purlType == packageurl.TypeNPM {
			p.Purl = NpmPurl(name, version)
		} else {
			p.Purl = Purl(purlType, "", name, version)
		}
	}
	p.ID = p.Name
	if p.Version != "" {
		p.ID = ID(p.Name, p.Version)
	}
	return p
}

// WithOrigin adds origin to purl as its vcs_url qualifier (a git URL) or
// its download_url qualifier (anything else), as the purl specification
// names them. It returns purl unchanged when it does not parse.
func WithOrigin(purl, origin string) string {
	if purl == "" || origin == "" {
		return purl
	}
	u, err := packageurl.FromString(purl)
	if err != nil {
		return purl
	}
	key := "download_url"
	if IsGit(origin) {
		key = "vcs_url"
	}
	u.Qualifiers = append(u.Qualifiers, packageurl.Qualifier{Key: key, Value: origin})
	return u.ToString()
}

// IsGit reports whether a dependency source is a git repository:
// "git+https://…", "git://…", "git@host:…", "github:o/r", "…/r.git#ref".
func IsGit(s string) bool {
	return strings.HasPrefix(s, "git+") || strings.HasPrefix(s, "git:") || strings.HasPrefix(s, "git@") ||
		strings.HasPrefix(s, "github:") || strings.HasPrefix(s, "gitlab:") || strings.HasPrefix(s, "bitbucket:") ||
		strings.Contains(s, ".git#") || strings.HasSuffix(s, ".git")
}
