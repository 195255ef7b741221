// Package php catalogs PHP Composer packages: composer.lock (packages and
// packages-dev) and vendor/composer/installed.json (Composer 1's list and
// Composer 2's {"packages": […]}).
//
// Each file is one result whose target is its path: type "composer" for
// composer.lock, "composer-vendor" for installed.json. The project of a
// composer.lock, when its composer.json sits beside it, is the root
// package, depending on its require and require-dev.
package php

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	packageurl "github.com/package-url/packageurl-go"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/catalog/internal/langpkg"
	"github.com/vigil-scanner/vigil/inventory"
)

// Result types, as Trivy names them.
const (
	TypeLock      = "composer"
	TypeInstalled = "composer-vendor"
)

const maxFile = 64 << 20

// Cataloger finds Composer packages. The zero value is ready to use.
type Cataloger struct{}

// New returns a Composer cataloger.
func New() Cataloger { return Cataloger{} }

// Name implements catalog.Cataloger.
func (Cataloger) Name() string { return "composer" }

// Wants implements catalog.Cataloger.
func (Cataloger) Wants(p string, mode fs.FileMode, size int64) bool {
	if !mode.IsRegular() || size > maxFile {
		return false
	}
	switch langpkg.Base(p) {
	case "composer.lock", "composer.json":
		return !strings.Contains(p, "vendor/")
	}
	return isInstalled(p)
}

func isInstalled(p string) bool {
	return p == "vendor/composer/installed.json" || strings.HasSuffix(p, "/vendor/composer/installed.json")
}

// Catalog implements catalog.Cataloger.
func (c Cataloger) Catalog(ctx context.Context, fsys fs.FS, env catalog.Env) ([]inventory.Result, error) {
	var results []inventory.Result
	err := langpkg.Walk(ctx, fsys, env, "composer", func(p string) error {
		installed := isInstalled(p)
		if !installed && langpkg.Base(p) != "composer.lock" {
			return nil
		}
		b, err := langpkg.ReadFile(fsys, p, maxFile)
		if err != nil {
			env.Warn(p, "composer: cannot read", err)
			return nil
		}
		var (
			pkgs []inventory.Package
			typ  = TypeLock
		)
		if installed {
			typ = TypeInstalled
			pkgs, err = parseInstalled(b)
		} else {
			pkgs, err = parseLock(b, readManifest(fsys, langpkg.Join(langpkg.Dir(p), "composer.json"), env), cmp.Or(langpkg.Dir(p), "."))
		}
		if err != nil {
			env.Warn(p, "composer: malformed file", err)
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

type composerPackage struct {
	Name    string            `json:"name"`
	Version string            `json:"version"`
	License json.RawMessage   `json:"license"`
	Require map[string]string `json:"require"`
	Provide map[string]string `json:"provide"`
	Replace map[string]string `json:"replace"`
	Dist    struct {
		Type string `json:"type"`
		URL  string `json:"url"`
	} `json:"dist"`
}

// manifest is what composer.json says the project requires directly.
type manifest struct {
	name, version       string
	require, requireDev map[string]string
}

// readManifest reads the composer.json at p, or returns nil when there is
// none (a malformed one is warned about).
func readManifest(fsys fs.FS, p string, env catalog.Env) *manifest {
	b, err := langpkg.ReadFile(fsys, p, maxFile)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			env.Warn(p, "composer: cannot read", err)
		}
		return nil
	}
	var m struct {
		Name       string          `json:"name"`
		Version    json.RawMessage `json:"version"`
		Require    json.RawMessage `json:"require"`
		RequireDev json.RawMessage `json:"require-dev"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		env.Warn(p, "composer: malformed composer.json", err)
		return nil
	}
	out := &manifest{name: m.Name}
	_ = json.Unmarshal(m.Version, &out.version)
	_ = json.Unmarshal(m.Require, &out.require)
	_ = json.Unmarshal(m.RequireDev, &out.requireDev)
	return out
}

// parseLock reads composer.lock: "packages" and "packages-dev", which
// Composer itself splits by what only require-dev needs, so packages-dev
// are Dev. With composer.json the project is the root, depending on its
// require and require-dev, and packages it does not name are Indirect.
// Packages installed from a path repository carry that origin.
func parseLock(b []byte, m *manifest, fallback string) ([]inventory.Package, error) {
	var lf struct {
		Packages    []composerPackage `json:"packages"`
		PackagesDev []composerPackage `json:"packages-dev"`
	}
	if err := json.Unmarshal(b, &lf); err != nil {
		return nil, err
	}
	if lf.Packages == nil && lf.PackagesDev == nil {
		return nil, fmt.Errorf("no packages or packages-dev")
	}
	pkgs, idOf := packages(lf.Packages, lf.PackagesDev, nil)
	if m == nil {
		return pkgs, nil
	}
	var run, dev []string
	for _, req := range []struct {
		deps  map[string]string
		isDev bool
	}{{m.require, false}, {m.requireDev, true}} {
		for name := range req.deps {
			if id, ok := idOf[strings.ToLower(name)]; ok {
				if req.isDev {
					dev = append(dev, id)
				} else {
					run = append(run, id)
				}
			}
		}
	}
	recorded := make([]bool, len(pkgs))
	for i := range pkgs {
		recorded[i] = pkgs[i].Dev
	}
	root := langpkg.Project("", m.name, m.version, fallback, append(append([]string(nil), run...), dev...))
	if vendor, name, ok := strings.Cut(m.name, "/"); ok {
		root.Purl = langpkg.Purl(packageurl.TypeComposer, vendor, name, m.version)
	}
	pkgs = append(pkgs, root)
	langpkg.Scope(pkgs, run, dev)
	// Composer's own split says what is dev; the graph only which
	// packages are direct.
	for i := range recorded {
		pkgs[i].Dev = recorded[i]
	}
	return pkgs, nil
}

func parseInstalled(b []byte) ([]inventory.Package, error) {
	var list []composerPackage
	if err := json.Unmarshal(b, &list); err == nil {
		pkgs, _ := packages(list, nil, nil)
		return pkgs, nil
	}
	var v2 struct {
		Packages        []composerPackage `json:"packages"`
		DevPackageNames []string          `json:"dev-package-names"`
	}
	if err := json.Unmarshal(b, &v2); err != nil {
		return nil, err
	}
	if v2.Packages == nil {
		return nil, fmt.Errorf("no packages")
	}
	dev := map[string]bool{}
	for _, n := range v2.DevPackageNames {
		dev[n] = true
	}
	pkgs, _ := packages(v2.Packages, nil, dev)
	return pkgs, nil
}

// packages converts prod and dev entries; devNames marks further dev
// packages by name. Requirements resolve to the package of that name or
// to the one that provides or replaces it; those on platform packages
// (php, ext-*) and on packages absent from the file are dropped. idOf
// maps lower-cased names (provided and replaced ones included) to IDs.
func packages(prod, dev []composerPackage, devNames map[string]bool) (pkgs []inventory.Package, idOf map[string]string) {
	idOf = map[string]string{}
	reported := func(e composerPackage) bool { return strings.Contains(e.Name, "/") && e.Version != "" }
	for _, list := range [][]composerPackage{prod, dev} {
		for _, e := range list {
			if !reported(e) {
				continue
			}
			id := langpkg.ID(e.Name, e.Version)
			for _, virtual := range []map[string]string{e.Provide, e.Replace} {
				for n := range virtual {
					if _, ok := idOf[strings.ToLower(n)]; !ok {
						idOf[strings.ToLower(n)] = id
					}
				}
			}
		}
	}
	for _, list := range [][]composerPackage{prod, dev} {
		for _, e := range list {
			if reported(e) {
				idOf[strings.ToLower(e.Name)] = langpkg.ID(e.Name, e.Version)
			}
		}
	}
	for i, list := range [][]composerPackage{prod, dev} {
		for _, e := range list {
			if !reported(e) {
				continue
			}
			vendor, name, _ := strings.Cut(e.Name, "/")
			p := inventory.Package{
				ID:       langpkg.ID(e.Name, e.Version),
				Name:     e.Name,
				Version:  e.Version,
				Purl:     langpkg.Purl(packageurl.TypeComposer, vendor, name, e.Version),
				Licenses: licenses(e.License),
				Dev:      i == 1 || devNames[e.Name],
			}
			if e.Dist.Type == "path" {
				p.Origin = "file:" + e.Dist.URL
				p.Purl = langpkg.WithOrigin(p.Purl, p.Origin)
			}
			for dep := range e.Require {
				if id, ok := idOf[strings.ToLower(dep)]; ok && id != p.ID {
					p.DependsOn = append(p.DependsOn, id)
				}
			}
			pkgs = append(pkgs, p)
		}
	}
	return pkgs, idOf
}

func licenses(raw json.RawMessage) []string {
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return list
	}
	var one string
	if json.Unmarshal(raw, &one) == nil && one != "" {
		return []string{one}
	}
	return nil
}
