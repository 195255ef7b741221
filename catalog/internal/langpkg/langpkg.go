// Package langpkg holds the small helpers shared by the language-package
// catalogers: the walk over their files, bounded file reads, package URLs,
// and the final tidy-up of a result (deduplication and stable ordering).
package langpkg

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"

	packageurl "github.com/package-url/packageurl-go"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/inventory"
)

// Walk calls fn with the path of each regular file of fsys, in lexical
// order. A directory that cannot be read is a warning through env
// ("<name>: cannot walk") and is skipped; the walk stops when ctx is done
// or fn returns an error, and returns that error.
func Walk(ctx context.Context, fsys fs.FS, env catalog.Env, name string, fn func(p string) error) error {
	return fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			env.Warn(p, name+": cannot walk", err)
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		return fn(p)
	})
}

// ErrTooLarge is returned by ReadFile when a file exceeds its size limit.
var ErrTooLarge = errors.New("file too large")

// ReadFile reads the file at name from fsys, refusing files larger than
// limit bytes.
func ReadFile(fsys fs.FS, name string, limit int64) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > limit {
		return nil, fmt.Errorf("%s: %w (%d bytes, limit %d)", name, ErrTooLarge, st.Size(), limit)
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: %w (limit %d)", name, ErrTooLarge, limit)
	}
	return b, nil
}

// Purl returns the canonical package URL, normalised per the purl
// specification for the type (lower-cased PyPI names with '_' as '-', …),
// or "" when the parts do not form a valid purl.
func Purl(typ, namespace, name, version string) string {
	if name == "" {
		return ""
	}
	p := packageurl.NewPackageURL(typ, namespace, name, version, nil, "")
	if err := p.Normalize(); err != nil {
		return ""
	}
	return p.ToString()
}

// NpmPurl returns the purl of an npm package named as npm writes it
// ("@scope/name" or "name").
func NpmPurl(name, version string) string {
	ns, n := "", name
	if strings.HasPrefix(name, "@") {
		if i := strings.IndexByte(name, '/'); i > 0 {
			ns, n = name[:i], name[i+1:]
		}
	}
	return Purl(packageurl.TypeNPM, ns, n, version)
}

// MavenPackage is the package of a Maven artifact, named
// "group:artifact" as Maven advisories name it.
func MavenPackage(group, artifact, version string) inventory.Package {
	name := group + ":" + artifact
	return inventory.Package{
		ID:      ID(name, version),
		Name:    name,
		Version: version,
		Purl:    Purl(packageurl.TypeMaven, group, artifact, version),
	}
}

// ID is the package identifier used in DependsOn: "name@version".
func ID(name, version string) string { return name + "@" + version }

// Finish tidies the packages of one result: packages with the same ID are
// merged (Root is set if set on any copy, Dev and Indirect stay set only
// if set on every copy, DependsOn is united), DependsOn lists are sorted
// and deduplicated, and the packages are ordered by name, version and file
// path.
func Finish(pkgs []inventory.Package) []inventory.Package {
	if len(pkgs) == 0 {
		return nil
	}
	byKey := make(map[string]int, len(pkgs))
	out := pkgs[:0:0]
	for _, p := range pkgs {
		key := p.ID + "\x00" + p.FilePath
		if p.ID == "" {
			key = ID(p.Name, p.Version) + "\x00" + p.FilePath
		}
		i, ok := byKey[key]
		if !ok {
			byKey[key] = len(out)
			out = append(out, p)
			continue
		}
		q := &out[i]
		q.Root = q.Root || p.Root
		q.Dev = q.Dev && p.Dev
		q.Indirect = q.Indirect && p.Indirect
		if q.Origin == "" {
			q.Origin = p.Origin
		}
		q.DependsOn = append(q.DependsOn, p.DependsOn...)
		if len(q.Licenses) == 0 {
			q.Licenses = p.Licenses
		}
	}
	for i := range out {
		d := out[i].DependsOn
		if len(d) == 0 {
			out[i].DependsOn = nil
			continue
		}
		slices.Sort(d)
		d = slices.Compact(d)
		// A package never depends on itself.
		d = slices.DeleteFunc(d, func(s string) bool { return s == out[i].ID })
		if len(d) == 0 {
			d = nil
		}
		out[i].DependsOn = d
	}
	slices.SortFunc(out, func(a, b inventory.Package) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Version, b.Version), cmp.Compare(a.FilePath, b.FilePath))
	})
	return out
}

// Result builds a lang-pkgs result, or returns nil when pkgs is empty.
func Result(target, typ string, pkgs []inventory.Package) []inventory.Result {
	pkgs = Finish(pkgs)
	if len(pkgs) == 0 {
		return nil
	}
	return []inventory.Result{{Target: target, Class: inventory.ClassLangPkgs, Type: typ, Packages: pkgs}}
}

// SortResults orders results by target, then type.
func SortResults(rs []inventory.Result) {
	slices.SortFunc(rs, func(a, b inventory.Result) int {
		return cmp.Or(cmp.Compare(a.Target, b.Target), cmp.Compare(a.Type, b.Type))
	})
}

// Base returns the last element of a slash-separated path without
// allocating.
func Base(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// Dir returns everything before the last slash of p ("" for a bare name),
// without allocating.
func Dir(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return ""
}

// Join joins a directory from Dir with a name.
func Join(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}
