// Package python catalogs Python packages: installed distributions
// (*.dist-info/METADATA, *.egg-info/PKG-INFO, *.egg-info files,
// EGG-INFO/PKG-INFO of unpacked eggs, zipped *.egg files) and the lockfiles
// requirements*.txt (pinned "==" lines only), Pipfile.lock, poetry.lock
// and uv.lock.
//
// Each lockfile is one result whose target is the lockfile's path.
// Installed distributions are grouped into one result, target "Python",
// type "python-pkg", each package's FilePath naming its metadata file;
// distributions whose metadata belongs to an OS package are skipped.
// Names are kept as the metadata writes them; the purl carries the purl
// spec's normalisation (lower case, '_' as '-').
package python

import (
	"context"
	"io/fs"
	"regexp"
	"strings"

	packageurl "github.com/package-url/packageurl-go"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/catalog/internal/langpkg"
	"github.com/vigil-scanner/vigil/inventory"
)

// Result types, as Trivy names them.
const (
	TypeInstalled    = "python-pkg"
	TypeRequirements = "pip"
	TypePipenv       = "pipenv"
	TypePoetry       = "poetry"
	TypeUV           = "uv"
)

// InstalledTarget is the target of the result holding installed packages.
const InstalledTarget = "Python"

const (
	maxMetadata = 16 << 20
	maxLockfile = 128 << 20
)

// Cataloger finds Python packages. The zero value is ready to use.
type Cataloger struct{}

// New returns a Python cataloger.
func New() Cataloger { return Cataloger{} }

// Name implements catalog.Cataloger.
func (Cataloger) Name() string { return "python" }

// Wants implements catalog.Cataloger.
func (Cataloger) Wants(p string, mode fs.FileMode, size int64) bool {
	if !mode.IsRegular() {
		return false
	}
	switch kind(p) {
	case kindMetadata:
		return size <= maxMetadata
	case kindEgg:
		return size <= maxEgg
	case kindRequirements, kindPipfile, kindPoetry, kindUV:
		return size <= maxLockfile
	}
	return false
}

type fileKind int

const (
	kindNone fileKind = iota
	kindMetadata
	kindEgg
	kindRequirements
	kindPipfile
	kindPoetry
	kindUV
)

func kind(p string) fileKind {
	base := langpkg.Base(p)
	switch base {
	case "METADATA":
		if strings.HasSuffix(langpkg.Dir(p), ".dist-info") {
			return kindMetadata
		}
	case "PKG-INFO":
		if d := langpkg.Dir(p); strings.HasSuffix(d, ".egg-info") || strings.HasSuffix(d, "/EGG-INFO") || d == "EGG-INFO" {
			return kindMetadata
		}
	case "Pipfile.lock":
		return kindPipfile
	case "poetry.lock":
		return kindPoetry
	case "uv.lock":
		return kindUV
	}
	if strings.HasSuffix(base, ".egg-info") {
		return kindMetadata
	}
	if isEgg(base) {
		return kindEgg
	}
	if strings.HasPrefix(base, "requirements") && strings.HasSuffix(base, ".txt") {
		return kindRequirements
	}
	return kindNone
}

// Catalog implements catalog.Cataloger.
func (c Cataloger) Catalog(ctx context.Context, fsys fs.FS, env catalog.Env) ([]inventory.Result, error) {
	var installed []inventory.Package
	var installedDeps [][]string
	var results []inventory.Result
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			env.Warn(p, "python: cannot walk", err)
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		k := kind(p)
		if k == kindNone {
			return nil
		}
		if k == kindMetadata || k == kindEgg {
			if env.OwnedByOS(p) {
				return nil
			}
			read := readMetadata
			if k == kindEgg {
				read = readEgg
			}
			pkg, deps, ok := read(fsys, p, env)
			if ok {
				installed = append(installed, pkg)
				installedDeps = append(installedDeps, deps)
			}
			return nil
		}
		results = append(results, catalogLockfile(fsys, p, k, env)...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	linkInstalled(installed, installedDeps)
	results = append(results, langpkg.Result(InstalledTarget, TypeInstalled, installed)...)
	langpkg.SortResults(results)
	return results, nil
}

func catalogLockfile(fsys fs.FS, p string, k fileKind, env catalog.Env) []inventory.Result {
	b, err := langpkg.ReadFile(fsys, p, maxLockfile)
	if err != nil {
		env.Warn(p, "python: cannot read lockfile", err)
		return nil
	}
	var (
		pkgs []inventory.Package
		typ  string
	)
	switch k {
	case kindRequirements:
		typ = TypeRequirements
		pkgs = parseRequirements(b)
	case kindPipfile:
		typ = TypePipenv
		pkgs, err = parsePipfileLock(b)
	case kindPoetry:
		typ = TypePoetry
		pkgs, err = parsePoetryLock(b)
	case kindUV:
		typ = TypeUV
		pkgs, err = parseUVLock(b)
	}
	if err != nil {
		env.Warn(p, "python: malformed lockfile", err)
		return nil
	}
	for i := range pkgs {
		pkgs[i].FilePath = p
	}
	return langpkg.Result(p, typ, pkgs)
}

// newPackage returns a PyPI package with its ID and purl.
func newPackage(name, version string) inventory.Package {
	return inventory.Package{
		ID:      langpkg.ID(name, version),
		Name:    name,
		Version: version,
		Purl:    langpkg.Purl(packageurl.TypePyPi, "", name, version),
	}
}

var normRe = regexp.MustCompile(`[-_.]+`)

// normalize is the PEP 503 normalised name, used to match dependencies.
func normalize(name string) string {
	return strings.ToLower(normRe.ReplaceAllString(strings.TrimSpace(name), "-"))
}

var nameRe = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$`)

// validName reports whether s is a valid distribution name (PEP 508).
func validName(s string) bool { return nameRe.MatchString(s) }
