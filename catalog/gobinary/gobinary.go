// Package gobinary catalogs the modules compiled into Go executables, read
// from the build information the Go linker embeds (debug/buildinfo).
//
// Each binary is one result, target the binary's path, type "gobinary".
// It lists the main module (unless its version is "(devel)"), every
// dependency module (after replacements: a module replaced by a local
// directory has no version and is left out), and the Go toolchain as the
// package "stdlib" with a semver version ("go1.22.3" → "v1.22.3") so that
// standard-library advisories match.
//
// The input may be the executable itself or its condensed form, which
// Summarize produces and Condense (catalog.Condenser) streams: the text
// that debug/buildinfo's BuildInfo.String returns plus the binary's
// symbol names. Each package carries the binary's symbols
// (inventory.Package.Symbols) for the matcher's reachability check;
// docs/reachability.md tells how that is decided.
package gobinary

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"errors"
	"io"
	"io/fs"
	"path"
	"runtime/debug"
	"strings"

	packageurl "github.com/package-url/packageurl-go"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/catalog/internal/langpkg"
	"github.com/vigil-scanner/vigil/inventory"
)

// Type is the result type, as Trivy names it.
const Type = "gobinary"

const (
	// minSize is the smallest executable considered: a Go binary holds
	// the runtime and is never this small.
	minSize = 256 << 10
	// maxSize is the largest executable read into memory whole, when the
	// file system cannot serve random access.
	maxSize = 512 << 20
	// maxSummary bounds a condensed build-info text.
	maxSummary = 16 << 20
)

// Cataloger finds Go modules in executables. The zero value is ready.
type Cataloger struct{}

// New returns a Go binary cataloger.
func New() Cataloger { return Cataloger{} }

// Name implements catalog.Cataloger.
func (Cataloger) Name() string { return "gobinary" }

// Wants implements catalog.Cataloger: executable regular files between
// 256 KiB and 512 MiB.
func (Cataloger) Wants(_ string, mode fs.FileMode, size int64) bool {
	return mode.IsRegular() && mode&0o111 != 0 && size >= minSize && size <= maxSize
}

// Catalog implements catalog.Cataloger. Files that are no Go executable
// are skipped silently: most executables are not written in Go. Files
// are recognised by content, so a condensed summary stored under the
// binary's path (whatever its size and mode) is read as well.
func (c Cataloger) Catalog(ctx context.Context, fsys fs.FS, env catalog.Env) ([]inventory.Result, error) {
	var results []inventory.Result
	err := langpkg.Walk(ctx, fsys, env, "gobinary", func(p string) error {
		if env.OwnedByOS(p) {
			return nil
		}
		bi, syms, err := readBuildInfo(fsys, p)
		switch {
		case errors.Is(err, errNotGo):
			return nil
		case err != nil:
			env.Warn(p, "gobinary: cannot read build info", err)
			return nil
		}
		pkgs := Packages(bi, p)
		for i := range pkgs {
			pkgs[i].Symbols = syms
		}
		results = append(results, langpkg.Result(p, Type, pkgs)...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	langpkg.SortResults(results)
	return results, nil
}

var errNotGo = errors.New("not a Go executable")

// readBuildInfo reads the build information of the executable or
// summary at p, and its symbols in the vulnerability database's form (nil
// when they cannot be read).
func readBuildInfo(fsys fs.FS, p string) (*debug.BuildInfo, map[string]bool, error) {
	f, err := fsys.Open(p)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	var head [8]byte
	n, _ := io.ReadFull(f, head[:])
	if isSummary(head[:n]) {
		b, err := langpkg.ReadFile(fsys, p, maxSummary)
		if err != nil {
			return nil, nil, err
		}
		return parseSummary(string(b))
	}
	if !isExecutable(head[:n]) {
		return nil, nil, errNotGo
	}
	var r io.ReaderAt
	if ra, ok := f.(io.ReaderAt); ok {
		r = ra
	} else {
		b, err := langpkg.ReadFile(fsys, p, maxSize)
		if err != nil {
			return nil, nil, err
		}
		r = bytes.NewReader(b)
	}
	bi, err := readInfo(r)
	if err != nil {
		return nil, nil, err
	}
	var syms map[string]bool
	if raw, err := Symbols(r); err == nil {
		syms = vulnSymbols(raw, bi)
	}
	return bi, syms, nil
}

// readInfo reads build information, returning errNotGo for files that
// are no Go executable.
func readInfo(r io.ReaderAt) (*debug.BuildInfo, error) {
	bi, err := buildinfo.Read(r)
	if err != nil {
		// buildinfo says "not a Go executable" for binaries without
		// build info; anything else is worth a warning only when the
		// file really is one.
		if strings.Contains(err.Error(), "not a Go executable") || strings.Contains(err.Error(), "unrecognized file format") {
			return nil, errNotGo
		}
		return nil, err
	}
	return bi, nil
}

// isSummary reports whether head starts a BuildInfo.String text.
func isSummary(head []byte) bool {
	return bytes.HasPrefix(head, []byte("go\tgo")) || bytes.HasPrefix(head, []byte("path\t")) || bytes.HasPrefix(head, []byte("go\tdevel"))
}

// isExecutable recognises ELF, PE, Mach-O and XCOFF magic numbers.
func isExecutable(head []byte) bool {
	if len(head) < 4 {
		return false
	}
	switch {
	case bytes.HasPrefix(head, []byte("\x7fELF")), bytes.HasPrefix(head, []byte("MZ")):
		return true
	case bytes.HasPrefix(head, []byte{0xfe, 0xed, 0xfa}), bytes.HasPrefix(head, []byte{0xce, 0xfa, 0xed, 0xfe}), bytes.HasPrefix(head, []byte{0xcf, 0xfa, 0xed, 0xfe}):
		return true
	case bytes.HasPrefix(head, []byte{0x01, 0xdf}), bytes.HasPrefix(head, []byte{0x01, 0xf7}):
		return true
	}
	return false
}

// Packages turns build information into packages; file is the binary's
// path, recorded as each package's FilePath.
func Packages(bi *debug.BuildInfo, file string) []inventory.Package {
	var pkgs []inventory.Package
	var depIDs []string
	for _, dep := range bi.Deps {
		m := dep
		if dep.Replace != nil {
			m = dep.Replace
		}
		if m.Path == "" || m.Version == "" || m.Version == "(devel)" {
			continue // nothing to name or match (a forged build info)
		}
		p := newPackage(m.Path, m.Version, file)
		depIDs = append(depIDs, p.ID)
		pkgs = append(pkgs, p)
	}
	if v := stdlibVersion(bi.GoVersion); v != "" {
		p := newPackage("stdlib", v, file)
		depIDs = append(depIDs, p.ID)
		pkgs = append(pkgs, p)
	}
	if bi.Main.Path != "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		p := newPackage(bi.Main.Path, bi.Main.Version, file)
		p.DependsOn = depIDs
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func newPackage(modPath, version, file string) inventory.Package {
	ns, name := path.Split(modPath)
	return inventory.Package{
		ID:       langpkg.ID(modPath, version),
		Name:     modPath,
		Version:  version,
		Purl:     langpkg.Purl(packageurl.TypeGolang, strings.TrimSuffix(ns, "/"), name, version),
		FilePath: file,
	}
}

// stdlibVersion converts a toolchain version to the semver form used by
// the Go vulnerability database: go1.22.3 → v1.22.3, go1.21 → v1.21.0,
// go1.21rc2 → v1.21.0-rc.2. Experiments (" X:…") and suffixes after '-'
// are dropped; "devel" toolchains return "".
func stdlibVersion(goVersion string) string {
	v, ok := strings.CutPrefix(goVersion, "go")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(v, " -+"); i >= 0 {
		v = v[:i]
	}
	pre := ""
	for _, tag := range []string{"rc", "beta", "alpha"} {
		if i := strings.Index(v, tag); i > 0 {
			pre = "-" + tag + "." + v[i+len(tag):]
			v = v[:i]
			break
		}
	}
	parts := strings.Split(v, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return ""
	}
	for _, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return ""
		}
	}
	if len(parts) == 2 {
		parts = append(parts, "0")
	}
	return "v" + strings.Join(parts, ".") + pre
}

// Inputs implements catalog.FileInputs: a binary's packages are read from
// the binary alone.
func (Cataloger) Inputs(filePath string) ([]string, bool) { return []string{filePath}, true }
