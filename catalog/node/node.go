// Package node catalogs Node.js packages: npm's package-lock.json (v1, v2
// and v3), yarn.lock (classic v1 and Berry), pnpm-lock.yaml (v5 to v9) and
// the package.json files of packages installed under node_modules.
//
// Each lockfile is one result whose target is the lockfile's path. The
// project and its workspace members are its roots: package-lock's folder
// entries, pnpm's importers, Berry's workspace entries, and for yarn
// classic and npm v1 the package.json beside the lockfile with the
// members its "workspaces" globs match. Dev and Indirect come from one
// walk of the whole workspace's graph (langpkg.Scope): a package is dev
// only when no runtime dependency of any root reaches it. Without any root
// (a yarn.lock alone) they are left unset. Packages from git, file:,
// link: or a tarball URL off the registry carry that origin. See
// docs/lockfiles.md.
//
// Installed packages are grouped into one result per image, target
// "Node.js", type "node-pkg", each package's FilePath naming its
// package.json. Packages whose package.json belongs to an OS package are
// skipped.
package node

import (
	"context"
	"encoding/json"
	"io/fs"
	"path"
	"strings"

	packageurl "github.com/package-url/packageurl-go"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/catalog/internal/langpkg"
	"github.com/vigil-scanner/vigil/internal/glob"
	"github.com/vigil-scanner/vigil/inventory"
)

// Result types, as Trivy names them.
const (
	TypeNpm       = "npm"
	TypeYarn      = "yarn"
	TypePnpm      = "pnpm"
	TypeInstalled = "node-pkg"
)

// InstalledTarget is the target of the result holding installed packages.
const InstalledTarget = "Node.js"

const (
	maxLockfile    = 256 << 20
	maxPackageJSON = 4 << 20
)

// Cataloger finds Node.js packages. The zero value is ready to use.
type Cataloger struct{}

// New returns a Node.js cataloger.
func New() Cataloger { return Cataloger{} }

// Name implements catalog.Cataloger.
func (Cataloger) Name() string { return "node" }

// Wants implements catalog.Cataloger. It takes lockfiles outside
// node_modules, every package.json outside node_modules (read only when it
// sits beside a lockfile), and the package.json at the root of each
// installed package: node_modules/<name>/package.json or
// node_modules/@scope/<name>/package.json.
func (Cataloger) Wants(p string, mode fs.FileMode, size int64) bool {
	if !mode.IsRegular() || size > maxLockfile {
		return false
	}
	switch langpkg.Base(p) {
	case "package-lock.json", "yarn.lock", "pnpm-lock.yaml":
		return !strings.Contains(p, "node_modules/")
	case "package.json":
		if size > maxPackageJSON {
			return false
		}
		return !strings.Contains(p, "node_modules/") || installedManifest(p)
	}
	return false
}

// installedManifest reports whether p is node_modules/<name>/package.json
// or node_modules/@scope/<name>/package.json, after the last node_modules.
func installedManifest(p string) bool {
	const nm, pj = "node_modules/", "/package.json"
	i := strings.LastIndex(p, nm)
	if i < 0 || (i > 0 && p[i-1] != '/') || !strings.HasSuffix(p, pj) {
		return false
	}
	seg := p[i+len(nm):]
	if len(seg) <= len(pj) {
		return false
	}
	seg = seg[:len(seg)-len(pj)]
	if seg[0] == '.' {
		return false
	}
	slash := strings.IndexByte(seg, '/')
	if seg[0] != '@' {
		return slash < 0
	}
	return slash > 1 && slash < len(seg)-1 && strings.IndexByte(seg[slash+1:], '/') < 0
}

// Catalog implements catalog.Cataloger.
func (c Cataloger) Catalog(ctx context.Context, fsys fs.FS, env catalog.Env) ([]inventory.Result, error) {
	var lockfiles, installed []string
	manifests := map[string]bool{}
	err := langpkg.Walk(ctx, fsys, env, "node", func(p string) error {
		switch langpkg.Base(p) {
		case "package-lock.json", "yarn.lock", "pnpm-lock.yaml":
			lockfiles = append(lockfiles, p)
		case "package.json":
			if installedManifest(p) {
				installed = append(installed, p)
			} else {
				manifests[p] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var results []inventory.Result
	for _, p := range lockfiles {
		proj := &project{fsys: fsys, env: env, dir: langpkg.Dir(p), manifests: manifests, read: map[string]*packageJSON{}}
		proj.root = proj.manifest(".")
		results = append(results, catalogLockfile(fsys, p, proj, env)...)
	}
	results = append(results, catalogInstalled(ctx, fsys, installed, env)...)
	langpkg.SortResults(results)
	return results, nil
}

func catalogLockfile(fsys fs.FS, p string, proj *project, env catalog.Env) []inventory.Result {
	b, err := langpkg.ReadFile(fsys, p, maxLockfile)
	if err != nil {
		env.Warn(p, "node: cannot read lockfile", err)
		return nil
	}
	var (
		pkgs []inventory.Package
		typ  string
	)
	switch langpkg.Base(p) {
	case "package-lock.json":
		typ = TypeNpm
		pkgs, err = parsePackageLock(b, proj)
	case "yarn.lock":
		typ = TypeYarn
		pkgs, err = parseYarnLock(b, proj)
	case "pnpm-lock.yaml":
		typ = TypePnpm
		pkgs, err = parsePnpmLock(b, proj)
	}
	if err != nil {
		env.Warn(p, "node: malformed lockfile", err)
		return nil
	}
	for i := range pkgs {
		pkgs[i].FilePath = p
	}
	return langpkg.Result(p, typ, pkgs)
}

// project is what a lockfile was written for: the package.json beside it
// (the root project) and those of its workspace members, read from the
// manifests the layer walk kept.
type project struct {
	fsys      fs.FS
	env       catalog.Env
	dir       string          // the lockfile's directory, "" at the root
	manifests map[string]bool // every package.json outside node_modules
	read      map[string]*packageJSON
	root      *packageJSON // nil when no package.json sits beside the lockfile
}

// manifest returns the package.json of the folder rel (slash-separated,
// relative to the lockfile's directory), or nil when there is none or it
// is unreadable (which is warned about).
func (p *project) manifest(rel string) *packageJSON {
	if p == nil {
		return nil
	}
	dir, ok := p.folder(rel)
	if !ok {
		return nil
	}
	mp := langpkg.Join(dir, "package.json")
	if m, ok := p.read[mp]; ok {
		return m
	}
	var m *packageJSON
	if p.manifests[mp] {
		m = readManifest(p.fsys, mp, p.env)
	}
	p.read[mp] = m
	return m
}

// folder returns the artifact path of the folder rel, relative to the
// lockfile's directory; false when rel leaves the artifact.
func (p *project) folder(rel string) (string, bool) {
	dir := path.Clean(path.Join(p.dir, rel))
	if dir == "." {
		dir = ""
	}
	if dir == ".." || strings.HasPrefix(dir, "../") || strings.HasPrefix(dir, "/") {
		return "", false
	}
	return dir, true
}

// members returns the workspace members of the root project: the folders
// (relative to the lockfile's directory) whose package.json its
// "workspaces" globs match, and their manifests.
func (p *project) members() map[string]*packageJSON {
	if p == nil || p.root == nil || len(p.root.Workspaces) == 0 {
		return nil
	}
	out := map[string]*packageJSON{}
	for mp := range p.manifests {
		dir := langpkg.Dir(mp)
		rel := dir
		if p.dir != "" {
			var ok bool
			if rel, ok = strings.CutPrefix(dir, p.dir+"/"); !ok {
				continue
			}
		}
		if dir == p.dir || !workspaceMatch(p.root.Workspaces, rel) {
			continue
		}
		if m := p.manifest(rel); m != nil {
			out[rel] = m
		}
	}
	return out
}

// workspaceMatch reports whether the folder rel is matched by the
// workspaces globs (path.Match per element, "**" for any number of
// elements), and by no later "!"-negated one. A glob with more than
// maxStars "**" elements (after merging repeated ones) is ignored: its
// matching time grows as the path's depth to that power.
func workspaceMatch(globs []string, rel string) bool {
	matched := false
	for _, g := range globs {
		neg := strings.HasPrefix(g, "!")
		g = strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(g, "!"), "./"), "/")
		g = strings.TrimSuffix(g, "/")
		for strings.Contains(g, "**/**") {
			g = strings.ReplaceAll(g, "**/**", "**")
		}
		if strings.Count(g, "**") > maxStars {
			continue
		}
		if glob.Match(g, rel) {
			matched = !neg
		}
	}
	return matched
}

const maxStars = 3

// rootPackage returns the project package of the manifest m (nil when the
// lockfile names a project whose manifest is absent) at the folder rel,
// depending on deps. Without a name, the project is named by its folder.
func (p *project) rootPackage(m *packageJSON, name, version, rel string, deps []string) inventory.Package {
	if m != nil {
		name, version = m.Name, m.Version
	}
	fallback := "."
	if dir, ok := p.folder(rel); ok && dir != "" {
		fallback = dir
	}
	return langpkg.Project(packageurl.TypeNPM, name, version, fallback, deps)
}

// packageJSON is the subset of package.json that matters here. Fields of
// the wrong JSON type are ignored rather than failing the whole file.
type packageJSON struct {
	Name                 string
	Version              string
	Licenses             []string
	Dependencies         map[string]string
	DevDependencies      map[string]string
	OptionalDependencies map[string]string
	// Workspaces are the globs of the workspace members' folders
	// ("workspaces": [...] or {"packages": [...]}).
	Workspaces []string
}

func readManifest(fsys fs.FS, p string, env catalog.Env) *packageJSON {
	b, err := langpkg.ReadFile(fsys, p, maxPackageJSON)
	if err != nil {
		env.Warn(p, "node: cannot read package.json", err)
		return nil
	}
	m, err := parsePackageJSON(b)
	if err != nil {
		env.Warn(p, "node: malformed package.json", err)
		return nil
	}
	return m
}

func parsePackageJSON(b []byte) (*packageJSON, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, err
	}
	m := &packageJSON{}
	_ = json.Unmarshal(raw["name"], &m.Name)
	_ = json.Unmarshal(raw["version"], &m.Version)
	m.Dependencies = stringMap(raw["dependencies"])
	m.DevDependencies = stringMap(raw["devDependencies"])
	m.OptionalDependencies = stringMap(raw["optionalDependencies"])
	m.Workspaces = stringList(raw["workspaces"])
	if m.Workspaces == nil {
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw["workspaces"], &obj) == nil {
			m.Workspaces = stringList(obj["packages"])
		}
	}
	m.Licenses = licenses(raw["license"])
	if len(m.Licenses) == 0 {
		m.Licenses = licenses(raw["licenses"])
	}
	return m, nil
}

// prodDeps returns the names of the non-development dependencies.
func (m *packageJSON) prodDeps() map[string]string {
	out := make(map[string]string, len(m.Dependencies)+len(m.OptionalDependencies))
	for k, v := range m.Dependencies {
		out[k] = v
	}
	for k, v := range m.OptionalDependencies {
		out[k] = v
	}
	return out
}

// stringList reads a JSON array of strings, skipping other elements.
func stringList(raw json.RawMessage) []string {
	var list []any
	if len(raw) == 0 || json.Unmarshal(raw, &list) != nil {
		return nil
	}
	out := make([]string, 0, len(list))
	for _, v := range list {
		if s, ok := v.(string); ok && s != "" {
			out = append(out, s)
		}
	}
	return out
}

func stringMap(raw json.RawMessage) map[string]string {
	if len(raw) == 0 {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}

// licenses reads the "license" field in its forms: "MIT", {"type":"MIT"},
// or the legacy [{"type":"MIT"}, "ISC"].
func licenses(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	var out []string
	add := func(v any) {
		switch l := v.(type) {
		case string:
			if l = strings.TrimSpace(l); l != "" {
				out = append(out, l)
			}
		case map[string]any:
			if t, ok := l["type"].(string); ok && strings.TrimSpace(t) != "" {
				out = append(out, strings.TrimSpace(t))
			}
		}
	}
	if list, ok := v.([]any); ok {
		for _, e := range list {
			add(e)
		}
	} else {
		add(v)
	}
	return out
}

// newPackage returns an npm package with its ID and purl.
func newPackage(name, version string) inventory.Package {
	return inventory.Package{
		ID:      langpkg.ID(name, version),
		Name:    name,
		Version: version,
		Purl:    langpkg.NpmPurl(name, version),
	}
}

// splitAlias reads an npm alias version "npm:real@1.0.0" into the real
// name and version; ok is false for any other version string.
func splitAlias(v string) (name, version string, ok bool) {
	rest, found := strings.CutPrefix(v, "npm:")
	if !found {
		return "", "", false
	}
	i := strings.LastIndexByte(rest, '@')
	if i <= 0 {
		return "", "", false
	}
	return rest[:i], rest[i+1:], true
}

// registryVersion reports whether v looks like a registry version rather
// than a git URL, tarball, file: or link: reference.
func registryVersion(v string) bool {
	if v == "" {
		return false
	}
	return !strings.ContainsAny(v, ":/#")
}

// registryTarball reads a tarball URL laid out as npm registries serve
// them, ".../<name>/-/<basename>-<version>.tgz" (name possibly scoped),
// into the package's name and version: such a URL names a registry
// package, whatever registry or mirror serves it.
func registryTarball(u string) (name, version string, ok bool) {
	if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		return "", "", false
	}
	u, _, _ = strings.Cut(u, "#")
	u, _, _ = strings.Cut(u, "?")
	before, file, found := strings.Cut(u, "/-/")
	if !found || !strings.HasSuffix(file, ".tgz") || strings.Contains(file, "/") {
		return "", "", false
	}
	i := strings.Index(before, "://")
	parts := strings.Split(before[i+3:], "/")
	if len(parts) < 2 {
		return "", "", false
	}
	name = parts[len(parts)-1]
	if scope := parts[len(parts)-2]; strings.HasPrefix(scope, "@") {
		name = scope + "/" + name
	}
	base := name[strings.LastIndexByte(name, '/')+1:]
	version, found = strings.CutPrefix(strings.TrimSuffix(file, ".tgz"), base+"-")
	if !found || !registryVersion(version) {
		return "", "", false
	}
	return name, version, true
}

// originPackage returns a package that does not come from the registry,
// with its origin (a git URL, a tarball URL, a local path).
func originPackage(name, version, origin string) inventory.Package {
	p := newPackage(name, version)
	p.Origin = origin
	p.Purl = langpkg.WithOrigin(p.Purl, origin)
	return p
}
