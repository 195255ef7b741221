// Package gomod catalogs the requirements of go.mod files.
//
// Each go.mod is one result, target its path, type "gomod". Every require
// line is a package, Indirect when marked "// indirect", after applying
// the file's replace directives (a requirement replaced by a local
// directory is left out, having no version). The module itself is not
// reported. go.mod files inside a module cache (…/pkg/mod/…) or a vendor
// folder are ignored: they describe dependencies, not the project.
package gomod

import (
	"context"
	"io/fs"
	"path"
	"strings"

	packageurl "github.com/package-url/packageurl-go"
	"golang.org/x/mod/modfile"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/catalog/internal/langpkg"
	"github.com/vigil-scanner/vigil/inventory"
)

// Type is the result type, as Trivy names it.
const Type = "gomod"

const maxGoMod = 16 << 20

// Cataloger finds go.mod requirements. The zero value is ready to use.
type Cataloger struct{}

// New returns a go.mod cataloger.
func New() Cataloger { return Cataloger{} }

// Name implements catalog.Cataloger.
func (Cataloger) Name() string { return "gomod" }

// Wants implements catalog.Cataloger.
func (Cataloger) Wants(p string, mode fs.FileMode, size int64) bool {
	return mode.IsRegular() && size <= maxGoMod && langpkg.Base(p) == "go.mod" &&
		!strings.Contains(p, "pkg/mod/") && !strings.HasPrefix(p, "vendor/") && !strings.Contains(p, "/vendor/")
}

// Catalog implements catalog.Cataloger.
func (c Cataloger) Catalog(ctx context.Context, fsys fs.FS, env catalog.Env) ([]inventory.Result, error) {
	var results []inventory.Result
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			env.Warn(p, "gomod: cannot walk", err)
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.Type().IsRegular() || langpkg.Base(p) != "go.mod" {
			return nil
		}
		b, err := langpkg.ReadFile(fsys, p, maxGoMod)
		if err != nil {
			env.Warn(p, "gomod: cannot read", err)
			return nil
		}
		pkgs, err := Parse(p, b)
		if err != nil {
			env.Warn(p, "gomod: malformed go.mod", err)
			return nil
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

// Parse returns the requirements of the go.mod at file with content b.
func Parse(file string, b []byte) ([]inventory.Package, error) {
	// Parse applies replace directives; ParseLax, which skips them and
	// tolerates directives newer than this x/mod, is the fallback.
	mf, err := modfile.Parse(file, b, nil)
	if err != nil {
		var laxErr error
		if mf, laxErr = modfile.ParseLax(file, b, nil); laxErr != nil {
			return nil, err
		}
	}
	var pkgs []inventory.Package
	for _, r := range mf.Require {
		mod := r.Mod
		for _, rep := range mf.Replace {
			if rep.Old.Path == mod.Path && (rep.Old.Version == "" || rep.Old.Version == mod.Version) {
				mod = rep.New
			}
		}
		if mod.Version == "" {
			continue
		}
		ns, name := path.Split(mod.Path)
		pkgs = append(pkgs, inventory.Package{
			ID:       langpkg.ID(mod.Path, mod.Version),
			Name:     mod.Path,
			Version:  mod.Version,
			Purl:     langpkg.Purl(packageurl.TypeGolang, strings.TrimSuffix(ns, "/"), name, mod.Version),
			Indirect: r.Indirect,
			FilePath: file,
		})
	}
	return pkgs, nil
}
