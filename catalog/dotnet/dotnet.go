// Package dotnet catalogs .NET (NuGet) packages.
//
// Each input file is one result, target its path:
//   - APP.deps.json, written next to a built application: the "libraries"
//     of type "package", type "dotnet-core", with the application (the
//     "project" library) as the root of the runtime target's graph;
//   - packages.lock.json (NuGet lock file): the packages resolved for every
//     target framework, type "nuget", with the project (named by its
//     folder) and the projects it references as roots; Transitive and
//     CentralTransitive packages are Indirect;
//   - packages.config (older NuGet projects): type "nuget", packages
//     marked developmentDependency are Dev;
//   - Directory.Packages.props and Packages.props (central package
//     management): the PackageVersion and PackageReference items with a
//     literal version, type "packages-props".
//
// Type names are Trivy's.
package dotnet

import (
	"cmp"
	"context"
	"io/fs"
	"strings"

	packageurl "github.com/package-url/packageurl-go"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/catalog/internal/langpkg"
	"github.com/vigil-scanner/vigil/inventory"
)

// Result types.
const (
	TypeDotnetCore    = "dotnet-core"
	TypeNuGet         = "nuget"
	TypePackagesProps = "packages-props"
)

const maxFile = 32 << 20

// Cataloger finds NuGet packages. The zero value is ready.
type Cataloger struct{}

// New returns a .NET cataloger.
func New() Cataloger { return Cataloger{} }

// Name implements catalog.Cataloger.
func (Cataloger) Name() string { return "dotnet" }

// Wants implements catalog.Cataloger.
func (Cataloger) Wants(p string, mode fs.FileMode, size int64) bool {
	return mode.IsRegular() && size <= maxFile && kind(p) != ""
}

// kind returns the result type of an input file, or "".
func kind(p string) string {
	switch b := langpkg.Base(p); {
	case strings.HasSuffix(b, ".deps.json"):
		return TypeDotnetCore
	case b == "packages.lock.json", strings.EqualFold(b, "packages.config"):
		return TypeNuGet
	case strings.EqualFold(b, "Directory.Packages.props"), strings.EqualFold(b, "Packages.props"):
		return TypePackagesProps
	}
	return ""
}

// Catalog implements catalog.Cataloger.
func (c Cataloger) Catalog(ctx context.Context, fsys fs.FS, env catalog.Env) ([]inventory.Result, error) {
	var results []inventory.Result
	err := langpkg.Walk(ctx, fsys, env, "dotnet", func(p string) error {
		typ := kind(p)
		if typ == "" || env.OwnedByOS(p) {
			return nil
		}
		b, err := langpkg.ReadFile(fsys, p, maxFile)
		if err != nil {
			env.Warn(p, "dotnet: cannot read", err)
			return nil
		}
		var pkgs []inventory.Package
		switch base := langpkg.Base(p); {
		case typ == TypeDotnetCore:
			pkgs, err = ParseDepsJSON(b)
		case base == "packages.lock.json":
			pkgs, err = ParseLockfile(b, cmp.Or(langpkg.Dir(p), "."))
		case typ == TypeNuGet:
			pkgs, err = ParsePackagesConfig(b)
		default:
			pkgs, err = ParsePackagesProps(b)
		}
		if err != nil {
			env.Warn(p, "dotnet: malformed file", err)
			return nil
		}
		for i := range pkgs {
			pkgs[i].FilePath = p
		}
		results = append(results, langpkg.Result(p, typ, pkgs)...)
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
		Purl:    langpkg.Purl(packageurl.TypeNuget, "", name, version),
	}
}

// valid reports a plausible package name and version: non-empty, without
// spaces, and not an MSBuild property ("$(Version)").
func valid(name, version string) bool {
	return name != "" && version != "" && !strings.ContainsAny(name+version, " \t$()[],")
}
