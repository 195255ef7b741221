// Package java catalogs Java archives (.jar, .war, .ear, .par), including
// archives nested inside them (WEB-INF/lib, BOOT-INF/lib, …).
//
// An archive is identified by each META-INF/maven/**/pom.properties it
// holds (groupId, artifactId, version; a fat jar holds several), else by
// META-INF/MANIFEST.MF (Implementation-* or Bundle-* attributes), else by
// its file name ("name-1.2.3.jar"). Installed archives are grouped into
// one result, target "Java", type "jar"; each package's FilePath names the
// archive, nested ones as "outer.war/WEB-INF/lib/inner.jar".
//
// Reads are bounded: nesting depth, the size of each nested archive, the
// bytes decompressed per top-level archive, and the number of entries.
// Exceeding a bound skips the entry with a warning naming the archive and
// entry, and the scan goes on.
package java

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"strconv"
	"strings"

	packageurl "github.com/package-url/packageurl-go"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/catalog/internal/langpkg"
	"github.com/vigil-scanner/vigil/inventory"
)

// Type is the result type, as Trivy names it.
const Type = "jar"

// Target is the target of the result holding Java packages.
const Target = "Java"

// Limits bound the work done on one top-level archive.
type Limits struct {
	MaxArchive int64 // largest top-level archive read
	MaxDepth   int   // nesting depth followed (the top level is depth 0)
	MaxNested  int64 // largest nested archive decompressed
	MaxTotal   int64 // bytes decompressed per top-level archive
	MaxEntries int   // entries per archive
	MaxMeta    int64 // largest pom.properties or MANIFEST.MF read
}

// DefaultLimits returns the limits New uses.
func DefaultLimits() Limits {
	return Limits{
		MaxArchive: 1 << 30,
		MaxDepth:   3,
		MaxNested:  256 << 20,
		MaxTotal:   1 << 30,
		MaxEntries: 200000,
		MaxMeta:    1 << 20,
	}
}

// Cataloger finds Java packages in archives.
type Cataloger struct {
	limits Limits
}

// New returns a Java cataloger with DefaultLimits.
func New() Cataloger { return Cataloger{limits: DefaultLimits()} }

// NewWithLimits returns a Java cataloger with the given limits.
func NewWithLimits(l Limits) Cataloger { return Cataloger{limits: l} }

// Name implements catalog.Cataloger.
func (Cataloger) Name() string { return "java" }

// Wants implements catalog.Cataloger.
func (c Cataloger) Wants(p string, mode fs.FileMode, size int64) bool {
	return mode.IsRegular() && size <= c.limits.MaxArchive && isArchive(p)
}

func isArchive(name string) bool {
	for _, ext := range []string{".jar", ".war", ".ear", ".par", ".JAR", ".WAR", ".EAR"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

// Catalog implements catalog.Cataloger.
func (c Cataloger) Catalog(ctx context.Context, fsys fs.FS, env catalog.Env) ([]inventory.Result, error) {
	var pkgs []inventory.Package
	err := langpkg.Walk(ctx, fsys, env, "java", func(p string) error {
		if !isArchive(p) || env.OwnedByOS(p) {
			return nil
		}
		b, err := langpkg.ReadFile(fsys, p, c.limits.MaxArchive)
		if err != nil {
			env.Warn(p, "java: cannot read archive", err)
			return nil
		}
		s := &scan{limits: c.limits, env: env, budget: c.limits.MaxTotal}
		pkgs = append(pkgs, s.archive(ctx, p, b, 0)...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return langpkg.Result(Target, Type, pkgs), nil
}

type scan struct {
	limits Limits
	env    catalog.Env
	budget int64 // bytes still allowed to be decompressed
}

func (s *scan) warn(msg, archive, entry string, err error) {
	if entry != "" {
		msg += " (entry " + strconv.Quote(entry) + ")"
	}
	s.env.Warn(archive, "java: "+msg, err)
}

// read decompresses one entry within the limits.
func (s *scan) read(archive string, f *zip.File, limit int64) ([]byte, bool) {
	if f.UncompressedSize64 > uint64(limit) || int64(f.UncompressedSize64) > s.budget {
		s.warn("entry too large, skipped", archive, f.Name, fmt.Errorf("%d bytes uncompressed", f.UncompressedSize64))
		return nil, false
	}
	rc, err := f.Open()
	if err != nil {
		s.warn("cannot open entry", archive, f.Name, err)
		return nil, false
	}
	defer rc.Close()
	max := min(limit, s.budget)
	b, err := io.ReadAll(io.LimitReader(rc, max+1))
	s.budget -= int64(len(b))
	if err != nil {
		s.warn("cannot read entry", archive, f.Name, err)
		return nil, false
	}
	if int64(len(b)) > max {
		s.warn("entry larger than declared (zip bomb?), skipped", archive, f.Name, nil)
		return nil, false
	}
	return b, true
}

// archive returns the packages of the archive at path p with content b.
func (s *scan) archive(ctx context.Context, p string, b []byte, depth int) []inventory.Package {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		s.warn("not a zip archive", p, "", err)
		return nil
	}
	if len(zr.File) > s.limits.MaxEntries {
		s.warn("too many entries, skipped", p, "", fmt.Errorf("%d entries", len(zr.File)))
		return nil
	}
	var (
		pkgs     []inventory.Package
		manifest map[string]string
	)
	for _, f := range zr.File {
		if ctx.Err() != nil {
			return nil
		}
		name := f.Name
		switch {
		case strings.HasPrefix(name, "META-INF/maven/") && strings.HasSuffix(name, "/pom.properties"):
			data, ok := s.read(p, f, s.limits.MaxMeta)
			if !ok {
				continue
			}
			props := parseProperties(data)
			g, a, v := props["groupId"], props["artifactId"], props["version"]
			if g != "" && a != "" && v != "" {
				pkgs = append(pkgs, newPackage(g, a, v, p))
			}
		case name == "META-INF/MANIFEST.MF":
			if data, ok := s.read(p, f, s.limits.MaxMeta); ok {
				manifest = parseManifest(data)
			}
		case isArchive(name) && !f.FileInfo().IsDir():
			if depth+1 > s.limits.MaxDepth {
				s.warn("nesting too deep, skipped", p, name, nil)
				continue
			}
			data, ok := s.read(p, f, s.limits.MaxNested)
			if !ok {
				continue
			}
			pkgs = append(pkgs, s.archive(ctx, p+"/"+name, data, depth+1)...)
		}
	}
	if own := ownPackages(pkgs, p); own {
		return pkgs
	}
	if pkg, ok := fromManifest(manifest, p); ok {
		return append(pkgs, pkg)
	}
	if a, v, ok := fromFileName(p); ok {
		return append(pkgs, newPackage("", a, v, p))
	}
	return pkgs
}

// ownPackages reports whether pkgs include a pom.properties read from the
// archive at p itself (not from a nested archive).
func ownPackages(pkgs []inventory.Package, p string) bool {
	for _, pkg := range pkgs {
		if pkg.FilePath == p {
			return true
		}
	}
	return false
}

func newPackage(group, artifact, version, file string) inventory.Package {
	name := artifact
	if group != "" {
		name = group + ":" + artifact
	}
	return inventory.Package{
		ID:       langpkg.ID(name, version),
		Name:     name,
		Version:  version,
		Purl:     langpkg.Purl(packageurl.TypeMaven, group, artifact, version),
		FilePath: file,
	}
}

// parseProperties reads Java properties "key=value" (or "key: value"),
// skipping comments.
func parseProperties(b []byte) map[string]string {
	props := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		i := strings.IndexAny(line, "=:")
		if i < 0 {
			continue
		}
		props[strings.TrimSpace(line[:i])] = strings.TrimSpace(line[i+1:])
	}
	return props
}

// parseManifest reads the main section of MANIFEST.MF, joining
// continuation lines (those starting with one space).
func parseManifest(b []byte) map[string]string {
	attrs := map[string]string{}
	var key string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" {
			break // end of the main section
		}
		if line[0] == ' ' {
			if key != "" && len(attrs[key]) < 64<<10 {
				attrs[key] += line[1:]
			}
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		key = strings.TrimSpace(k)
		attrs[key] = strings.TrimSpace(v)
	}
	return attrs
}

// fromManifest identifies an archive by its manifest: the artifact name
// from the file name when it parses, else Implementation-Title or
// Bundle-SymbolicName; the group from Implementation-Vendor-Id; the
// version from Implementation-Version, Bundle-Version or
// Specification-Version.
func fromManifest(m map[string]string, p string) (inventory.Package, bool) {
	if m == nil {
		return inventory.Package{}, false
	}
	version := firstOf(m, "Implementation-Version", "Bundle-Version", "Specification-Version")
	if version == "" {
		return inventory.Package{}, false
	}
	artifact, _, ok := fromFileName(p)
	if !ok {
		artifact = firstOf(m, "Implementation-Title", "Bundle-SymbolicName")
		artifact, _, _ = strings.Cut(artifact, ";") // Bundle-SymbolicName directives
		artifact = strings.ReplaceAll(strings.TrimSpace(artifact), " ", "-")
	}
	if artifact == "" {
		return inventory.Package{}, false
	}
	group := m["Implementation-Vendor-Id"]
	if strings.ContainsAny(group, " /") {
		group = ""
	}
	return newPackage(group, artifact, version, p), true
}

func firstOf(m map[string]string, keys ...string) string {
	for _, k := range keys {
		if v := m[k]; v != "" {
			return v
		}
	}
	return ""
}

// fileNameRe splits "commons-io-2.11.0.jar" into "commons-io" and
// "2.11.0": the version starts at the first "-<digit>".
var fileNameRe = regexp.MustCompile(`^([A-Za-z0-9._-]+?)-(\d[A-Za-z0-9._+-]*)\.(?:jar|war|ear|par|JAR|WAR|EAR)$`)

func fromFileName(p string) (artifact, version string, ok bool) {
	m := fileNameRe.FindStringSubmatch(langpkg.Base(p))
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

// Inputs implements catalog.FileInputs: a package is read from a top-level
// archive, which its FilePath names or begins with (a nested archive's is
// "outer.war/WEB-INF/lib/inner.jar"). Every archive name the path begins
// with is listed, since a folder may be named like an archive.
func (Cataloger) Inputs(filePath string) ([]string, bool) {
	var inputs []string
	for i := range len(filePath) {
		if filePath[i] == '/' && isArchive(filePath[:i]) {
			inputs = append(inputs, filePath[:i])
		}
	}
	if isArchive(filePath) {
		inputs = append(inputs, filePath)
	}
	return inputs, len(inputs) > 0
}
