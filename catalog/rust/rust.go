// Package rust catalogs Cargo.lock files.
//
// Each Cargo.lock is one result, target its path, type "cargo". Packages
// without a source are the workspace's own crates: they are not reported,
// and their dependencies are the direct ones (the others are Indirect).
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

const maxLockfile = 64 << 20

// Cataloger finds Rust crates in Cargo.lock files. The zero value is ready.
type Cataloger struct{}

// New returns a Cargo.lock cataloger.
func New() Cataloger { return Cataloger{} }

// Name implements catalog.Cataloger.
func (Cataloger) Name() string { return "cargo" }

// Wants implements catalog.Cataloger.
func (Cataloger) Wants(p string, mode fs.FileMode, size int64) bool {
	return mode.IsRegular() && size <= maxLockfile && langpkg.Base(p) == "Cargo.lock"
}

// Catalog implements catalog.Cataloger.
func (c Cataloger) Catalog(ctx context.Context, fsys fs.FS, env catalog.Env) ([]inventory.Result, error) {
	var results []inventory.Result
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			env.Warn(p, "cargo: cannot walk", err)
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.Type().IsRegular() || langpkg.Base(p) != "Cargo.lock" {
			return nil
		}
		b, err := langpkg.ReadFile(fsys, p, maxLockfile)
		if err != nil {
			env.Warn(p, "cargo: cannot read", err)
			return nil
		}
		pkgs, err := Parse(b)
		if err != nil {
			env.Warn(p, "cargo: malformed Cargo.lock", err)
			return nil
		}
		for i := range pkgs {
			pkgs[i].FilePath = p
		}
		results = append(results, langpkg.Result(p, Type, pkgs)...)
		return nil
	})
	if err != nil {
		return nil, err
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

// Parse returns the crates of a Cargo.lock (format v1 to v4).
func Parse(b []byte) ([]inventory.Package, error) {
	var lf lockfile
	if _, err := toml.Decode(string(b), &lf); err != nil {
		return nil, err
	}
	if len(lf.Package) == 0 && !strings.Contains(string(b), "version") {
		return nil, fmt.Errorf("no [[package]] entries")
	}
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
	direct := map[string]bool{}
	hasRoot := false
	var pkgs []inventory.Package
	for _, e := range lf.Package {
		var deps []string
		for _, d := range e.Dependencies {
			if id, ok := resolve(d); ok {
				deps = append(deps, id)
			}
		}
		if e.Source == "" {
			hasRoot = true
			for _, id := range deps {
				direct[id] = true
			}
			continue
		}
		if e.Name == "" || e.Version == "" {
			continue
		}
		pkgs = append(pkgs, inventory.Package{
			ID:        langpkg.ID(e.Name, e.Version),
			Name:      e.Name,
			Version:   e.Version,
			Purl:      langpkg.Purl(packageurl.TypeCargo, "", e.Name, e.Version),
			DependsOn: deps,
		})
	}
	if hasRoot {
		for i := range pkgs {
			pkgs[i].Indirect = !direct[pkgs[i].ID]
		}
	}
	return pkgs, nil
}
