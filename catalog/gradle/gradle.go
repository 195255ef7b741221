// Package gradle catalogs the dependencies of Gradle builds: dependency
// lock files (gradle.lockfile, buildscript-gradle.lockfile and the older
// gradle/dependency-locks/*.lockfile) and version catalogs
// (gradle/libs.versions.toml and other *.versions.toml under gradle/).
//
// Each file is one result, target its path, type "gradle".
//
// A lock file lists every resolved module with the configurations that
// resolve it; a module is Dev when all of them are test configurations
// (their name starts with "test" or holds "Test"), and every module of
// buildscript-gradle.lockfile (the build's own classpath) is Dev. When a
// build script sits beside the lock file (build.gradle or
// build.gradle.kts), the project is the root, depending on the modules the
// script declares (string notation "group:name:version", map notation,
// and version catalog accessors libs.x.y); the other modules are
// Indirect. Build scripts are read statically, never run.
//
// A version catalog declares libraries: each with a version (literal,
// version.ref, or a rich version's strictly, require or prefer) is
// reported; one without (managed by a platform) is reported without a
// version and named in a warning, never guessed.
package gradle

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/catalog/internal/langpkg"
	"github.com/vigil-scanner/vigil/inventory"
)

// Type is the result type, as Trivy names it.
const Type = "gradle"

const maxFile = 16 << 20

// Cataloger finds Gradle dependencies. The zero value is ready.
type Cataloger struct{}

// New returns a Gradle cataloger.
func New() Cataloger { return Cataloger{} }

// Name implements catalog.Cataloger.
func (Cataloger) Name() string { return "gradle" }

type fileKind int

const (
	kindNone fileKind = iota
	kindLock
	kindBuildscriptLock
	kindCatalog
	kindScript
	kindSettings
)

func kind(p string) fileKind {
	b := langpkg.Base(p)
	switch b {
	case "gradle.lockfile":
		return kindLock
	case "buildscript-gradle.lockfile":
		return kindBuildscriptLock
	case "build.gradle", "build.gradle.kts":
		return kindScript
	case "settings.gradle", "settings.gradle.kts":
		return kindSettings
	}
	dir := langpkg.Dir(p)
	switch {
	case strings.HasSuffix(b, ".versions.toml") && (dir == "gradle" || strings.HasSuffix(dir, "/gradle")):
		return kindCatalog
	case strings.HasSuffix(b, ".lockfile") && (dir == "gradle/dependency-locks" || strings.HasSuffix(dir, "/gradle/dependency-locks")):
		if strings.HasPrefix(b, "buildscript-") {
			return kindBuildscriptLock
		}
		return kindLock
	}
	return kindNone
}

// Wants implements catalog.Cataloger.
func (Cataloger) Wants(p string, mode fs.FileMode, size int64) bool {
	return mode.IsRegular() && size <= maxFile && kind(p) != kindNone &&
		!strings.Contains(p, "/build/") && !strings.HasPrefix(p, "build/")
}

// Catalog implements catalog.Cataloger.
func (c Cataloger) Catalog(ctx context.Context, fsys fs.FS, env catalog.Env) ([]inventory.Result, error) {
	var files []string
	err := langpkg.Walk(ctx, fsys, env, "gradle", func(p string) error {
		if kind(p) != kindNone {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// The version catalogs, for the libs.x.y accessors of build scripts.
	aliases := map[string]string{} // normalised alias → group:name
	var results []inventory.Result
	for _, p := range files {
		if kind(p) != kindCatalog {
			continue
		}
		b, err := langpkg.ReadFile(fsys, p, maxFile)
		if err != nil {
			env.Warn(p, "gradle: cannot read", err)
			continue
		}
		pkgs, names, unresolved, err := parseCatalog(b)
		if err != nil {
			env.Warn(p, "gradle: malformed version catalog", err)
			continue
		}
		for a, n := range names {
			aliases[a] = n
		}
		if len(unresolved) > 0 {
			env.Warn(p, "gradle: unresolved versions", fmt.Errorf("%d libraries declare no version the catalog resolves (a platform may manage it) and are reported without one: %s",
				len(unresolved), strings.Join(unresolved, ", ")))
		}
		for i := range pkgs {
			pkgs[i].FilePath = p
		}
		results = append(results, langpkg.Result(p, Type, pkgs)...)
	}
	for _, p := range files {
		k := kind(p)
		if k != kindLock && k != kindBuildscriptLock {
			continue
		}
		b, err := langpkg.ReadFile(fsys, p, maxFile)
		if err != nil {
			env.Warn(p, "gradle: cannot read", err)
			continue
		}
		pkgs, err := parseLockfile(b, k == kindBuildscriptLock)
		if err != nil {
			env.Warn(p, "gradle: malformed lock file", err)
			continue
		}
		if k == kindLock {
			pkgs = withProject(fsys, p, pkgs, aliases, env)
		}
		for i := range pkgs {
			pkgs[i].FilePath = p
		}
		results = append(results, langpkg.Result(p, Type, pkgs)...)
	}
	langpkg.SortResults(results)
	return results, nil
}

// testConfiguration reports a configuration of a test source set.
func testConfiguration(c string) bool {
	return strings.HasPrefix(c, "test") || strings.Contains(c, "Test")
}

// parseLockfile reads a Gradle lock file: "group:name:version=conf1,conf2"
// lines (the older per-configuration files have no "="), "empty=" and
// comments skipped. buildscript marks every module Dev.
func parseLockfile(b []byte, buildscript bool) ([]inventory.Package, error) {
	var pkgs []inventory.Package
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || strings.HasPrefix(line, "empty=") {
			continue
		}
		coords, confs, _ := strings.Cut(line, "=")
		parts := strings.Split(coords, ":")
		if len(parts) < 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
			return nil, fmt.Errorf("line %d: %q is no group:name:version", lineNo, line)
		}
		p := langpkg.MavenPackage(parts[0], parts[1], parts[2])
		p.Dev = buildscript
		if !buildscript && confs != "" {
			p.Dev = true
			for _, c := range strings.Split(confs, ",") {
				if c = strings.TrimSpace(c); c != "" && !testConfiguration(c) {
					p.Dev = false
				}
			}
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, sc.Err()
}

// withProject adds the project as the root when a build script sits
// beside the lock file: it depends on the modules the script declares.
func withProject(fsys fs.FS, lock string, pkgs []inventory.Package, aliases map[string]string, env catalog.Env) []inventory.Package {
	dir := langpkg.Dir(lock)
	var script []byte
	for _, n := range []string{"build.gradle.kts", "build.gradle"} {
		b, err := langpkg.ReadFile(fsys, langpkg.Join(dir, n), maxFile)
		if err == nil {
			script = b
			break
		}
	}
	if script == nil {
		return pkgs
	}
	name := cmp.Or(langpkg.Base(dir), ".")
	for _, n := range []string{"settings.gradle.kts", "settings.gradle"} {
		if b, err := langpkg.ReadFile(fsys, langpkg.Join(dir, n), maxFile); err == nil {
			if m := rootProjectRe.FindSubmatch(b); m != nil {
				name = string(m[1])
			}
			break
		}
	}
	declared := parseScript(script, aliases)
	recorded := make([]bool, len(pkgs))
	var run, dev []string
	for i, p := range pkgs {
		recorded[i] = p.Dev
		if isDev, ok := declared[p.Name]; ok {
			if isDev {
				dev = append(dev, p.ID)
			} else {
				run = append(run, p.ID)
			}
		}
	}
	pkgs = append(pkgs, langpkg.Project("", name, "", name, append(append([]string(nil), run...), dev...)))
	langpkg.Scope(pkgs, run, dev)
	// The lock file's configurations say what is dev; the script which
	// modules are direct.
	for i := range recorded {
		pkgs[i].Dev = recorded[i]
	}
	return pkgs
}

var (
	rootProjectRe = regexp.MustCompile(`rootProject\.name\s*=\s*["']([^"']+)["']`)
	// implementation("g:a:v"), testImplementation 'g:a', api(platform("g:a:v"))
	stringDepRe = regexp.MustCompile(`\b([A-Za-z]+)\s*\(?\s*(?:(?:enforcedPlatform|platform|kotlin)\s*\(\s*)?["']([^"':$]+):([^"':$]+)(?::[^"']*)?["']`)
	// implementation group: 'g', name: 'a', version: 'v'
	mapDepRe = regexp.MustCompile(`\b([A-Za-z]+)\s*\(?\s*group\s*[:=]\s*["']([^"']+)["']\s*,\s*name\s*[:=]\s*["']([^"']+)["']`)
	// implementation(libs.spring.boot.starter)
	catalogDepRe = regexp.MustCompile(`\b([A-Za-z]+)\s*\(?\s*(?:(?:enforcedPlatform|platform)\s*\(\s*)?libs\.([A-Za-z0-9_.]+)`)
)

// dependencyConfiguration reports a name that declares dependencies
// (implementation, api, runtimeOnly, testImplementation, …), as opposed to
// other calls that take strings.
func dependencyConfiguration(c string) bool {
	switch c {
	case "implementation", "api", "compileOnly", "runtimeOnly", "compile", "runtime", "annotationProcessor", "kapt", "ksp", "classpath":
		return true
	}
	return strings.HasSuffix(c, "Implementation") || strings.HasSuffix(c, "Api") || strings.HasSuffix(c, "CompileOnly") ||
		strings.HasSuffix(c, "RuntimeOnly") || strings.HasSuffix(c, "AnnotationProcessor")
}

// parseScript returns the modules a build script declares (group:name →
// declared only in test configurations).
func parseScript(b []byte, aliases map[string]string) map[string]bool {
	out := map[string]bool{}
	add := func(conf, module string) {
		if !dependencyConfiguration(conf) {
			return
		}
		isDev := testConfiguration(conf)
		if prev, ok := out[module]; ok {
			isDev = isDev && prev
		}
		out[module] = isDev
	}
	for _, m := range stringDepRe.FindAllSubmatch(b, -1) {
		add(string(m[1]), string(m[2])+":"+string(m[3]))
	}
	for _, m := range mapDepRe.FindAllSubmatch(b, -1) {
		add(string(m[1]), string(m[2])+":"+string(m[3]))
	}
	for _, m := range catalogDepRe.FindAllSubmatch(b, -1) {
		if module, ok := aliases[normalizeAlias(string(m[2]))]; ok {
			add(string(m[1]), module)
		}
	}
	return out
}

// normalizeAlias writes a catalog alias as its accessor does: "-", "_"
// and "." all separate, so "spring-boot_starter" is libs.spring.boot.starter.
func normalizeAlias(a string) string {
	return strings.NewReplacer("-", ".", "_", ".").Replace(strings.ToLower(a))
}

// parseCatalog reads a version catalog: its libraries, the group:name of
// each alias, and the libraries whose version it does not resolve.
func parseCatalog(b []byte) (pkgs []inventory.Package, aliases map[string]string, unresolved []string, err error) {
	var vc struct {
		Versions  map[string]any `toml:"versions"`
		Libraries map[string]any `toml:"libraries"`
	}
	if _, err := toml.Decode(string(b), &vc); err != nil {
		return nil, nil, nil, err
	}
	aliases = map[string]string{}
	for _, alias := range slices.Sorted(func(yield func(string) bool) {
		for k := range vc.Libraries {
			if !yield(k) {
				return
			}
		}
	}) {
		group, name, version := library(vc.Libraries[alias], vc.Versions)
		if group == "" || name == "" {
			continue
		}
		aliases[normalizeAlias(alias)] = group + ":" + name
		if version == "" {
			unresolved = append(unresolved, group+":"+name)
		}
		pkgs = append(pkgs, langpkg.MavenPackage(group, name, version))
	}
	return pkgs, aliases, unresolved, nil
}

// library reads one [libraries] entry: "group:name:version", or a table
// with module or group and name, and version (a string, a {ref=…} or a
// rich version) or version.ref.
func library(v any, versions map[string]any) (group, name, version string) {
	switch e := v.(type) {
	case string:
		parts := strings.Split(e, ":")
		if len(parts) < 2 {
			return "", "", ""
		}
		if len(parts) >= 3 {
			version = parts[2]
		}
		return parts[0], parts[1], plain(version)
	case map[string]any:
		if m, ok := e["module"].(string); ok {
			group, name, _ = strings.Cut(m, ":")
		} else {
			group, _ = e["group"].(string)
			name, _ = e["name"].(string)
		}
		switch ver := e["version"].(type) {
		case string:
			version = ver
		case map[string]any:
			if ref, ok := ver["ref"].(string); ok {
				version = versionValue(versions[ref])
			} else {
				version = versionValue(ver)
			}
		}
		return group, name, plain(version)
	}
	return "", "", ""
}

// versionValue reads a [versions] value: a string, or a rich version
// (strictly, then require, then prefer).
func versionValue(v any) string {
	switch e := v.(type) {
	case string:
		return e
	case map[string]any:
		for _, k := range []string{"strictly", "require", "prefer"} {
			if s, ok := e[k].(string); ok && s != "" {
				return s
			}
		}
	}
	return ""
}

// plain keeps a version that names one release: no range, no dynamic
// "1.+", no "latest.release".
func plain(v string) string {
	v = strings.TrimSpace(v)
	if v == "" || strings.ContainsAny(v, "[](),+* ") || strings.HasPrefix(v, "latest.") {
		return ""
	}
	return v
}
