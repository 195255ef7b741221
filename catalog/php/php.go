// Package php catalogs PHP Composer packages: composer.lock (packages and
// packages-dev) and vendor/composer/installed.json (Composer 1's list and
// Composer 2's {"packages": […]}).
//
// Each file is one result whose target is its path: type "composer" for
// composer.lock, "composer-vendor" for installed.json.
package php

import (
	"context"
	"encoding/json"
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
	return (langpkg.Base(p) == "composer.lock" && !strings.Contains(p, "vendor/")) || isInstalled(p)
}

func isInstalled(p string) bool {
	return p == "vendor/composer/installed.json" || strings.HasSuffix(p, "/vendor/composer/installed.json")
}

// Catalog implements catalog.Cataloger.
func (c Cataloger) Catalog(ctx context.Context, fsys fs.FS, env catalog.Env) ([]inventory.Result, error) {
	var results []inventory.Result
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			env.Warn(p, "composer: cannot walk", err)
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		installed := isInstalled(p)
		if !installed && langpkg.Base(p) != "composer.lock" {
			return nil
		}
		b, err := langpkg.ReadFile(fsys, p, maxFile)
		if err != nil {
			env.Warn(p, "composer: cannot read", err)
			return nil
		}
		typ, parse := TypeLock, parseLock
		if installed {
			typ, parse = TypeInstalled, parseInstalled
		}
		pkgs, err := parse(b)
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
}

func parseLock(b []byte) ([]inventory.Package, error) {
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
	return packages(lf.Packages, lf.PackagesDev, nil), nil
}

func parseInstalled(b []byte) ([]inventory.Package, error) {
	var list []composerPackage
	if err := json.Unmarshal(b, &list); err == nil {
		return packages(list, nil, nil), nil
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
	return packages(v2.Packages, nil, dev), nil
}

// packages converts prod and dev entries; devNames marks further dev
// packages by name. Requirements on platform packages (php, ext-*) and on
// packages absent from the file are dropped.
func packages(prod, dev []composerPackage, devNames map[string]bool) []inventory.Package {
	idOf := map[string]string{}
	for _, list := range [][]composerPackage{prod, dev} {
		for _, e := range list {
			idOf[strings.ToLower(e.Name)] = langpkg.ID(e.Name, e.Version)
		}
	}
	var pkgs []inventory.Package
	for i, list := range [][]composerPackage{prod, dev} {
		for _, e := range list {
			vendor, name, ok := strings.Cut(e.Name, "/")
			if !ok || e.Version == "" {
				continue
			}
			p := inventory.Package{
				ID:       langpkg.ID(e.Name, e.Version),
				Name:     e.Name,
				Version:  e.Version,
				Purl:     langpkg.Purl(packageurl.TypeComposer, vendor, name, e.Version),
				Licenses: licenses(e.License),
				Dev:      i == 1 || devNames[e.Name],
			}
			for dep := range e.Require {
				if id, ok := idOf[strings.ToLower(dep)]; ok {
					p.DependsOn = append(p.DependsOn, id)
				}
			}
			pkgs = append(pkgs, p)
		}
	}
	return pkgs
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
