package python

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/vigil-scanner/vigil/inventory"
)

// parseRequirements keeps the lines pinned with "==" (or "==="): extras,
// environment markers, hashes and comments are dropped; options (-r, -e,
// --index-url, …), URLs and unpinned lines are skipped.
func parseRequirements(b []byte) []inventory.Package {
	var pkgs []inventory.Package
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var logical strings.Builder
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.HasSuffix(line, "\\") {
			// A continued line: keep a bounded prefix (hashes follow).
			if logical.Len() < maxLine {
				logical.WriteString(strings.TrimSuffix(line, "\\"))
				logical.WriteByte(' ')
			}
			continue
		}
		if logical.Len() > 0 {
			logical.WriteString(line)
			line = logical.String()
			logical.Reset()
		}
		if p, ok := requirementLine(line); ok {
			pkgs = append(pkgs, p)
		}
	}
	return pkgs
}

// maxLine bounds a logical requirements line built from continuations.
const maxLine = 64 << 10

func requirementLine(line string) (inventory.Package, bool) {
	if i := strings.Index(line, " #"); i >= 0 {
		line = line[:i]
	}
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '#' || line[0] == '-' {
		return inventory.Package{}, false
	}
	line, _, _ = strings.Cut(line, ";")
	if i := strings.Index(line, " --"); i >= 0 {
		line = line[:i]
	}
	name, version, ok := strings.Cut(line, "==")
	if !ok {
		return inventory.Package{}, false
	}
	version = strings.TrimSpace(strings.TrimPrefix(version, "="))
	if i := strings.IndexAny(version, ", \t"); i >= 0 {
		if strings.TrimSpace(version[i:]) != "" && !strings.HasPrefix(strings.TrimSpace(version[i:]), "#") {
			// "==1.0, !=1.0.1" or similar: not a single pin.
			return inventory.Package{}, false
		}
		version = version[:i]
	}
	if i := strings.IndexByte(name, '['); i >= 0 {
		name = name[:i]
	}
	name = strings.TrimSpace(name)
	version = strings.TrimSpace(version)
	if !validName(name) || version == "" || strings.ContainsAny(version, "*<>!~") {
		return inventory.Package{}, false
	}
	return newPackage(name, version), true
}

type pipfileLock struct {
	Default map[string]pipfileEntry `json:"default"`
	Develop map[string]pipfileEntry `json:"develop"`
}

type pipfileEntry struct {
	Version string `json:"version"`
}

// parsePipfileLock reads the default and develop sections; entries
// without an "==" version (VCS, paths) are skipped.
func parsePipfileLock(b []byte) ([]inventory.Package, error) {
	var lf pipfileLock
	if err := json.Unmarshal(b, &lf); err != nil {
		return nil, err
	}
	if lf.Default == nil && lf.Develop == nil {
		return nil, fmt.Errorf("no default or develop section")
	}
	var pkgs []inventory.Package
	for _, sec := range []struct {
		m   map[string]pipfileEntry
		dev bool
	}{{lf.Default, false}, {lf.Develop, true}} {
		for name, e := range sec.m {
			v, ok := strings.CutPrefix(e.Version, "==")
			if !ok || v == "" {
				continue
			}
			p := newPackage(name, strings.TrimPrefix(v, "="))
			p.Dev = sec.dev
			pkgs = append(pkgs, p)
		}
	}
	return pkgs, nil
}

type poetryLock struct {
	Package []struct {
		Name         string         `toml:"name"`
		Version      string         `toml:"version"`
		Category     string         `toml:"category"`
		Groups       []string       `toml:"groups"`
		Dependencies map[string]any `toml:"dependencies"`
	} `toml:"package"`
}

// parsePoetryLock reads poetry.lock. Development packages are those with
// category "dev" (lock format 1) or not in the "main" group (groups, lock
// format 2.1). The lockfile does not record which packages are direct.
func parsePoetryLock(b []byte) ([]inventory.Package, error) {
	var lf poetryLock
	if _, err := toml.Decode(string(b), &lf); err != nil {
		return nil, err
	}
	idOf := map[string]string{}
	for _, p := range lf.Package {
		if _, seen := idOf[normalize(p.Name)]; !seen {
			idOf[normalize(p.Name)] = p.Name + "@" + p.Version
		}
	}
	var pkgs []inventory.Package
	for _, e := range lf.Package {
		if e.Name == "" || e.Version == "" {
			continue
		}
		p := newPackage(e.Name, e.Version)
		p.Dev = e.Category == "dev" || (len(e.Groups) > 0 && !contains(e.Groups, "main"))
		for dep := range e.Dependencies {
			if id, ok := idOf[normalize(dep)]; ok {
				p.DependsOn = append(p.DependsOn, id)
			}
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

type uvDep struct {
	Name    string `toml:"name"`
	Version string `toml:"version"`
}

type uvLock struct {
	Package []struct {
		Name                 string             `toml:"name"`
		Version              string             `toml:"version"`
		Source               map[string]any     `toml:"source"`
		Dependencies         []uvDep            `toml:"dependencies"`
		OptionalDependencies map[string][]uvDep `toml:"optional-dependencies"`
		DevDependencies      map[string][]uvDep `toml:"dev-dependencies"`
	} `toml:"package"`
}

// parseUVLock reads uv.lock. Packages whose source is the project itself
// (editable, virtual) are the roots: their dependencies are direct, those
// only reachable through dev-dependencies are Dev, and the roots
// themselves are not reported.
func parseUVLock(b []byte) ([]inventory.Package, error) {
	var lf uvLock
	if _, err := toml.Decode(string(b), &lf); err != nil {
		return nil, err
	}
	versions := map[string][]string{} // normalised name → versions
	for _, p := range lf.Package {
		n := normalize(p.Name)
		versions[n] = append(versions[n], p.Name+"@"+p.Version)
	}
	resolve := func(d uvDep) (string, bool) {
		ids := versions[normalize(d.Name)]
		if d.Version != "" {
			for _, id := range ids {
				if strings.HasSuffix(id, "@"+d.Version) {
					return id, true
				}
			}
		}
		if len(ids) == 0 {
			return "", false
		}
		return ids[0], true
	}
	graph := map[string][]string{}
	var prodRoots, devRoots []string
	var pkgs []inventory.Package
	for _, e := range lf.Package {
		id := e.Name + "@" + e.Version
		var deps []string
		for _, d := range e.Dependencies {
			if did, ok := resolve(d); ok {
				deps = append(deps, did)
			}
		}
		var optional []string
		for _, list := range e.OptionalDependencies {
			for _, d := range list {
				if did, ok := resolve(d); ok {
					optional = append(optional, did)
				}
			}
		}
		graph[id] = append(deps, optional...)
		if isLocalSource(e.Source) {
			prodRoots = append(prodRoots, graph[id]...)
			for _, list := range e.DevDependencies {
				for _, d := range list {
					if did, ok := resolve(d); ok {
						devRoots = append(devRoots, did)
					}
				}
			}
			continue
		}
		if e.Name == "" || e.Version == "" {
			continue
		}
		p := newPackage(e.Name, e.Version)
		p.DependsOn = graph[id]
		pkgs = append(pkgs, p)
	}
	if len(prodRoots)+len(devRoots) > 0 {
		prod, dev := reach(graph, prodRoots), reach(graph, devRoots)
		direct := map[string]bool{}
		for _, r := range append(append([]string(nil), prodRoots...), devRoots...) {
			direct[r] = true
		}
		for i := range pkgs {
			pkgs[i].Indirect = !direct[pkgs[i].ID]
			pkgs[i].Dev = dev[pkgs[i].ID] && !prod[pkgs[i].ID]
		}
	}
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].ID < pkgs[j].ID })
	return pkgs, nil
}

func isLocalSource(src map[string]any) bool {
	for _, k := range []string{"editable", "virtual"} {
		if _, ok := src[k]; ok {
			return true
		}
	}
	return false
}

func reach(graph map[string][]string, roots []string) map[string]bool {
	seen := map[string]bool{}
	stack := append([]string(nil), roots...)
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !seen[id] {
			seen[id] = true
			stack = append(stack, graph[id]...)
		}
	}
	return seen
}
