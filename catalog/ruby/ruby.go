// Package ruby catalogs Ruby gems: installed gem specifications and
// Bundler lockfiles.
//
// An installed gem is described by specifications/NAME-VERSION.gemspec
// under a gem home (usr/lib/ruby/gems/3.2.0/specifications/…,
// usr/local/bundle/specifications/…); each such file is one result of
// type "gemspec" with one package. The file is Ruby code that RubyGems
// generated; it is read statically, never run: only string literals
// assigned to name, version and license(s) are taken.
//
// A Gemfile.lock is one result of type "bundler": the specs of its GEM,
// GIT and PATH sections, with their dependencies, and the project as the
// root; gems listed under DEPENDENCIES are direct, the others Indirect.
// The Gemfile beside it, read statically, says which gems belong to the
// development and test groups (see parseLockfile).
package ruby

import (
	"cmp"
	"context"
	"errors"
	"io/fs"
	"strings"

	packageurl "github.com/package-url/packageurl-go"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/catalog/internal/langpkg"
	"github.com/vigil-scanner/vigil/inventory"
)

// Result types, as Trivy names them.
const (
	TypeGemspec = "gemspec"
	TypeBundler = "bundler"
)

const (
	maxGemspec  = 1 << 20
	maxLockfile = 32 << 20
)

// Cataloger finds gems. The zero value is ready.
type Cataloger struct{}

// New returns a Ruby gem cataloger.
func New() Cataloger { return Cataloger{} }

// Name implements catalog.Cataloger.
func (Cataloger) Name() string { return "ruby" }

// Wants implements catalog.Cataloger: installed gemspecs and Gemfile.lock.
func (Cataloger) Wants(p string, mode fs.FileMode, size int64) bool {
	if !mode.IsRegular() {
		return false
	}
	switch {
	case isGemspec(p):
		return size <= maxGemspec
	case langpkg.Base(p) == "Gemfile.lock", langpkg.Base(p) == "Gemfile":
		return size <= maxLockfile
	}
	return false
}

// isGemspec reports a specification file directly under a
// "specifications" directory or its "default" subdirectory (the gems
// that ship with Ruby).
func isGemspec(p string) bool {
	if !strings.HasSuffix(p, ".gemspec") {
		return false
	}
	dir := langpkg.Dir(p)
	if langpkg.Base(dir) == "default" {
		dir = langpkg.Dir(dir)
	}
	return langpkg.Base(dir) == "specifications"
}

// Catalog implements catalog.Cataloger.
func (c Cataloger) Catalog(ctx context.Context, fsys fs.FS, env catalog.Env) ([]inventory.Result, error) {
	var results []inventory.Result
	err := langpkg.Walk(ctx, fsys, env, "ruby", func(p string) error {
		if env.OwnedByOS(p) {
			return nil
		}
		switch {
		case isGemspec(p):
			b, err := langpkg.ReadFile(fsys, p, maxGemspec)
			if err != nil {
				env.Warn(p, "ruby: cannot read", err)
				return nil
			}
			pkg, err := ParseGemspec(b)
			if err != nil {
				env.Warn(p, "ruby: malformed gemspec", err)
				return nil
			}
			pkg.FilePath = p
			results = append(results, langpkg.Result(p, TypeGemspec, []inventory.Package{pkg})...)
		case langpkg.Base(p) == "Gemfile.lock":
			b, err := langpkg.ReadFile(fsys, p, maxLockfile)
			if err != nil {
				env.Warn(p, "ruby: cannot read", err)
				return nil
			}
			var gf *gemfile
			if gb, err := langpkg.ReadFile(fsys, langpkg.Join(langpkg.Dir(p), "Gemfile"), maxLockfile); err == nil {
				gf = parseGemfile(gb)
			} else if !errors.Is(err, fs.ErrNotExist) {
				env.Warn(langpkg.Join(langpkg.Dir(p), "Gemfile"), "ruby: cannot read", err)
			}
			pkgs, err := parseLockfile(b, gf, cmp.Or(langpkg.Dir(p), "."))
			if err != nil {
				env.Warn(p, "ruby: malformed Gemfile.lock", err)
				return nil
			}
			for i := range pkgs {
				pkgs[i].FilePath = p
			}
			results = append(results, langpkg.Result(p, TypeBundler, pkgs)...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	langpkg.SortResults(results)
	return results, nil
}

func newPackage(name, version string) inventory.Package {
	return inventory.Package{
		ID:      langpkg.ID(name, version),
		Name:    name,
		Version: version,
		Purl:    langpkg.Purl(packageurl.TypeGem, "", name, version),
	}
}
