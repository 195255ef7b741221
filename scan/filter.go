package scan

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/vigil-scanner/vigil/internal/glob"
	"github.com/vigil-scanner/vigil/inventory"
)

// Package types, the values of Filter.PkgTypes (Trivy's --pkg-types).
const (
	PkgTypeOS      = "os"
	PkgTypeLibrary = "library"
)

// Filter narrows an inventory to what the user asked to scan.
type Filter struct {
	// PkgTypes keeps OS packages ("os"), language packages ("library") or
	// both (empty).
	PkgTypes []string
	// SkipDirs and SkipFiles drop language packages read from files in
	// those directories or from those files, and the warnings about files
	// there. Patterns are path.Match globs, slash-separated and relative
	// to the artifact root; "**" in a directory pattern matches any number
	// of directories.
	SkipDirs  []string
	SkipFiles []string
	// IncludeDevDeps keeps development dependencies (Package.Dev); by
	// default they are left out, as Trivy does without its
	// --include-dev-deps.
	IncludeDevDeps bool
}

// Validate reports a pattern or package type Apply cannot use.
func (f Filter) Validate() error {
	for _, t := range f.PkgTypes {
		if t != PkgTypeOS && t != PkgTypeLibrary {
			return fmt.Errorf("package type %q: want os or library", t)
		}
	}
	for _, p := range append(append([]string{}, f.SkipDirs...), f.SkipFiles...) {
		if err := glob.Validate(p); err != nil {
			return err
		}
	}
	return nil
}

// Apply removes from inv the results and packages f excludes, and the
// warnings about files it leaves out: the user chose not to scan them.
func (f Filter) Apply(inv *inventory.Inventory) {
	ws := inv.Warnings[:0]
	for _, w := range inv.Warnings {
		if w.Path == "" || !f.skipped(strings.TrimPrefix(w.Path, "/")) {
			ws = append(ws, w)
		}
	}
	inv.Warnings = slices.Clip(ws)

	keepOS, keepLib := true, true
	if len(f.PkgTypes) > 0 {
		keepOS, keepLib = false, false
		for _, t := range f.PkgTypes {
			keepOS = keepOS || t == PkgTypeOS
			keepLib = keepLib || t == PkgTypeLibrary
		}
	}
	kept := inv.Results[:0]
	for _, r := range inv.Results {
		switch r.Class {
		case inventory.ClassOSPkgs:
			if !keepOS {
				continue
			}
		default:
			if !keepLib {
				continue
			}
			pkgs := r.Packages[:0]
			dropped := false
			for _, p := range r.Packages {
				if f.skipped(pathOf(r, p)) || (p.Dev && !f.IncludeDevDeps) {
					dropped = true
					continue
				}
				pkgs = append(pkgs, p)
			}
			if dropped {
				pruneDependsOn(pkgs)
			}
			r.Packages = pkgs
			if len(r.Packages) == 0 {
				continue
			}
		}
		kept = append(kept, r)
	}
	inv.Results = kept
}

// pruneDependsOn drops from each package's DependsOn the ids of packages
// no longer in pkgs, so the graph stays closed.
func pruneDependsOn(pkgs []inventory.Package) {
	ids := make(map[string]bool, len(pkgs))
	for _, p := range pkgs {
		ids[cmp.Or(p.ID, p.Name+"@"+p.Version)] = true
	}
	for i := range pkgs {
		deps := pkgs[i].DependsOn
		if len(deps) == 0 {
			continue
		}
		kept := make([]string, 0, len(deps))
		for _, d := range deps {
			if ids[d] {
				kept = append(kept, d)
			}
		}
		if len(kept) == 0 {
			kept = nil
		}
		pkgs[i].DependsOn = kept
	}
}

// pathOf is the file a language package was read from.
func pathOf(r inventory.Result, p inventory.Package) string {
	if p.FilePath != "" {
		return strings.TrimPrefix(p.FilePath, "/")
	}
	return strings.TrimPrefix(r.Target, "/")
}

// Classes returns the classes of packages PkgTypes asks for
// (inventory.ClassOSPkgs, inventory.ClassLangPkgs), for Options.Classes;
// nil when both are.
func (f Filter) Classes() []string {
	var cs []string
	for _, t := range []struct{ typ, class string }{{PkgTypeOS, inventory.ClassOSPkgs}, {PkgTypeLibrary, inventory.ClassLangPkgs}} {
		if slices.Contains(f.PkgTypes, t.typ) {
			cs = append(cs, t.class)
		}
	}
	if len(cs) == 2 {
		return nil
	}
	return cs
}

// Skips reports whether the file at path (slash-separated, relative to
// the artifact root) is one SkipFiles or SkipDirs leaves out; nil when
// neither is set. A scan given it (Options.Skip) does not read those
// files at all, so an OS package database can be left out too.
func (f Filter) Skips() func(path string) bool {
	if len(f.SkipFiles) == 0 && len(f.SkipDirs) == 0 {
		return nil
	}
	return func(p string) bool { return f.skipped(strings.TrimPrefix(p, "/")) }
}

func (f Filter) skipped(file string) bool {
	for _, pat := range f.SkipFiles {
		if glob.Match(strings.TrimPrefix(pat, "/"), file) {
			return true
		}
	}
	for _, pat := range f.SkipDirs {
		pat = strings.TrimSuffix(strings.TrimPrefix(pat, "/"), "/")
		for dir := path.Dir(file); dir != "." && dir != "/"; dir = path.Dir(dir) {
			if glob.Match(pat, dir) {
				return true
			}
		}
	}
	return false
}
