package scan

import (
	"fmt"
	"path"
	"slices"
	"strings"

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
}

// Validate reports a pattern or package type Apply cannot use.
func (f Filter) Validate() error {
	for _, t := range f.PkgTypes {
		if t != PkgTypeOS && t != PkgTypeLibrary {
			return fmt.Errorf("package type %q: want os or library", t)
		}
	}
	for _, p := range append(append([]string{}, f.SkipDirs...), f.SkipFiles...) {
		if _, err := path.Match(strings.ReplaceAll(p, "**", "*"), ""); err != nil {
			return fmt.Errorf("pattern %q: %w", p, err)
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
			for _, p := range r.Packages {
				if !f.skipped(pathOf(r, p)) {
					pkgs = append(pkgs, p)
				}
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

// pathOf is the file a language package was read from.
func pathOf(r inventory.Result, p inventory.Package) string {
	if p.FilePath != "" {
		return strings.TrimPrefix(p.FilePath, "/")
	}
	return strings.TrimPrefix(r.Target, "/")
}

func (f Filter) skipped(file string) bool {
	for _, pat := range f.SkipFiles {
		if globMatch(strings.TrimPrefix(pat, "/"), file) {
			return true
		}
	}
	for _, pat := range f.SkipDirs {
		pat = strings.TrimSuffix(strings.TrimPrefix(pat, "/"), "/")
		for dir := path.Dir(file); dir != "." && dir != "/"; dir = path.Dir(dir) {
			if globMatch(pat, dir) {
				return true
			}
		}
	}
	return false
}

// globMatch is path.Match where a "**" element matches any number of path
// elements.
func globMatch(pattern, name string) bool {
	if !strings.Contains(pattern, "**") {
		ok, _ := path.Match(pattern, name)
		return ok
	}
	pe, ne := strings.Split(pattern, "/"), strings.Split(name, "/")
	var match func(p, n []string) bool
	match = func(p, n []string) bool {
		for len(p) > 0 {
			if p[0] == "**" {
				for i := 0; i <= len(n); i++ {
					if match(p[1:], n[i:]) {
						return true
					}
				}
				return false
			}
			if len(n) == 0 {
				return false
			}
			if ok, _ := path.Match(p[0], n[0]); !ok {
				return false
			}
			p, n = p[1:], n[1:]
		}
		return len(n) == 0
	}
	return match(pe, ne)
}
