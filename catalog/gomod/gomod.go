// Package gomod catalogs the requirements of go.mod files.
//
// Each go.mod is one result, target its path, type "gomod". The module
// itself is the root package (its path, no version), depending on the
// direct requirements. Every require line is a package, Indirect when
// marked "// indirect", after applying the file's replace directives (a
// requirement replaced by a local directory is left out, having no
// version). go.mod files inside a module cache (…/pkg/mod/…) or a vendor
// folder are ignored: they describe dependencies, not the project.
//
// What is reported is the module graph go.mod states, never go.sum's:
// go.sum also lists modules that are not built (test dependencies of
// dependencies, versions MVS passed over). From go 1.17 on, a tidy
// go.mod lists every module of the build; an older or untidy one (no
// "// indirect" requirement) may not, and when its go.sum holds the
// content of modules it does not require, a warning says so.
package gomod

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"path"
	"strings"

	packageurl "github.com/package-url/packageurl-go"
	"golang.org/x/mod/modfile"
	"golang.org/x/mod/semver"

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

// Wants implements catalog.Cataloger: go.mod files and the go.sum beside
// them, outside module caches and vendor folders.
func (Cataloger) Wants(p string, mode fs.FileMode, size int64) bool {
	if !mode.IsRegular() || size > maxGoMod {
		return false
	}
	if b := langpkg.Base(p); b != "go.mod" && b != "go.sum" {
		return false
	}
	return !strings.Contains(p, "pkg/mod/") && !strings.HasPrefix(p, "vendor/") && !strings.Contains(p, "/vendor/")
}

// Catalog implements catalog.Cataloger.
func (c Cataloger) Catalog(ctx context.Context, fsys fs.FS, env catalog.Env) ([]inventory.Result, error) {
	var results []inventory.Result
	err := langpkg.Walk(ctx, fsys, env, "gomod", func(p string) error {
		if langpkg.Base(p) != "go.mod" {
			return nil
		}
		b, err := langpkg.ReadFile(fsys, p, maxGoMod)
		if err != nil {
			env.Warn(p, "gomod: cannot read", err)
			return nil
		}
		mf, err := parse(p, b)
		if err != nil {
			env.Warn(p, "gomod: malformed go.mod", err)
			return nil
		}
		pkgs := packages(p, mf)
		checkSum(fsys, p, mf, pkgs, env)
		results = append(results, langpkg.Result(p, Type, pkgs)...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	langpkg.SortResults(results)
	return results, nil
}

// Parse returns the packages of the go.mod at file with content b: the
// module itself (the root) and its requirements.
func Parse(file string, b []byte) ([]inventory.Package, error) {
	mf, err := parse(file, b)
	if err != nil {
		return nil, err
	}
	return packages(file, mf), nil
}

func parse(file string, b []byte) (*modfile.File, error) {
	// Parse applies replace directives; ParseLax, which skips them and
	// tolerates directives newer than this x/mod, is the fallback.
	mf, err := modfile.Parse(file, b, nil)
	if err != nil {
		var laxErr error
		if mf, laxErr = modfile.ParseLax(file, b, nil); laxErr != nil {
			return nil, err
		}
	}
	return mf, nil
}

func packages(file string, mf *modfile.File) []inventory.Package {
	var pkgs []inventory.Package
	var direct []string
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
		p := inventory.Package{
			ID:       langpkg.ID(mod.Path, mod.Version),
			Name:     mod.Path,
			Version:  mod.Version,
			Purl:     purl(mod.Path, mod.Version),
			Indirect: r.Indirect,
			FilePath: file,
		}
		if !r.Indirect {
			direct = append(direct, p.ID)
		}
		pkgs = append(pkgs, p)
	}
	if mf.Module != nil && mf.Module.Mod.Path != "" {
		root := langpkg.Project("", mf.Module.Mod.Path, "", mf.Module.Mod.Path, direct)
		root.Purl = purl(root.Name, "")
		root.FilePath = file
		pkgs = append(pkgs, root)
	}
	return pkgs
}

func purl(modPath, version string) string {
	ns, name := path.Split(modPath)
	return langpkg.Purl(packageurl.TypeGolang, strings.TrimSuffix(ns, "/"), name, version)
}

// checkSum warns when go.mod may not list every module of the build: it
// was written for go < 1.17 or has no "// indirect" requirement, and the
// go.sum beside it holds the content hash of modules it does not require.
// Those modules are not reported: go.sum also keeps modules no build
// uses, so it cannot say which are built.
func checkSum(fsys fs.FS, p string, mf *modfile.File, pkgs []inventory.Package, env catalog.Env) {
	goVersion := "1.16" // go.mod without a go directive: as the go command assumes
	if mf.Go != nil {
		goVersion = mf.Go.Version
	}
	hasIndirect := false
	for _, r := range mf.Require {
		hasIndirect = hasIndirect || r.Indirect
	}
	if hasIndirect && semver.Compare("v"+goVersion, "v1.17") >= 0 {
		return
	}
	sumPath := langpkg.Join(langpkg.Dir(p), "go.sum")
	b, err := langpkg.ReadFile(fsys, sumPath, maxGoMod)
	if err != nil {
		return // no go.sum: nothing to compare
	}
	required := make(map[string]bool, len(pkgs))
	for _, pkg := range pkgs {
		required[pkg.Name] = true
	}
	for _, r := range mf.Require {
		required[r.Mod.Path] = true
	}
	extra := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 || strings.HasSuffix(f[1], "/go.mod") {
			continue // malformed, or only the module's go.mod was needed
		}
		if !required[f[0]] && (mf.Module == nil || f[0] != mf.Module.Mod.Path) {
			extra[f[0]] = true
		}
	}
	if len(extra) == 0 {
		return
	}
	why := "its go directive is " + goVersion
	if !hasIndirect {
		why = "it has no // indirect requirement"
		if semver.Compare("v"+goVersion, "v1.17") < 0 {
			why += " and its go directive is " + goVersion
		}
	}
	env.Warn(p, "gomod: go.mod may not list every module of the build", fmt.Errorf(
		"%s (not tidied, or written by go < 1.17), and go.sum holds the content of %d modules it does not require; only go.mod's requirements are reported (run `go mod tidy` with go ≥ 1.17 for the full module graph)",
		why, len(extra)))
}
