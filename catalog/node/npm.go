package node

import (
	"cmp"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/vigil-scanner/vigil/catalog/internal/langpkg"
	"github.com/vigil-scanner/vigil/inventory"
)

type lockfile struct {
	LockfileVersion int                       `json:"lockfileVersion"`
	Name            string                    `json:"name"`
	Version         string                    `json:"version"`
	Packages        map[string]lockPackage    `json:"packages"`
	Dependencies    map[string]lockDependency `json:"dependencies"`
}

type lockPackage struct {
	Name                 string          `json:"name"`
	Version              string          `json:"version"`
	License              json.RawMessage `json:"license"`
	Dev                  bool            `json:"dev"`
	Link                 bool            `json:"link"`
	Resolved             string          `json:"resolved"`
	Workspaces           json.RawMessage `json:"workspaces"`
	Dependencies         json.RawMessage `json:"dependencies"`
	DevDependencies      json.RawMessage `json:"devDependencies"`
	OptionalDependencies json.RawMessage `json:"optionalDependencies"`
	PeerDependencies     json.RawMessage `json:"peerDependencies"`
}

type lockDependency struct {
	Version      string                    `json:"version"`
	Dev          bool                      `json:"dev"`
	Requires     map[string]string         `json:"requires"`
	Dependencies map[string]lockDependency `json:"dependencies"`
}

// parsePackageLock reads package-lock.json (or npm-shrinkwrap.json). v2
// and v3 use the "packages" map keyed by node_modules path; v1 only has the
// nested "dependencies" tree.
func parsePackageLock(b []byte, proj *project) ([]inventory.Package, error) {
	var lf lockfile
	if err := json.Unmarshal(b, &lf); err != nil {
		return nil, err
	}
	if len(lf.Packages) > 0 {
		return packagesV2(lf.Packages, proj), nil
	}
	if lf.LockfileVersion > 1 && lf.Dependencies == nil {
		return nil, nil
	}
	if lf.LockfileVersion == 0 && lf.Dependencies == nil {
		return nil, fmt.Errorf("no lockfileVersion, packages or dependencies")
	}
	return dependenciesV1(lf, proj), nil
}

// parentLocation returns the node_modules location that encloses loc:
// "node_modules/a/node_modules/b" → "node_modules/a", "node_modules/a" →
// "", and "" for workspace folders.
func parentLocation(loc string) string {
	i := strings.LastIndex(loc, "node_modules/")
	if i <= 0 {
		return ""
	}
	return strings.TrimSuffix(loc[:i], "/")
}

// resolveLocation finds where Node would load dep from a package at loc:
// loc/node_modules/dep, then each enclosing node_modules up to the root.
func resolveLocation(exists func(string) bool, loc, dep string) (string, bool) {
	for {
		cand := "node_modules/" + dep
		if loc != "" {
			cand = loc + "/" + cand
		}
		if exists(cand) {
			return cand, true
		}
		if loc == "" {
			return "", false
		}
		loc = parentLocation(loc)
	}
}

// packagesV2 reads the packages map. The entry "" is the root project;
// other entries outside node_modules are folders: workspace members (the
// root's "workspaces" globs match them) or local packages a file: or link
// dependency points at. Links in node_modules stand for their target
// folder. Dev and Indirect come from a walk of the graph from the root
// and every member (langpkg.Scope), which gives what npm records:
// "devOptional" (a dev dependency that a runtime one also needs as
// optional) is not dev. Without a root entry the lockfile's own "dev"
// flags are kept.
func packagesV2(entries map[string]lockPackage, proj *project) []inventory.Package {
	exists := func(loc string) bool { _, ok := entries[loc]; return ok }
	var globs []string
	if root, ok := entries[""]; ok {
		globs = stringList(root.Workspaces)
	}
	locs := make([]string, 0, len(entries))
	for loc := range entries {
		locs = append(locs, loc)
	}
	sort.Strings(locs)

	// The package at each location, links resolved to their folder.
	idAt := map[string]string{}
	pkgAt := map[string]*inventory.Package{}
	var order []string
	for _, loc := range locs {
		e := entries[loc]
		if e.Link {
			continue
		}
		var p inventory.Package
		switch {
		case loc == "":
			m := proj.root
			if e.Name != "" || m == nil {
				m = &packageJSON{Name: e.Name, Version: e.Version}
			}
			p = proj.rootPackage(m, "", "", ".", nil)
		case !strings.Contains(loc, "node_modules/") && workspaceMatch(globs, loc):
			// npm leaves out a name equal to the folder's.
			p = proj.rootPackage(nil, cmp.Or(e.Name, langpkg.Base(loc)), e.Version, loc, nil)
		case !strings.Contains(loc, "node_modules/"):
			// A local package: "file:" dependencies on folders.
			name := e.Name
			if name == "" {
				name = langpkg.Base(loc)
			}
			p = originPackage(name, e.Version, "file:"+loc)
		default:
			name := locationName(loc, e)
			if name == "" || e.Version == "" {
				continue
			}
			switch origin := npmOrigin(e.Resolved); {
			case origin != "":
				p = originPackage(name, e.Version, origin)
			case registryVersion(e.Version):
				p = newPackage(name, e.Version)
				p.Dev = e.Dev
			default:
				// An old lockfile writing the source as the version.
				p = originPackage(name, "", e.Version)
			}
			p.Licenses = licenses(e.License)
		}
		idAt[loc] = p.ID
		pkgAt[loc] = &p
		order = append(order, loc)
	}
	for _, loc := range locs {
		if e := entries[loc]; e.Link {
			if id, ok := idAt[strings.TrimPrefix(e.Resolved, "file:")]; ok {
				idAt[loc] = id
			}
		}
	}
	resolve := func(loc string, deps json.RawMessage) []string {
		var ids []string
		for dep := range stringMap(deps) {
			if at, ok := resolveLocation(exists, loc, dep); ok {
				if id, ok := idAt[at]; ok {
					ids = append(ids, id)
				}
			}
		}
		return ids
	}
	var runtime, dev []string
	hasRoot := false
	pkgs := make([]inventory.Package, 0, len(order))
	for _, loc := range order {
		e, p := entries[loc], pkgAt[loc]
		p.DependsOn = append(p.DependsOn, resolve(loc, e.Dependencies)...)
		p.DependsOn = append(p.DependsOn, resolve(loc, e.OptionalDependencies)...)
		p.DependsOn = append(p.DependsOn, resolve(loc, e.PeerDependencies)...)
		if p.Root {
			hasRoot = true
			runtime = append(runtime, p.DependsOn...)
			devDeps := resolve(loc, e.DevDependencies)
			dev = append(dev, devDeps...)
			p.DependsOn = append(p.DependsOn, devDeps...)
			if loc == "" {
				for _, l := range order {
					if l != "" && pkgAt[l].Root {
						p.DependsOn = append(p.DependsOn, pkgAt[l].ID)
					}
				}
			}
		}
		pkgs = append(pkgs, *p)
	}
	if hasRoot {
		langpkg.Scope(pkgs, runtime, dev)
	}
	return pkgs
}

// npmOrigin returns the origin of a package-lock entry resolved from
// somewhere else than a registry (git, a local tarball or folder, a
// tarball URL not laid out as a registry's), or "".
func npmOrigin(resolved string) string {
	switch {
	case resolved == "":
		return ""
	case strings.HasPrefix(resolved, "https://") || strings.HasPrefix(resolved, "http://"):
		if _, _, ok := registryTarball(resolved); ok {
			return ""
		}
		return resolved
	}
	return resolved // git+…, file:…, github:…
}

// locationName is the package name at a packages-map key: the entry's own
// name (aliases and workspaces), else the path after the last
// node_modules/. Workspace folders and the root return "".
func locationName(loc string, e lockPackage) string {
	i := strings.LastIndex(loc, "node_modules/")
	if i < 0 {
		return ""
	}
	if e.Name != "" {
		return e.Name
	}
	return loc[i+len("node_modules/"):]
}

// dependenciesV1 walks the v1 tree. With the project's package.json the
// root project is known and the graph gives Dev and Indirect; without it,
// the lockfile's "dev" flags are kept and Indirect is left unset.
func dependenciesV1(lf lockfile, proj *project) []inventory.Package {
	type scope struct {
		deps   map[string]lockDependency
		parent *scope
	}
	ident := func(name string, d lockDependency) (string, string, bool) {
		if n, v, ok := splitAlias(d.Version); ok {
			return n, v, true
		}
		if registryVersion(d.Version) {
			return name, d.Version, true
		}
		return name, "", false
	}
	resolve := func(s *scope, dep string) (string, bool) {
		for ; s != nil; s = s.parent {
			if d, ok := s.deps[dep]; ok {
				n, v, _ := ident(dep, d)
				return langpkg.ID(n, v), d.Version != ""
			}
		}
		return "", false
	}
	var pkgs []inventory.Package
	var walk func(s *scope)
	walk = func(s *scope) {
		names := make([]string, 0, len(s.deps))
		for name := range s.deps {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			d := s.deps[name]
			inner := &scope{deps: d.Dependencies, parent: s}
			var p inventory.Package
			if n, v, ok := ident(name, d); ok {
				p = newPackage(n, v)
			} else if d.Version != "" {
				// git, file: or tarball URL: the version is the source.
				p = originPackage(name, "", d.Version)
			} else {
				continue
			}
			p.Dev = d.Dev
			for req := range d.Requires {
				if id, ok := resolve(inner, req); ok {
					p.DependsOn = append(p.DependsOn, id)
				}
			}
			pkgs = append(pkgs, p)
			if len(d.Dependencies) > 0 {
				walk(inner)
			}
		}
	}
	rootScope := &scope{deps: lf.Dependencies}
	walk(rootScope)
	if root := proj.root; root != nil {
		ids := func(deps map[string]string) []string {
			var out []string
			for dep := range deps {
				if id, ok := resolve(rootScope, dep); ok {
					out = append(out, id)
				}
			}
			return out
		}
		runtime := append(ids(root.Dependencies), ids(root.OptionalDependencies)...)
		dev := ids(root.DevDependencies)
		pkgs = append(pkgs, proj.rootPackage(root, "", "", ".", append(append([]string(nil), runtime...), dev...)))
		langpkg.Scope(pkgs, runtime, dev)
	}
	return pkgs
}
