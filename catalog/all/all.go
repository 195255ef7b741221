// Package all is the one list of vigil's catalogers. Adding a package
// format means writing catalog/<format> and adding one line here.
//
// (The list cannot live in package catalog itself: every cataloger imports
// catalog for its interface.)
package all

import (
	"fmt"
	"io/fs"
	"strings"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/catalog/apk"
	"github.com/vigil-scanner/vigil/catalog/dotnet"
	"github.com/vigil-scanner/vigil/catalog/dpkg"
	"github.com/vigil-scanner/vigil/catalog/gobinary"
	"github.com/vigil-scanner/vigil/catalog/gomod"
	"github.com/vigil-scanner/vigil/catalog/gradle"
	"github.com/vigil-scanner/vigil/catalog/java"
	"github.com/vigil-scanner/vigil/catalog/maven"
	"github.com/vigil-scanner/vigil/catalog/node"
	"github.com/vigil-scanner/vigil/catalog/php"
	"github.com/vigil-scanner/vigil/catalog/python"
	"github.com/vigil-scanner/vigil/catalog/rpm"
	"github.com/vigil-scanner/vigil/catalog/ruby"
	"github.com/vigil-scanner/vigil/catalog/rust"
	"github.com/vigil-scanner/vigil/catalog/rustbinary"
)

// Mode says what kind of tree is scanned.
type Mode int

const (
	// Installed is an image or a root filesystem: what package managers
	// installed (package databases, node_modules, site-packages, binaries,
	// archives). Lockfiles are not read, as Trivy does not in images, so a
	// package is not reported twice (once installed, once locked).
	Installed Mode = iota
	// Project is a source tree or repository: lockfiles and manifests;
	// installed copies (node_modules, site-packages, binaries) are not
	// read, for the same reason.
	Project
)

// LayerCacheVersion is the version of what the catalogers listed below and
// OS detection (distro.Wants) ask of the layer walk. The layer cache keeps,
// per image layer, the files they wanted and what their condensers kept,
// under a key that includes this number (see CacheKey). Bump it whenever
// a Wants method or distro.Wants takes or leaves files it did not, or a
// Condense method keeps something else; otherwise scans are served what
// the old code kept from layers read before. (Release builds also key the
// cache by vigil's version; this number is what protects everything
// else.)
const LayerCacheVersion = 1

// CacheKey identifies the files that Catalogers(mode, …) and OS detection
// want and what is kept of them, for layerfs.Options.CacheKey. Options do
// not change what is wanted.
func CacheKey(mode Mode) string {
	var names []string
	for _, c := range Catalogers(mode, Options{}) {
		names = append(names, c.Name())
	}
	return fmt.Sprintf("catalogers v%d mode %d: %s", LayerCacheVersion, mode, strings.Join(names, ","))
}

// Options configure the catalogers that take options. The zero value
// reads only the scanned tree.
type Options struct {
	// Maven says where the parent POMs and imported BOMs that are not in
	// the scanned tree are looked for (a local repository, and a remote
	// one when network resolution is allowed).
	Maven maven.Options
}

// Catalogers returns the catalogers for mode, OS package catalogers first.
func Catalogers(mode Mode, opts Options) []catalog.Cataloger {
	cats := []catalog.Cataloger{
		apk.New(),
		dpkg.New(),
		rpm.New(),
		node.New(),
		python.New(),
		gobinary.New(),
		gomod.New(),
		java.New(),
		maven.New(opts.Maven),
		gradle.New(),
		rust.New(),
		rustbinary.New(),
		php.New(),
		ruby.New(),
		dotnet.New(),
	}
	skip := isLockfile
	if mode == Project {
		skip = isInstalled
	}
	for i, c := range cats {
		cats[i] = filtered{Cataloger: c, skip: skip}
	}
	return cats
}

// filtered hides some of a cataloger's inputs.
type filtered struct {
	catalog.Cataloger
	skip func(path string, mode fs.FileMode) bool
}

func (f filtered) Wants(path string, mode fs.FileMode, size int64) bool {
	return !f.skip(path, mode) && f.Cataloger.Wants(path, mode, size)
}

// Condense passes on the cataloger's condenser, if it has one.
func (f filtered) Condense(path string, mode fs.FileMode, size int64) catalog.CondenseFunc {
	if c, ok := f.Cataloger.(catalog.Condenser); ok {
		return c.Condense(path, mode, size)
	}
	return nil
}

// Inputs passes on the cataloger's catalog.FileInputs, if it has one
// (naming a file that the filter hides does no harm: inputs may be more
// than the files read).
func (f filtered) Inputs(filePath string) ([]string, bool) {
	if c, ok := f.Cataloger.(catalog.FileInputs); ok {
		return c.Inputs(filePath)
	}
	return nil, false
}

// Class lets catalog.Run order OS catalogers first.
func (f filtered) Class() string {
	if c, ok := f.Cataloger.(interface{ Class() string }); ok {
		return c.Class()
	}
	return ""
}

func base(p string) string { return p[strings.LastIndexByte(p, '/')+1:] }

// isLockfile reports project lockfiles and manifests.
func isLockfile(p string, _ fs.FileMode) bool {
	switch b := base(p); b {
	case "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "Pipfile.lock", "poetry.lock", "uv.lock", "go.mod", "go.sum", "composer.lock", "Gemfile.lock",
		"packages.lock.json", "packages.config", "Directory.Packages.props", "Packages.props",
		"pyproject.toml", "Pipfile", "requirements.in", "Cargo.toml", "Gemfile", "composer.json", "pom.xml":
		return true
	case "package.json":
		return !strings.Contains(p, "node_modules/")
	case "gradle.lockfile", "buildscript-gradle.lockfile", "build.gradle", "build.gradle.kts", "settings.gradle", "settings.gradle.kts":
		return true
	default:
		return strings.HasPrefix(b, "requirements") && strings.HasSuffix(b, ".txt") ||
			strings.HasPrefix(b, "pylock.") && strings.HasSuffix(b, ".toml") ||
			strings.HasSuffix(b, ".versions.toml") || strings.HasSuffix(b, ".lockfile")
	}
}

// isInstalled reports installed-package metadata and binaries.
func isInstalled(p string, mode fs.FileMode) bool {
	if mode&0o111 != 0 && mode.IsRegular() {
		return true // executables: Go and Rust binaries
	}
	return strings.Contains(p, "node_modules/") ||
		strings.Contains(p, ".dist-info/") || strings.Contains(p, ".egg-info") || strings.Contains(p, "EGG-INFO/") || strings.HasSuffix(p, ".egg") ||
		strings.HasSuffix(p, "vendor/composer/installed.json") ||
		(strings.Contains(p, "specifications/") && strings.HasSuffix(p, ".gemspec")) ||
		strings.HasSuffix(p, ".deps.json")
}
