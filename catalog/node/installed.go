package node

import (
	"context"
	"io/fs"
	"strings"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/catalog/internal/langpkg"
	"github.com/vigil-scanner/vigil/inventory"
)

// catalogInstalled reads the package.json of each installed package. A
// package.json under a folder that is itself inside node_modules but is no
// package (test fixtures shipped inside a package, say) is ignored: the
// folder holding node_modules must be the project root, an installed
// package, or a pnpm store entry (node_modules/.pnpm/<name>@<version>).
func catalogInstalled(ctx context.Context, fsys fs.FS, paths []string, env catalog.Env) []inventory.Result {
	dirs := make(map[string]bool, len(paths))
	for _, p := range paths {
		dirs[langpkg.Dir(p)] = true
	}
	type found struct {
		dir  string
		pkg  inventory.Package
		deps []string
	}
	var all []found
	idAt := map[string]string{}
	for _, p := range paths {
		if ctx.Err() != nil {
			return nil
		}
		dir := langpkg.Dir(p)
		if !underPackage(dir, dirs) || env.OwnedByOS(p) {
			continue
		}
		m := readManifest(fsys, p, env)
		if m == nil {
			continue
		}
		if m.Name == "" || m.Version == "" {
			// Not a package (a workspace or fixture manifest): common
			// and harmless, so not worth a warning.
			env.Logger.Debug("node: package.json without name or version", "path", p)
			continue
		}
		pkg := newPackage(m.Name, m.Version)
		pkg.Licenses = m.Licenses
		pkg.FilePath = p
		var deps []string
		for dep := range m.prodDeps() {
			deps = append(deps, dep)
		}
		idAt[dir] = pkg.ID
		all = append(all, found{dir: dir, pkg: pkg, deps: deps})
	}
	exists := func(loc string) bool { _, ok := idAt[loc]; return ok }
	pkgs := make([]inventory.Package, 0, len(all))
	for _, f := range all {
		for _, dep := range f.deps {
			if at, ok := resolveLocation(exists, f.dir, dep); ok {
				f.pkg.DependsOn = append(f.pkg.DependsOn, idAt[at])
			}
		}
		pkgs = append(pkgs, f.pkg)
	}
	return langpkg.Result(InstalledTarget, TypeInstalled, pkgs)
}

// underPackage reports whether the node_modules holding the package at dir
// belongs to a real package or project (see catalogInstalled).
func underPackage(dir string, dirs map[string]bool) bool {
	owner, nested := ownerOf(dir)
	if !nested {
		return true
	}
	if dirs[owner] {
		return true
	}
	parent := langpkg.Dir(owner)
	return strings.HasSuffix(parent, "node_modules/.pnpm") || parent == "node_modules/.pnpm"
}

// ownerOf returns the folder whose node_modules holds the package at dir,
// and whether that folder is itself inside node_modules (then it counts
// only as a package or a pnpm store entry; see underPackage).
func ownerOf(dir string) (string, bool) {
	i := strings.LastIndex(dir, "node_modules/")
	owner := ""
	if i > 0 {
		owner = strings.TrimSuffix(dir[:i], "/")
	}
	return owner, strings.Contains(owner, "node_modules/") || strings.HasPrefix(owner, "node_modules")
}

// Inputs implements catalog.FileInputs. An installed package is read from
// its package.json, and counts only when the package whose node_modules
// holds it, if that is inside node_modules too, has a package.json (see
// underPackage). A lockfile's packages depend on the project's manifests:
// not listed.
func (Cataloger) Inputs(filePath string) ([]string, bool) {
	if !installedManifest(filePath) {
		return nil, false
	}
	if owner, nested := ownerOf(langpkg.Dir(filePath)); nested {
		return []string{filePath, langpkg.Join(owner, "package.json")}, true
	}
	return []string{filePath}, true
}
