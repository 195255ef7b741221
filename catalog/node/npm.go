package node

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/vigil-scanner/vigil/inventory"
)

type lockfile struct {
	LockfileVersion int                       `json:"lockfileVersion"`
	Packages        map[string]lockPackage    `json:"packages"`
	Dependencies    map[string]lockDependency `json:"dependencies"`
}

type lockPackage struct {
	Name                 string          `json:"name"`
	Version              string          `json:"version"`
	License              json.RawMessage `json:"license"`
	Dev                  bool            `json:"dev"`
	DevOptional          bool            `json:"devOptional"`
	Link                 bool            `json:"link"`
	Resolved             string          `json:"resolved"`
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
func parsePackageLock(b []byte, root *packageJSON) ([]inventory.Package, error) {
	var lf lockfile
	if err := json.Unmarshal(b, &lf); err != nil {
		return nil, err
	}
	if len(lf.Packages) > 0 {
		return packagesV2(lf.Packages), nil
	}
	if lf.LockfileVersion > 1 && lf.Dependencies == nil {
		return nil, nil
	}
	if lf.LockfileVersion == 0 && lf.Dependencies == nil {
		return nil, fmt.Errorf("no lockfileVersion, packages or dependencies")
	}
	return dependenciesV1(lf.Dependencies, root), nil
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

func packagesV2(entries map[string]lockPackage) []inventory.Package {
	exists := func(loc string) bool { _, ok := entries[loc]; return ok }
	idAt := map[string]string{}
	for loc, e := range entries {
		if name := locationName(loc, e); name != "" && !e.Link && registryVersion(e.Version) {
			idAt[loc] = name + "@" + e.Version
		}
	}
	// Direct dependencies are those of the root project and of each
	// workspace (entries outside node_modules).
	direct := map[string]bool{}
	for loc, e := range entries {
		if strings.Contains(loc, "node_modules/") || e.Link {
			continue
		}
		for _, deps := range []json.RawMessage{e.Dependencies, e.DevDependencies, e.OptionalDependencies, e.PeerDependencies} {
			for dep := range stringMap(deps) {
				if at, ok := resolveLocation(exists, loc, dep); ok {
					direct[at] = true
				}
			}
		}
	}
	locs := make([]string, 0, len(idAt))
	for loc := range idAt {
		locs = append(locs, loc)
	}
	sort.Strings(locs)
	pkgs := make([]inventory.Package, 0, len(locs))
	for _, loc := range locs {
		e := entries[loc]
		p := newPackage(locationName(loc, e), e.Version)
		p.Licenses = licenses(e.License)
		p.Dev = e.Dev || e.DevOptional
		p.Indirect = !direct[loc]
		for _, deps := range []json.RawMessage{e.Dependencies, e.OptionalDependencies, e.PeerDependencies} {
			for dep := range stringMap(deps) {
				at, ok := resolveLocation(exists, loc, dep)
				if !ok {
					continue
				}
				if id, ok := idAt[at]; ok {
					p.DependsOn = append(p.DependsOn, id)
				}
			}
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
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

// dependenciesV1 walks the v1 tree. Without the project's package.json the
// lockfile does not say which top-level entries are direct, so Indirect is
// only set when root is known.
func dependenciesV1(top map[string]lockDependency, root *packageJSON) []inventory.Package {
	type scope struct {
		deps   map[string]lockDependency
		parent *scope
	}
	ident := func(name string, d lockDependency) (string, string, bool) {
		if n, v, ok := splitAlias(d.Version); ok {
			return n, v, true
		}
		return name, d.Version, registryVersion(d.Version)
	}
	resolve := func(s *scope, dep string) (string, bool) {
		for ; s != nil; s = s.parent {
			if d, ok := s.deps[dep]; ok {
				n, v, ok := ident(dep, d)
				return n + "@" + v, ok
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
			if n, v, ok := ident(name, d); ok {
				p := newPackage(n, v)
				p.Dev = d.Dev
				for req := range d.Requires {
					if id, ok := resolve(inner, req); ok {
						p.DependsOn = append(p.DependsOn, id)
					}
				}
				pkgs = append(pkgs, p)
			}
			if len(d.Dependencies) > 0 {
				walk(inner)
			}
		}
	}
	rootScope := &scope{deps: top}
	walk(rootScope)
	if root != nil {
		direct := map[string]bool{}
		for _, deps := range []map[string]string{root.Dependencies, root.DevDependencies, root.OptionalDependencies} {
			for dep := range deps {
				if id, ok := resolve(rootScope, dep); ok {
					direct[id] = true
				}
			}
		}
		for i := range pkgs {
			pkgs[i].Indirect = !direct[pkgs[i].ID]
		}
	}
	return pkgs
}
