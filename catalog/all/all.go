// Package all is the one list of vigil's catalogers. Adding a package
// format means writing catalog/<format> and adding one line here.
//
// (The list cannot live in package catalog itself: every cataloger imports
// catalog for its interface.)
package all

import (
	"github.com/vigil-scanner/vigil/catalog"
)

// Mode says what kind of tree is scanned.
type Mode int

const (
	// Installed is an image or a root filesystem: what package managers
	// installed (package databases, node_modules, site-packages, binaries,
	// archives). Lockfiles are not read, as Trivy does not in images, so a
	// package is not reported twice.
	Installed Mode = iota
	// Project is a source tree or repository: lockfiles and manifests.
	Project
)

// Catalogers returns the catalogers for mode, OS package catalogers first.
func Catalogers(mode Mode) []catalog.Cataloger {
	cats := []catalog.Cataloger{}
	switch mode {
	case Installed:
	case Project:
	}
	return cats
}
