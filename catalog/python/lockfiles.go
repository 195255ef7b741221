package python

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
	packageurl "github.com/package-url/packageurl-go"

	"github.com/vigil-scanner/vigil/catalog/internal/langpkg"
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

// graph collects the packages of one lockfile and resolves dependencies
// by normalised name (and version, when the lockfile gives one).
type graph struct {
	pkgs   []inventory.Package
	byName map[string][]int // normalised name → indexes into pkgs
}

func newGraph() *graph { return &graph{byName: map[string][]int{}} }

func (g *graph) add(p inventory.Package) int {
	g.pkgs = append(g.pkgs, p)
	n := normalize(p.Name)
	g.byName[n] = append(g.byName[n], len(g.pkgs)-1)
	return len(g.pkgs) - 1
}

// ids returns the IDs of the packages named name (of version version,
// when given and present).
func (g *graph) ids(name, version string) []string {
	idx := g.byName[normalize(name)]
	if version != "" {
		for _, i := range idx {
			if g.pkgs[i].Version == version {
				return []string{g.pkgs[i].ID}
			}
		}
	}
	out := make([]string, 0, len(idx))
	for _, i := range idx {
		out = append(out, g.pkgs[i].ID)
	}
	return out
}

// direct returns the IDs of the packages reqs name.
func (g *graph) direct(reqs []requirement) []string {
	var out []string
	for _, r := range reqs {
		out = append(out, g.ids(r.name, "")...)
	}
	return out
}

// withRoot adds the project of m, depending on what it names, and sets
// Dev and Indirect from the graph (langpkg.Scope); without m the packages
// are returned as they are. fallback names a project without a name.
func (g *graph) withRoot(m *manifest, fallback string) []inventory.Package {
	if m == nil {
		return g.pkgs
	}
	run, dev := g.direct(m.runtime), g.direct(m.dev)
	root := langpkg.Project(packageurl.TypePyPi, m.name, m.version, fallback, append(append([]string(nil), run...), dev...))
	pkgs := append(g.pkgs, root)
	langpkg.Scope(pkgs, run, dev)
	return pkgs
}

type pipfileLock struct {
	Default map[string]pipfileEntry `json:"default"`
	Develop map[string]pipfileEntry `json:"develop"`
}

type pipfileEntry struct {
	Version string `json:"version"`
	Git     string `json:"git"`
	Ref     string `json:"ref"`
	Path    string `json:"path"`
	File    string `json:"file"`
}

// parsePipfileLock reads the default and develop sections. A package in
// develop only is Dev. Entries from git, a path or a file URL are
// reported with that origin. The lock has no graph: with the Pipfile,
// the packages it names are direct and the others Indirect.
func parsePipfileLock(b []byte, m *manifest, fallback string) ([]inventory.Package, error) {
	var lf pipfileLock
	if err := json.Unmarshal(b, &lf); err != nil {
		return nil, err
	}
	if lf.Default == nil && lf.Develop == nil {
		return nil, fmt.Errorf("no default or develop section")
	}
	g := newGraph()
	inSection := [2]map[string]string{{}, {}} // normalised name → ID, for default and develop
	for si, sec := range []struct {
		m   map[string]pipfileEntry
		dev bool
	}{{lf.Default, false}, {lf.Develop, true}} {
		for _, name := range slices.Sorted(maps.Keys(sec.m)) {
			e := sec.m[name]
			var p inventory.Package
			switch v, ok := strings.CutPrefix(e.Version, "=="); {
			case e.Git != "":
				origin := e.Git
				if e.Ref != "" {
					origin += "#" + e.Ref
				}
				p = originPackage(name, strings.TrimPrefix(v, "="), origin)
			case e.Path != "" || e.File != "":
				p = originPackage(name, strings.TrimPrefix(v, "="), cmp.Or(e.File, "file:"+e.Path))
			case ok && v != "":
				p = newPackage(name, strings.TrimPrefix(v, "="))
			default:
				continue
			}
			p.Dev = sec.dev
			g.add(p)
			inSection[si][normalize(name)] = p.ID
		}
	}
	if m == nil {
		return g.pkgs, nil
	}
	// Without a graph, the sections say what is dev; the Pipfile, what
	// is direct: [packages] name default entries, [dev-packages]
	// develop ones.
	var run, dev []string
	for si, reqs := range [2][]requirement{m.runtime, m.dev} {
		for _, r := range reqs {
			if id, ok := inSection[si][r.name]; ok {
				if si == 0 {
					run = append(run, id)
				} else {
					dev = append(dev, id)
				}
			}
		}
	}
	direct := map[string]bool{}
	for _, id := range append(append([]string(nil), run...), dev...) {
		direct[id] = true
	}
	for i := range g.pkgs {
		g.pkgs[i].Indirect = !direct[g.pkgs[i].ID]
	}
	return append(g.pkgs, langpkg.Project(packageurl.TypePyPi, m.name, m.version, fallback, append(run, dev...))), nil
}

type poetryDep struct {
	optional bool
	extras   []string
}

type poetryLock struct {
	Package []struct {
		Name         string              `toml:"name"`
		Version      string              `toml:"version"`
		Category     string              `toml:"category"`
		Groups       []string            `toml:"groups"`
		Optional     bool                `toml:"optional"`
		Dependencies map[string]any      `toml:"dependencies"`
		Extras       map[string][]string `toml:"extras"`
		Source       struct {
			Type              string `toml:"type"`
			URL               string `toml:"url"`
			Reference         string `toml:"reference"`
			ResolvedReference string `toml:"resolved_reference"`
		} `toml:"source"`
	} `toml:"package"`
}

// poetryDeps reads a package's dependencies: "name = spec", a table
// {version, optional, extras, markers} or a list of such tables.
func poetryDeps(deps map[string]any) map[string]poetryDep {
	out := make(map[string]poetryDep, len(deps))
	read := func(name string, v any) {
		d := out[normalize(name)]
		t, ok := v.(map[string]any)
		if !ok {
			out[normalize(name)] = d
			return
		}
		d.optional, _ = t["optional"].(bool)
		if list, ok := t["extras"].([]any); ok {
			for _, e := range list {
				if s, ok := e.(string); ok {
					d.extras = append(d.extras, normalize(s))
				}
			}
		}
		out[normalize(name)] = d
	}
	for name, v := range deps {
		if list, ok := v.([]any); ok {
			for _, e := range list {
				read(name, e)
			}
		} else {
			read(name, v)
		}
	}
	return out
}

// parsePoetryLock reads poetry.lock. A package's optional dependencies
// are followed only for the extras some dependent asks for. With the
// pyproject.toml, the project is the root and Dev and Indirect come from
// the graph; without it, Dev is what the lockfile records: category
// "dev" (lock format 1) or no "main" group (2.1). git, directory, file
// and url sources are reported with that origin.
func parsePoetryLock(b []byte, m *manifest, fallback string) ([]inventory.Package, error) {
	var lf poetryLock
	if _, err := toml.Decode(string(b), &lf); err != nil {
		return nil, err
	}
	g := newGraph()
	deps := make([]map[string]poetryDep, len(lf.Package))
	requested := map[string]map[string]bool{} // normalised name → extras asked for
	request := func(name string, extras []string) {
		for _, e := range extras {
			if requested[name] == nil {
				requested[name] = map[string]bool{}
			}
			requested[name][e] = true
		}
	}
	var index []int // package → graph index, -1 when skipped
	for i, e := range lf.Package {
		deps[i] = poetryDeps(e.Dependencies)
		for n, d := range deps[i] {
			request(n, d.extras)
		}
		if e.Name == "" || e.Version == "" {
			index = append(index, -1)
			continue
		}
		var p inventory.Package
		switch src := e.Source; src.Type {
		case "", "legacy":
			p = newPackage(e.Name, e.Version)
		case "git":
			ref := cmp.Or(src.ResolvedReference, src.Reference)
			origin := "git+" + strings.TrimPrefix(src.URL, "git+")
			if ref != "" {
				origin += "#" + ref
			}
			p = originPackage(e.Name, e.Version, origin)
		case "directory", "file":
			p = originPackage(e.Name, e.Version, "file:"+src.URL)
		default:
			p = originPackage(e.Name, e.Version, src.URL)
		}
		p.Dev = e.Category == "dev" || (len(e.Groups) > 0 && !slices.Contains(e.Groups, "main"))
		index = append(index, g.add(p))
	}
	if m != nil {
		for _, r := range append(append([]requirement(nil), m.runtime...), m.dev...) {
			request(r.name, r.extras)
		}
	}
	for i, e := range lf.Package {
		if index[i] < 0 {
			continue
		}
		follow := map[string]bool{}
		for extra := range requested[normalize(e.Name)] {
			for _, spec := range e.Extras[extra] {
				if r, ok := parsePEP508(spec); ok {
					follow[r.name] = true
				}
			}
		}
		p := &g.pkgs[index[i]]
		for n, d := range deps[i] {
			if !d.optional || follow[n] {
				p.DependsOn = append(p.DependsOn, g.ids(n, "")...)
			}
		}
	}
	return g.withRoot(m, fallback), nil
}

type uvDep struct {
	Name    string         `toml:"name"`
	Version string         `toml:"version"`
	Extra   []string       `toml:"extra"`
	Source  map[string]any `toml:"source"`
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
// or a workspace member (editable, virtual) are the roots: their
// dependencies and those of their extras are runtime, those of their
// dependency groups (dev-dependencies) development ones. A package's
// extras are followed only where a dependent asks for them. git, path,
// directory and url sources that are not members are reported with that
// origin.
func parseUVLock(b []byte) ([]inventory.Package, error) {
	var lf uvLock
	if _, err := toml.Decode(string(b), &lf); err != nil {
		return nil, err
	}
	g := newGraph()
	index := make([]int, len(lf.Package))
	requested := map[string]map[string]bool{}
	request := func(d uvDep) {
		for _, e := range d.Extra {
			n := normalize(d.Name)
			if requested[n] == nil {
				requested[n] = map[string]bool{}
			}
			requested[n][normalize(e)] = true
		}
	}
	for i, e := range lf.Package {
		index[i] = -1
		for _, d := range e.Dependencies {
			request(d)
		}
		for _, list := range e.DevDependencies {
			for _, d := range list {
				request(d)
			}
		}
		if e.Name == "" {
			continue
		}
		var p inventory.Package
		switch origin, local := uvOrigin(e.Source); {
		case local:
			p = langpkg.Project(packageurl.TypePyPi, e.Name, e.Version, e.Name, nil)
		case origin != "":
			p = originPackage(e.Name, e.Version, origin)
		case e.Version != "":
			p = newPackage(e.Name, e.Version)
		default:
			continue
		}
		index[i] = g.add(p)
	}
	resolve := func(list []uvDep) []string {
		var ids []string
		for _, d := range list {
			ids = append(ids, g.ids(d.Name, d.Version)...)
		}
		return ids
	}
	var run, dev []string
	for i, e := range lf.Package {
		if index[i] < 0 {
			continue
		}
		p := &g.pkgs[index[i]]
		p.DependsOn = resolve(e.Dependencies)
		for extra, list := range e.OptionalDependencies {
			if p.Root || requested[normalize(e.Name)][normalize(extra)] {
				p.DependsOn = append(p.DependsOn, resolve(list)...)
			}
		}
		if p.Root {
			run = append(run, p.DependsOn...)
			for _, list := range e.DevDependencies {
				ids := resolve(list)
				dev = append(dev, ids...)
				p.DependsOn = append(p.DependsOn, ids...)
			}
		}
	}
	if len(run)+len(dev) > 0 {
		langpkg.Scope(g.pkgs, run, dev)
	}
	return g.pkgs, nil
}

// uvOrigin reads a uv source: local (the project or a workspace member:
// editable, virtual), an origin (git, url, path, directory), or the
// registry ("", false).
func uvOrigin(src map[string]any) (origin string, local bool) {
	str := func(k string) string { s, _ := src[k].(string); return s }
	switch {
	case src["editable"] != nil, src["virtual"] != nil:
		return "", true
	case str("git") != "":
		return "git+" + strings.TrimPrefix(str("git"), "git+"), false
	case str("url") != "":
		return str("url"), false
	case str("path") != "":
		return "file:" + str("path"), false
	case str("directory") != "":
		return "file:" + str("directory"), false
	}
	return "", false
}

// originPackage returns a package that does not come from PyPI, with its
// origin.
func originPackage(name, version, origin string) inventory.Package {
	p := newPackage(name, version)
	p.Origin = origin
	p.Purl = langpkg.WithOrigin(p.Purl, origin)
	return p
}
