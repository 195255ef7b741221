package node

import (
	"bufio"
	"bytes"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-scanner/vigil/catalog/internal/langpkg"
	"github.com/vigil-scanner/vigil/inventory"
)

// parseYarnLock reads a yarn.lock: Berry (YAML with __metadata) or classic
// v1 (yarn's own indented format).
func parseYarnLock(b []byte, proj *project) ([]inventory.Package, error) {
	if bytes.Contains(b, []byte("\n__metadata:")) || bytes.HasPrefix(b, []byte("__metadata:")) {
		return parseYarnBerry(b, proj)
	}
	return parseYarnClassic(b, proj)
}

// yarnEntry is one lockfile entry: the descriptors it satisfies
// ("name@range"), the package it resolved to, and its dependencies as
// descriptors.
type yarnEntry struct {
	descriptors []string
	resolved    string
	pkg         inventory.Package
	deps        []string
}

// descriptorName splits "name@range" (name may start with '@').
func descriptorName(d string) (name, rng string) {
	i := strings.IndexByte(d[min(1, len(d)):], '@')
	if i < 0 {
		return d, ""
	}
	i++
	return d[:i], d[i+1:]
}

func parseYarnClassic(b []byte, proj *project) ([]inventory.Package, error) {
	type raw struct {
		descriptors       []string
		version, resolved string
		deps              []string
	}
	var (
		raws   []*raw
		cur    *raw
		inDeps bool
		lineNo int
	)
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		lineNo++
		line := strings.TrimRight(sc.Text(), "\r")
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " "))
		switch {
		case indent == 0:
			if !strings.HasSuffix(trimmed, ":") {
				return nil, fmt.Errorf("line %d: expected an entry header", lineNo)
			}
			cur = &raw{}
			for _, d := range strings.Split(strings.TrimSuffix(trimmed, ":"), ",") {
				if d = unquote(strings.TrimSpace(d)); d != "" {
					cur.descriptors = append(cur.descriptors, d)
				}
			}
			raws = append(raws, cur)
			inDeps = false
		case cur == nil:
			return nil, fmt.Errorf("line %d: field outside an entry", lineNo)
		case indent <= 2:
			key, val, _ := strings.Cut(trimmed, " ")
			inDeps = key == "dependencies:" || key == "optionalDependencies:"
			switch key {
			case "version":
				cur.version = unquote(strings.TrimSpace(val))
			case "resolved":
				cur.resolved = unquote(strings.TrimSpace(val))
			}
		case inDeps:
			key, val, ok := strings.Cut(trimmed, " ")
			if ok {
				cur.deps = append(cur.deps, unquote(key)+"@"+unquote(strings.TrimSpace(val)))
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	var entries []*yarnEntry
	for _, r := range raws {
		if len(r.descriptors) == 0 || r.version == "" {
			continue
		}
		p, ok := classicPackage(r.descriptors, r.version, r.resolved)
		if !ok {
			continue
		}
		entries = append(entries, &yarnEntry{descriptors: r.descriptors, resolved: r.resolved, pkg: p, deps: r.deps})
	}
	return yarnPackages(entries, proj, classicWorkspaces(proj), func(name, rng string) string { return name + "@" + rng })
}

// classicPackage says what a yarn classic entry is. An alias
// ("alias@npm:real@^1") is the real package; a tarball URL laid out as a
// registry's names its registry package ("remote@https://registry.npmjs.org/abbrev/-/abbrev-1.1.1.tgz"
// is abbrev 1.1.1); an entry resolved from git, a file:, link: or other
// URL is reported under its descriptor's name with that origin, never as
// the registry package of the same name.
func classicPackage(descriptors []string, version, resolved string) (inventory.Package, bool) {
	name, rng := descriptorName(descriptors[0])
	for _, d := range descriptors {
		if _, r := descriptorName(d); strings.HasPrefix(r, "npm:") {
			if real, _ := descriptorName(strings.TrimPrefix(r, "npm:")); real != "" {
				return newPackage(real, version), registryVersion(version)
			}
		}
	}
	if n, v, ok := registryTarball(rng); ok {
		return newPackage(n, v), true
	}
	if strings.ContainsAny(rng, ":/") || strings.HasSuffix(rng, ".tgz") {
		origin := resolved
		if origin == "" || strings.HasPrefix(rng, "file:") || strings.HasPrefix(rng, "link:") {
			origin = rng
		}
		return originPackage(name, version, origin), name != ""
	}
	return newPackage(name, version), name != "" && registryVersion(version)
}

// classicWorkspaces returns the workspace projects of a yarn classic
// lockfile: the root's package.json, whose "workspaces" globs name the
// members' folders.
func classicWorkspaces(proj *project) []workspace {
	if proj == nil || proj.root == nil {
		return nil
	}
	ws := []workspace{{rel: ".", manifest: proj.root}}
	members := proj.members()
	rels := make([]string, 0, len(members))
	for rel := range members {
		rels = append(rels, rel)
	}
	sort.Strings(rels)
	for _, rel := range rels {
		ws = append(ws, workspace{rel: rel, manifest: members[rel]})
	}
	return ws
}

// workspace is one project of a yarn lockfile: the root (rel ".") or a
// member. Berry records each in the lockfile (name, deps); classic does
// not.
type workspace struct {
	rel      string
	manifest *packageJSON // nil when absent
	name     string       // from the lockfile, when the manifest is absent
	deps     []string     // descriptors, from the lockfile (Berry)
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

type berryEntry struct {
	Version              string            `yaml:"version"`
	Resolution           string            `yaml:"resolution"`
	Dependencies         map[string]string `yaml:"dependencies"`
	OptionalDependencies map[string]string `yaml:"optionalDependencies"`
}

func parseYarnBerry(b []byte, proj *project) ([]inventory.Package, error) {
	var doc map[string]yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(doc))
	for k := range doc {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var (
		entries    []*yarnEntry
		workspaces []workspace
	)
	for _, k := range keys {
		if k == "__metadata" {
			continue
		}
		node := doc[k]
		var be berryEntry
		if err := node.Decode(&be); err != nil {
			return nil, fmt.Errorf("entry %q: %w", k, err)
		}
		var descriptors, deps []string
		for _, d := range strings.Split(k, ",") {
			if d = strings.TrimSpace(d); d != "" {
				descriptors = append(descriptors, d)
			}
		}
		for _, m := range []map[string]string{be.Dependencies, be.OptionalDependencies} {
			for dep, rng := range m {
				deps = append(deps, berryDescriptor(dep, rng))
			}
		}
		name, ref := descriptorName(be.Resolution)
		if rel, ok := strings.CutPrefix(ref, "workspace:"); ok {
			workspaces = append(workspaces, workspace{rel: rel, manifest: proj.manifest(rel), name: name, deps: deps})
			for _, d := range descriptors {
				// Dependencies on a workspace name it by this key.
				entries = append(entries, &yarnEntry{descriptors: []string{d}, pkg: inventory.Package{ID: "workspace:" + rel}})
			}
			continue
		}
		p, ok := berryPackage(name, ref, be.Version)
		if !ok {
			continue
		}
		entries = append(entries, &yarnEntry{descriptors: descriptors, resolved: be.Resolution, pkg: p, deps: deps})
	}
	return yarnPackages(entries, proj, workspaces, berryDescriptor)
}

// berryPackage says what a Berry resolution is: "npm:1.2.3" a registry
// package, "patch:name@npm%3A1.2.3#…" the registry package a patch is
// applied to, anything else (git, http(s), file:, link:, portal:, exec:)
// a package with that origin.
func berryPackage(name, ref, version string) (inventory.Package, bool) {
	if name == "" || version == "" {
		return inventory.Package{}, false
	}
	switch {
	case strings.HasPrefix(ref, "npm:"):
		return newPackage(name, version), registryVersion(version)
	case strings.HasPrefix(ref, "patch:"):
		inner, _, _ := strings.Cut(strings.TrimPrefix(ref, "patch:"), "#")
		if u, err := url.PathUnescape(inner); err == nil {
			inner = u
		}
		if n, r := descriptorName(inner); strings.HasPrefix(r, "npm:") {
			return newPackage(n, version), registryVersion(version)
		}
	}
	if n, v, ok := registryTarball(ref); ok {
		return newPackage(n, v), true
	}
	return originPackage(name, version, ref), true
}

// berryDescriptor writes a dependency as Berry's lockfile keys do: a range
// without protocol means npm:.
func berryDescriptor(name, rng string) string {
	if !strings.Contains(rng, ":") {
		rng = "npm:" + rng
	}
	return name + "@" + rng
}

// yarnPackages resolves the entries' dependency descriptors into a graph
// and adds the workspace projects as its roots: each depends on what its
// manifest names (Berry: what its lockfile entry lists, dev split by its
// manifest), a dependency on another workspace's name linking to that
// workspace. Dev and Indirect then come from a walk of the whole graph
// (langpkg.Scope); without any workspace they are left unset.
func yarnPackages(entries []*yarnEntry, proj *project, workspaces []workspace, descriptor func(name, rng string) string) ([]inventory.Package, error) {
	idOf := map[string]string{}
	for _, e := range entries {
		for _, d := range e.descriptors {
			idOf[d] = e.pkg.ID
		}
	}
	// The workspaces' own packages, by the ID the entries gave them.
	roots := make([]inventory.Package, len(workspaces))
	byName := map[string]string{}
	for i, w := range workspaces {
		roots[i] = proj.rootPackage(w.manifest, w.name, "", w.rel, nil)
		idOf["workspace:"+w.rel] = roots[i].ID
		byName[roots[i].Name] = roots[i].ID
	}
	for d, id := range idOf {
		if rel, ok := strings.CutPrefix(id, "workspace:"); ok {
			idOf[d] = idOf["workspace:"+rel]
		}
	}
	var pkgs []inventory.Package
	for _, e := range entries {
		if strings.HasPrefix(e.pkg.ID, "workspace:") {
			continue
		}
		p := e.pkg
		for _, d := range e.deps {
			if id, ok := idOf[d]; ok && !strings.HasPrefix(id, "workspace:") {
				p.DependsOn = append(p.DependsOn, id)
			}
		}
		pkgs = append(pkgs, p)
	}
	if len(workspaces) == 0 {
		return pkgs, nil
	}
	lookup := func(name, rng string) (string, bool) {
		if id, ok := idOf[descriptor(name, rng)]; ok && !strings.HasPrefix(id, "workspace:") {
			return id, true
		}
		id, ok := byName[name]
		return id, ok
	}
	var runtime, dev []string
	for i, w := range workspaces {
		r := &roots[i]
		if w.manifest != nil && w.deps == nil {
			// Classic: the manifest says it all.
			for name, rng := range w.manifest.prodDeps() {
				if id, ok := lookup(name, rng); ok {
					r.DependsOn = append(r.DependsOn, id)
					runtime = append(runtime, id)
				}
			}
			for name, rng := range w.manifest.DevDependencies {
				if id, ok := lookup(name, rng); ok {
					r.DependsOn = append(r.DependsOn, id)
					dev = append(dev, id)
				}
			}
		} else {
			// Berry: the lockfile lists every dependency; the
			// manifest, when present, says which are for development.
			for _, d := range w.deps {
				id, ok := idOf[d]
				if !ok {
					continue
				}
				name, _ := descriptorName(d)
				r.DependsOn = append(r.DependsOn, id)
				if w.manifest != nil && w.manifest.DevDependencies[name] != "" && w.manifest.prodDeps()[name] == "" {
					dev = append(dev, id)
				} else {
					runtime = append(runtime, id)
				}
			}
		}
		if w.rel == "." {
			for j := range roots {
				if j != i {
					r.DependsOn = append(r.DependsOn, roots[j].ID)
				}
			}
		}
	}
	pkgs = append(pkgs, roots...)
	langpkg.Scope(pkgs, runtime, dev)
	return pkgs, nil
}
