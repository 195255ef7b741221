package node

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

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
	Dev                  *bool             `yaml:"dev"`
	Dependencies         map[string]string `yaml:"dependencies"`
	OptionalDependencies map[string]string `yaml:"optionalDependencies"`
}

// parsePnpmLock reads pnpm-lock.yaml: v5 keys "/name/1.0.0_peer@2",
// v6 keys "/name@1.0.0(peer@2)", v9 keys "name@1.0.0" with the
// dependency graph under snapshots and direct dependencies under
// importers.
func parsePnpmLock(b []byte) ([]inventory.Package, error) {
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
		i := strings.LastIndexByte(key, '@')
		if i <= 0 {
			return "", "", false
		}
		return key[:i], key[i+1:], true
	}
	// depID resolves a dependency's value ("1.0.0", "1.0.0_peer@2",
	// "1.0.0(peer@2)", an alias "/real/1.0.0" or "real@1.0.0") to an ID.
	depID := func(name, val string) (string, bool) {
		if strings.HasPrefix(val, "link:") || strings.HasPrefix(val, "file:") {
			return "", false
		}
		if i := strings.IndexByte(val, '('); i > 0 {
			val = val[:i]
		}
		if strings.HasPrefix(val, "/") || (!v5 && strings.LastIndexByte(val, '@') > 0) {
			n, ver, ok := keyID(val)
			return n + "@" + ver, ok
		}
		if v5 {
			if j := strings.IndexByte(val, '_'); j > 0 {
				val = val[:j]
			}
		}
		return name + "@" + val, true
	}

	// Dependencies live under snapshots from v9, under packages before.
	graph := lf.Packages
	if len(lf.Snapshots) > 0 {
		graph = lf.Snapshots
	}
	deps := map[string][]string{}
	for key, e := range graph {
		n, ver, ok := keyID(key)
		if !ok {
			continue
		}
		id := n + "@" + ver
		for _, m := range []map[string]string{e.Dependencies, e.OptionalDependencies} {
			for dep, val := range m {
				if did, ok := depID(dep, val); ok {
					deps[id] = append(deps[id], did)
				}
			}
		}
	}

	keys := make([]string, 0, len(lf.Packages))
	for k := range lf.Packages {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var pkgs []inventory.Package
	known := map[string]bool{}
	recordedDev := false
	for _, key := range keys {
		e := lf.Packages[key]
		n, ver, ok := keyID(key)
		if !ok {
			continue
		}
		id := n + "@" + ver
		name, version := n, ver
		if e.Name != "" && e.Version != "" {
			name, version = e.Name, e.Version
		}
		if !registryVersion(version) {
			continue
		}
		p := newPackage(name, version)
		p.ID = id
		if name != n || version != ver {
			p.ID = langpkgID(name, version)
		}
		p.DependsOn = deps[id]
		if e.Dev != nil {
			p.Dev = *e.Dev
			recordedDev = true
		}
		known[p.ID] = true
		pkgs = append(pkgs, p)
	}
	for i := range pkgs {
		pkgs[i].DependsOn = filter(pkgs[i].DependsOn, known)
	}

	importers := lf.Importers
	if len(importers) == 0 {
		importers = map[string]pnpmImporter{".": lf.pnpmImporter}
	}
	var prod, dev []string
	for _, imp := range importers {
		for _, m := range []map[string]yaml.Node{imp.Dependencies, imp.OptionalDependencies} {
			prod = append(prod, importerIDs(m, depID)...)
		}
		dev = append(dev, importerIDs(imp.DevDependencies, depID)...)
	}
	devFlags := make([]bool, len(pkgs))
	for i := range pkgs {
		devFlags[i] = pkgs[i].Dev
	}
	classify(pkgs, prod, dev)
	if recordedDev {
		for i := range pkgs {
			pkgs[i].Dev = devFlags[i]
		}
	}
	return pkgs, nil
}

func langpkgID(name, version string) string { return name + "@" + version }

func filter(ids []string, known map[string]bool) []string {
	out := ids[:0]
	for _, id := range ids {
		if known[id] {
			out = append(out, id)
		}
	}
	return out
}

// importerIDs resolves an importer's dependency map to IDs.
func importerIDs(m map[string]yaml.Node, depID func(name, val string) (string, bool)) []string {
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
		if id, ok := depID(name, val); ok {
			ids = append(ids, id)
		}
	}
	return ids
}
