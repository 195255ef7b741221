// Package rust catalogs Cargo.lock files.
//
// Each Cargo.lock is one result, target its path, type "cargo". Packages
// without a source are the workspace's own crates (members, path
// dependencies): they are its roots, each depending on what the lockfile
// lists for it. The Cargo.toml of a root, found by its [package] name
// under the lockfile's folder, says which of those are dev-dependencies;
// Dev and Indirect then come from a walk of the whole graph. Crates from
// git, or from a registry other than crates.io, are reported with that
// origin and never matched by name against crates.io advisories.
package rust

import (
	"context"
	"fmt"
	"io/fs"
	"strings"

	"github.com/BurntSushi/toml"
	packageurl "github.com/package-url/packageurl-go"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/catalog/internal/langpkg"
	"github.com/vigil-scanner/vigil/inventory"
)

// Type is the result type, as Trivy names it.
const Type = "cargo"

const (
	maxLockfile = 64 << 20
	maxManifest = 4 << 20
	// maxManifests bounds the Cargo.toml files read per lockfile.
	maxManifests = 10000
)

// Cataloger finds Rust crates in Cargo.lock files. The zero value is ready.
type Cataloger struct{}

// New returns a Cargo.lock cataloger.
func New() Cataloger { return Cataloger{} }

// Name implements catalog.Cataloger.
func (Cataloger) Name() string { return "cargo" }

// Wants implements catalog.Cataloger: Cargo.lock files and the
// Cargo.toml manifests that say which dependencies are dev ones (outside
// build output and vendored sources).
func (Cataloger) Wants(p string, mode fs.FileMode, size int64) bool {
	if !mode.IsRegular() {
		return false
	}
	switch langpkg.Base(p) {
	case "Cargo.lock":
		return size <= maxLockfile
	case "Cargo.toml":
		return size <= maxManifest && !strings.Contains(p, "/target/") && !strings.HasPrefix(p, "target/") &&
			!strings.Contains(p, "vendor/") && !strings.Contains(p, ".cargo/")
	}
	return false
}

// Catalog implements catalog.Cataloger.
func (c Cataloger) Catalog(ctx context.Context, fsys fs.FS, env catalog.Env) ([]inventory.Result, error) {
	var lockfiles, manifests []string
	err := langpkg.Walk(ctx, fsys, env, "cargo", func(p string) error {
		switch langpkg.Base(p) {
		case "Cargo.lock":
			lockfiles = append(lockfiles, p)
		case "Cargo.toml":
			manifests = append(manifests, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var results []inventory.Result
	for _, p := range lockfiles {
		b, err := langpkg.ReadFile(fsys, p, maxLockfile)
		if err != nil {
			env.Warn(p, "cargo: cannot read", err)
			continue
		}
		lf, err := decode(b)
		if err != nil {
			env.Warn(p, "cargo: malformed Cargo.lock", err)
			continue
		}
		crates := localCrates(ctx, fsys, p, lf, manifests, env)
		pkgs := packages(lf, crates)
		for i := range pkgs {
			pkgs[i].FilePath = p
		}
		results = append(results, langpkg.Result(p, Type, pkgs)...)
	}
	langpkg.SortResults(results)
	return results, nil
}

type lockfile struct {
	Package []struct {
		Name         string   `toml:"name"`
		Version      string   `toml:"version"`
		Source       string   `toml:"source"`
		Dependencies []string `toml:"dependencies"`
	} `toml:"package"`
}

func decode(b []byte) (*lockfile, error) {
	var lf lockfile
	if _, err := toml.Decode(string(b), &lf); err != nil {
		return nil, err
	}
	if len(lf.Package) == 0 && !strings.Contains(string(b), "version") {
		return nil, fmt.Errorf("no [[package]] entries")
	}
	return &lf, nil
}

// Parse returns the crates of a Cargo.lock (format v1 to v4), without the
// manifests: every dependency of a root crate counts as a runtime one.
func Parse(b []byte) ([]inventory.Package, error) {
	lf, err := decode(b)
	if err != nil {
		return nil, err
	}
	return packages(lf, nil), nil
}

// crate is what a workspace crate's Cargo.toml says of its dependencies:
// the names (as the lockfile writes them, after renames) that are only
// dev-dependencies.
type crate struct {
	devOnly map[string]bool
}

// localCrates reads the Cargo.toml of each crate of lf without a source,
// among the manifests under the lockfile's folder, by [package] name.
func localCrates(ctx context.Context, fsys fs.FS, lockPath string, lf *lockfile, manifests []string, env catalog.Env) map[string]crate {
	want := map[string]bool{}
	for _, e := range lf.Package {
		if e.Source == "" {
			want[e.Name] = true
		}
	}
	out := map[string]crate{}
	dir := langpkg.Dir(lockPath)
	read := 0
	for _, mp := range manifests {
		if len(out) == len(want) || read >= maxManifests || ctx.Err() != nil {
			break
		}
		if dir != "" && !strings.HasPrefix(mp, dir+"/") {
			continue
		}
		read++
		b, err := langpkg.ReadFile(fsys, mp, maxManifest)
		if err != nil {
			env.Warn(mp, "cargo: cannot read", err)
			continue
		}
		name, c, err := parseManifest(b)
		if err != nil {
			env.Warn(mp, "cargo: malformed Cargo.toml", err)
			continue
		}
		if want[name] {
			if _, dup := out[name]; !dup {
				out[name] = c
			}
		}
	}
	return out
}

type dependencyTables struct {
	Dependencies      map[string]any `toml:"dependencies"`
	DevDependencies   map[string]any `toml:"dev-dependencies"`
	BuildDependencies map[string]any `toml:"build-dependencies"`
}

// parseManifest reads a Cargo.toml: its package name, and which
// dependencies (by the crate name the lockfile uses: `package = "…"`
// when renamed) appear only as dev-dependencies, target-specific tables
// included.
func parseManifest(b []byte) (string, crate, error) {
	var m struct {
		Package struct {
			Name string `toml:"name"`
		} `toml:"package"`
		dependencyTables
		Target map[string]dependencyTables `toml:"target"`
	}
	if _, err := toml.Decode(string(b), &m); err != nil {
		return "", crate{}, err
	}
	tables := append([]dependencyTables{m.dependencyTables}, func() []dependencyTables {
		var ts []dependencyTables
		for _, t := range m.Target {
			ts = append(ts, t)
		}
		return ts
	}()...)
	dev, other := map[string]bool{}, map[string]bool{}
	for _, t := range tables {
		for key, spec := range t.DevDependencies {
			dev[crateName(key, spec)] = true
		}
		for _, deps := range []map[string]any{t.Dependencies, t.BuildDependencies} {
			for key, spec := range deps {
				other[crateName(key, spec)] = true
			}
		}
	}
	c := crate{devOnly: map[string]bool{}}
	for n := range dev {
		if !other[n] {
			c.devOnly[n] = true
		}
	}
	return m.Package.Name, c, nil
}

// crateName is the crate a dependency entry names: its key, or the
// `package` it renames.
func crateName(key string, spec any) string {
	if t, ok := spec.(map[string]any); ok {
		if p, ok := t["package"].(string); ok && p != "" {
			return p
		}
	}
	return key
}

func packages(lf *lockfile, crates map[string]crate) []inventory.Package {
	byName := map[string][]string{}
	for _, p := range lf.Package {
		byName[p.Name] = append(byName[p.Name], p.Version)
	}
	// A dependency is "name", "name version" or "name version (source)".
	resolve := func(dep string) (string, bool) {
		f := strings.Fields(dep)
		if len(f) == 0 {
			return "", false
		}
		if len(f) >= 2 {
			return langpkg.ID(f[0], f[1]), true
		}
		if vs := byName[f[0]]; len(vs) == 1 {
			return langpkg.ID(f[0], vs[0]), true
		}
		return "", false
	}
	known := map[string]bool{}
	for _, e := range lf.Package {
		if e.Name != "" && e.Version != "" {
			known[langpkg.ID(e.Name, e.Version)] = true
		}
	}
	var runtime, dev []string
	hasRoot := false
	var pkgs []inventory.Package
	for _, e := range lf.Package {
		if e.Name == "" || e.Version == "" {
			continue
		}
		var deps []string
		for _, d := range e.Dependencies {
			if id, ok := resolve(d); ok && known[id] {
				deps = append(deps, id)
			}
		}
		p := inventory.Package{
			ID:        langpkg.ID(e.Name, e.Version),
			Name:      e.Name,
			Version:   e.Version,
			Purl:      langpkg.Purl(packageurl.TypeCargo, "", e.Name, e.Version),
			DependsOn: deps,
		}
		switch {
		case e.Source == "":
			hasRoot = true
			p.Root = true
			c := crates[e.Name]
			for _, d := range e.Dependencies {
				id, ok := resolve(d)
				if !ok || !known[id] {
					continue
				}
				if name, _, _ := strings.Cut(d, " "); c.devOnly[name] {
					dev = append(dev, id)
				} else {
					runtime = append(runtime, id)
				}
			}
		case !cratesIO(e.Source):
			p.Origin = strings.TrimPrefix(strings.TrimPrefix(e.Source, "registry+"), "sparse+")
			if strings.HasPrefix(e.Source, "git+") {
				p.Origin = e.Source
			}
			p.Purl = langpkg.WithOrigin(p.Purl, p.Origin)
		}
		pkgs = append(pkgs, p)
	}
	if hasRoot {
		langpkg.Scope(pkgs, runtime, dev)
	}
	return pkgs
}

// cratesIO reports a source that is crates.io's index, as git or sparse.
func cratesIO(source string) bool {
	return source == "registry+https://github.com/rust-lang/crates.io-index" || source == "sparse+https://index.crates.io/"
}
