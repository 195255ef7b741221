package node

import (
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-scanner/vigil/catalog/internal/langpkg"
	"github.com/vigil-scanner/vigil/inventory"
)

type pnpmLock struct {
	LockfileVersion string                  `yaml:"lockfileVersion"`
	Importers       map[string]pnpmImporter `yaml:"importers"`
	Packages        map[string]pnpmPackage  `yaml:"packages"`
	Snapshots       map[string]pnpmPackage  `yaml:"snapshots"`
	pnpmImporter    `yaml:",inline"`
}

// pnpmImporter holds one project's direct dependencies. Values are a
// version string (v5) or {specifier, version} (v6 and later).
type pnpmImporter struct {
	Dependencies         map[string]yaml.Node `yaml:"dependencies"`
	DevDependencies      map[string]yaml.Node `yaml:"devDependencies"`
	OptionalDependencies map[string]yaml.Node `yaml:"optionalDependencies"`
}

type pnpmPackage struct {
	Name                 string            `yaml:"name"`
	Version              string            `yaml:"version"`
	Resolution           pnpmResolution    `yaml:"resolution"`
	Dependencies         map[string]string `yaml:"dependencies"`
	OptionalDependencies map[string]string `yaml:"optionalDependencies"`
}

// pnpmResolution says where a package comes from: the registry
// (integrity only, or a registry tarball), a tarball URL, a git
// repository or a local directory.
type pnpmResolution struct {
	Tarball   string `yaml:"tarball"`
	Type      string `yaml:"type"`
	Repo      string `yaml:"repo"`
	Commit    string `yaml:"commit"`
	Directory string `yaml:"directory"`
}

// origin returns where a package not from the registry comes from, or "".
func (r pnpmResolution) origin() string {
	switch {
	case r.Type == "git" || r.Repo != "":
		o := r.Repo
		if !strings.HasPrefix(o, "git+") && !strings.HasPrefix(o, "git:") {
			o = "git+" + o
		}
		if r.Commit != "" {
			o += "#" + r.Commit
		}
		return o
	case r.Directory != "":
		return "file:" + r.Directory
	case r.Tarball != "":
		if _, _, ok := registryTarball(r.Tarball); ok {
			return ""
		}
		return r.Tarball
	}
	return ""
}

// parsePnpmLock reads pnpm-lock.yaml: v5 keys "/name/1.0.0_peer@2",
// v6 keys "/name@1.0.0(peer@2)", v9 keys "name@1.0.0" with the
// dependency graph under snapshots. Each importer (the project ".", and
// every workspace member by its folder) is a root; "link:" dependencies
// between importers link their roots. Dev and Indirect come from a walk
// of the whole graph (langpkg.Scope), which gives what the "dev" flags of
// v5 and v6 record.
func parsePnpmLock(b []byte, proj *project) ([]inventory.Package, error) {
	var lf pnpmLock
	if err := yaml.Unmarshal(b, &lf); err != nil {
		return nil, err
	}
	if lf.LockfileVersion == "" {
		return nil, fmt.Errorf("no lockfileVersion")
	}
	major, _, _ := strings.Cut(strings.Trim(lf.LockfileVersion, "'\""), ".")
	v, err := strconv.Atoi(major)
	if err != nil {
		return nil, fmt.Errorf("lockfileVersion %q: %w", lf.LockfileVersion, err)
	}
	v5 := v < 6
	keyID := func(key string) (name, version string, ok bool) {
		key = strings.TrimPrefix(key, "/")
		if i := strings.IndexByte(key, '('); i > 0 {
			key = key[:i]
		}
		if v5 {
			i := strings.LastIndexByte(key, '/')
			if i <= 0 {
				return "", "", false
			}
			name, version = key[:i], key[i+1:]
			if j := strings.IndexByte(version, '_'); j > 0 {
				version = version[:j]
			}
			return name, version, true
		}
		name, version = descriptorName(key)
		if version == "" || strings.ContainsAny(name, ":") {
			return "", "", false
		}
		return name, version, true
	}
	// depID resolves a dependency's value ("1.0.0", "1.0.0_peer@2",
	// "1.0.0(peer@2)", an alias "/real/1.0.0" or "real@1.0.0") to the
	// key ID of its entry.
	depID := func(name, val string) (string, bool) {
		if strings.HasPrefix(val, "link:") {
			return "", false
		}
		if i := strings.IndexByte(val, '('); i > 0 {
			val = val[:i]
		}
		if strings.HasPrefix(val, "file:") {
			return name + "@" + val, true
		}
		if strings.HasPrefix(val, "/") {
			if n, ver, ok := keyID(val); ok {
				return n + "@" + ver, true
			}
			return strings.TrimPrefix(val, "/"), true // "/github.com/o/r/<commit>"
		}
		if !v5 {
			// An alias: "real@1.2.0" (but not a URL with a user).
			if n, ver, ok := keyID(val); ok && npmName(n) {
				return n + "@" + ver, true
			}
		}
		if v5 {
			if j := strings.IndexByte(val, '_'); j > 0 {
				val = val[:j]
			}
		}
		return name + "@" + val, true
	}

	// The package of each entry, by the ID its key gives.
	keys := make([]string, 0, len(lf.Packages))
	for k := range lf.Packages {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	idOf := map[string]string{}
	var pkgs []inventory.Package
	for _, key := range keys {
		e := lf.Packages[key]
		n, ver, ok := keyID(key)
		if !ok {
			if e.Name == "" {
				continue
			}
			// A v5/v6 key that is a path: "/github.com/o/r/<commit>".
			n, ver = e.Name, ""
		}
		name, version := n, ver
		if e.Name != "" && e.Version != "" {
			name, version = e.Name, e.Version
		}
		var p inventory.Package
		switch origin := e.Resolution.origin(); {
		case origin != "":
			if !registryVersion(version) {
				version = e.Version
			}
			p = originPackage(name, version, origin)
		case registryVersion(version):
			p = newPackage(name, version)
		default:
			continue
		}
		if ok {
			idOf[n+"@"+ver] = p.ID
		}
		idOf[strings.TrimPrefix(key, "/")] = p.ID
		pkgs = append(pkgs, p)
	}
	lookup := func(kid string) (string, bool) {
		id, ok := idOf[kid]
		return id, ok
	}

	// Dependencies live under snapshots from v9, under packages before.
	graph := lf.Packages
	if len(lf.Snapshots) > 0 {
		graph = lf.Snapshots
	}
	deps := map[string][]string{}
	for key, e := range graph {
		k := strings.TrimPrefix(key, "/")
		if n, ver, ok := keyID(key); ok {
			k = n + "@" + ver
		}
		id, ok := lookup(k)
		if !ok {
			continue
		}
		for _, m := range []map[string]string{e.Dependencies, e.OptionalDependencies} {
			for dep, val := range m {
				if kid, ok := depID(dep, val); ok {
					if did, ok := lookup(kid); ok && did != id {
						deps[id] = append(deps[id], did)
					}
				}
			}
		}
	}
	for i := range pkgs {
		pkgs[i].DependsOn = deps[pkgs[i].ID]
	}

	// The importers are the roots.
	importers := lf.Importers
	if len(importers) == 0 {
		importers = map[string]pnpmImporter{".": lf.pnpmImporter}
	}
	rels := make([]string, 0, len(importers))
	for rel := range importers {
		rels = append(rels, rel)
	}
	sort.Strings(rels)
	rootID := map[string]string{}
	roots := make([]inventory.Package, len(rels))
	for i, rel := range rels {
		roots[i] = proj.rootPackage(proj.manifest(rel), "", "", rel, nil)
		rootID[path.Clean(rel)] = roots[i].ID
	}
	resolve := func(rel string, m map[string]yaml.Node) []string {
		var ids []string
		for name, node := range m {
			val := node.Value
			if node.Kind == yaml.MappingNode {
				var v struct {
					Version string `yaml:"version"`
				}
				if node.Decode(&v) != nil {
					continue
				}
				val = v.Version
			}
			if target, ok := strings.CutPrefix(val, "link:"); ok {
				if id, ok := rootID[path.Clean(path.Join(rel, target))]; ok {
					ids = append(ids, id)
				}
				continue
			}
			if kid, ok := depID(name, val); ok {
				if id, ok := lookup(kid); ok {
					ids = append(ids, id)
				}
			}
		}
		return ids
	}
	var runtime, dev []string
	for i, rel := range rels {
		imp := importers[rel]
		run := append(resolve(rel, imp.Dependencies), resolve(rel, imp.OptionalDependencies)...)
		dv := resolve(rel, imp.DevDependencies)
		runtime, dev = append(runtime, run...), append(dev, dv...)
		roots[i].DependsOn = append(run, dv...)
		if path.Clean(rel) == "." {
			for j := range roots {
				if j != i {
					roots[i].DependsOn = append(roots[i].DependsOn, roots[j].ID)
				}
			}
		}
	}
	pkgs = append(pkgs, roots...)
	langpkg.Scope(pkgs, runtime, dev)
	return pkgs, nil
}

// npmName reports whether n has the shape of an npm package name: "name"
// or "@scope/name".
func npmName(n string) bool {
	if strings.HasPrefix(n, "@") {
		return strings.Count(n, "/") == 1 && !strings.HasSuffix(n, "/")
	}
	return n != "" && !strings.Contains(n, "/")
}
