// Package node catalogs Node.js packages: npm's package-lock.json (v1, v2
// and v3), yarn.lock (classic v1 and Berry), pnpm-lock.yaml (v5 to v9) and
// the package.json files of packages installed under node_modules.
//
// Each lockfile is one result whose target is the lockfile's path. A
// package.json beside a lockfile, when present, tells which dependencies
// are direct and which are for development only; without it those flags
// are left unset unless the lockfile records them itself (package-lock v2+
// "dev", pnpm "dev" and importers).
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
	"strings"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/catalog/internal/langpkg"
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
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			env.Warn(p, "node: cannot walk", err)
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
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
		var root *packageJSON
		if mp := langpkg.Join(langpkg.Dir(p), "package.json"); manifests[mp] {
			root = readManifest(fsys, mp, env)
		}
		results = append(results, catalogLockfile(fsys, p, root, env)...)
	}
	results = append(results, catalogInstalled(ctx, fsys, installed, env)...)
	langpkg.SortResults(results)
	return results, nil
}

func catalogLockfile(fsys fs.FS, p string, root *packageJSON, env catalog.Env) []inventory.Result {
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
		pkgs, err = parsePackageLock(b, root)
	case "yarn.lock":
		typ = TypeYarn
		pkgs, err = parseYarnLock(b, root)
	case "pnpm-lock.yaml":
		typ = TypePnpm
		pkgs, err = parsePnpmLock(b)
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

// packageJSON is the subset of package.json that matters here. Fields of
// the wrong JSON type are ignored rather than failing the whole file.
type packageJSON struct {
	Name                 string
	Version              string
	Licenses             []string
	Dependencies         map[string]string
	DevDependencies      map[string]string
	OptionalDependencies map[string]string
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
