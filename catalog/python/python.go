// Package python catalogs Python packages: installed distributions
// (*.dist-info/METADATA, *.egg-info/PKG-INFO, *.egg-info files,
// EGG-INFO/PKG-INFO of unpacked eggs, zipped *.egg files) and the lockfiles
// requirements*.txt (pinned "==" lines only), Pipfile.lock, poetry.lock,
// uv.lock and PEP 751 pylock.toml (and pylock.<name>.toml).
//
// Each lockfile is one result whose target is the lockfile's path. The
// project a lockfile was written for is its root package (with its
// workspace members, for uv), when the lockfile or the manifest beside it
// (Pipfile, pyproject.toml, requirements.in) names it; Dev and Indirect
// then come from a walk of the graph from the roots. See
// docs/lockfiles.md.
// Installed distributions are grouped into one result, target "Python",
// type "python-pkg", each package's FilePath naming its metadata file;
// distributions whose metadata belongs to an OS package are skipped.
// Names are kept as the metadata writes them; the purl carries the purl
// spec's normalisation (lower case, '_' as '-').
package python

import (
	"cmp"
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
	TypePylock       = "pylock"
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
	case kindRequirements, kindPipfile, kindPoetry, kindUV, kindPylock, kindPyproject, kindPipfileManifest, kindRequirementsIn:
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
	kindPylock
	// Manifests, read only beside a lockfile.
	kindPyproject
	kindPipfileManifest
	kindRequirementsIn
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
	case "pylock.toml":
		return kindPylock
	case "pyproject.toml":
		return kindPyproject
	case "Pipfile":
		return kindPipfileManifest
	case "requirements.in":
		return kindRequirementsIn
	}
	if strings.HasPrefix(base, "pylock.") && strings.HasSuffix(base, ".toml") && len(base) > len("pylock..toml") {
		return kindPylock // pylock.<name>.toml
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
	var lockfiles []string
	manifests := map[string]bool{}
	err := langpkg.Walk(ctx, fsys, env, "python", func(p string) error {
		switch k := kind(p); k {
		case kindNone:
		case kindMetadata, kindEgg:
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
		case kindPyproject, kindPipfileManifest, kindRequirementsIn:
			manifests[p] = true
		default:
			lockfiles = append(lockfiles, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var results []inventory.Result
	for _, p := range lockfiles {
		results = append(results, catalogLockfile(fsys, p, manifests, env)...)
	}
	linkInstalled(installed, installedDeps)
	results = append(results, langpkg.Result(InstalledTarget, TypeInstalled, installed)...)
	langpkg.SortResults(results)
	return results, nil
}

// manifestFor returns the manifest beside the lockfile at p that says what
// its project requires directly, or nil: the Pipfile of a Pipfile.lock,
// the pyproject.toml of a poetry.lock, and for a pylock.toml the Pipfile,
// pyproject.toml or requirements.in (in that order) it was locked from.
func manifestFor(fsys fs.FS, p string, k fileKind, manifests map[string]bool, env catalog.Env) *manifest {
	var names []string
	switch k {
	case kindPipfile:
		names = []string{"Pipfile"}
	case kindPoetry:
		names = []string{"pyproject.toml"}
	case kindPylock:
		names = []string{"Pipfile", "pyproject.toml", "requirements.in"}
	}
	for _, n := range names {
		mp := langpkg.Join(langpkg.Dir(p), n)
		if !manifests[mp] {
			continue
		}
		b, err := langpkg.ReadFile(fsys, mp, maxLockfile)
		if err != nil {
			env.Warn(mp, "python: cannot read manifest", err)
			return nil
		}
		var m *manifest
		switch n {
		case "Pipfile":
			m, err = parsePipfile(b)
		case "pyproject.toml":
			m, err = parsePyproject(b)
		default:
			m = parseRequirementsIn(b)
		}
		if err != nil {
			env.Warn(mp, "python: malformed manifest", err)
			return nil
		}
		return m
	}
	return nil
}

func catalogLockfile(fsys fs.FS, p string, manifests map[string]bool, env catalog.Env) []inventory.Result {
	b, err := langpkg.ReadFile(fsys, p, maxLockfile)
	if err != nil {
		env.Warn(p, "python: cannot read lockfile", err)
		return nil
	}
	k := kind(p)
	m := manifestFor(fsys, p, k, manifests, env)
	fallback := cmp.Or(langpkg.Dir(p), ".")
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
		pkgs, err = parsePipfileLock(b, m, fallback)
	case kindPoetry:
		typ = TypePoetry
		pkgs, err = parsePoetryLock(b, m, fallback)
	case kindUV:
		typ = TypeUV
		pkgs, err = parseUVLock(b)
	case kindPylock:
		typ = TypePylock
		pkgs, err = parsePylock(b, m, fallback)
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

// Inputs implements catalog.FileInputs: an installed distribution is read
// from its metadata file (or zipped egg) alone. A lockfile's packages
// depend on the manifest beside it too: not listed.
func (Cataloger) Inputs(filePath string) ([]string, bool) {
	switch kind(filePath) {
	case kindMetadata, kindEgg:
		return []string{filePath}, true
	}
	return nil, false
}
